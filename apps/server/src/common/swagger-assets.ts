import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

const CONTENT_TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
};

/**
 * The Swagger UI's files (swagger-ui-dist) for /docs. SwaggerModule serves
 * them through `app.useStaticAssets`, which on Fastify needs @fastify/static;
 * these few files of one flat folder do not need a dependency: this gives
 * the adapter's `useStaticAssets` a route that answers `PREFIX/FILE` with FILE of the
 * folder (a plain file name: no path can leave it), 404 for anything else.
 * Call it before `SwaggerModule.setup`.
 */
export function serveSwaggerAssets(app: NestFastifyApplication): void {
  const adapter = app.getHttpAdapter();
  const fastify = adapter.getInstance();
  adapter.useStaticAssets = ((options: { root: string; prefix?: string }) => {
    fastify.get(`${options.prefix ?? ''}/:file`, async (request, reply) => {
      const file = (request.params as { file: string }).file;
      const type = CONTENT_TYPES[extname(file)];
      if (!/^[\w.-]+$/.test(file) || file.startsWith('.') || type === undefined) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: [`${file}: no such file`] });
      try {
        const body = await readFile(join(options.root, file));
        return reply.header('content-type', type).header('cache-control', 'public, max-age=3600').send(body);
      } catch {
        return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: [`${file}: no such file`] });
      }
    });
  }) as typeof adapter.useStaticAssets;
}
