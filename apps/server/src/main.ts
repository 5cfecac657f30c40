import 'reflect-metadata';
import { VersioningType, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyServerOptions } from 'fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger, PinoLogger } from 'nestjs-pino';
import { DEFAULT_STORE_URL } from '@clearsim/store';
import { AppModule } from './app.module';
import { registerFastInputsRoute } from './clearing/fast-inputs.route';
import { ShardService } from './clearing/shard.service';
import { API_KEY_SCHEME, BEARER_SCHEME } from './common/api-responses';
import { registerJsonBody, requestIdOf } from './common/fastify-body';
import { answerClientError, answerFrameworkError, answerWhileClosing, MAX_PARAM_LENGTH } from './common/framework-errors';
import { logRequests } from './common/request-log';
import { serveSwaggerAssets } from './common/swagger-assets';
import { DEFAULT_HOST, DEFAULT_MAX_BODY_BYTES, DEFAULT_PORT, DEFAULT_REQUEST_TIMEOUT_MS, type ServerOptions } from './config/server-options';
import { serverOptionsFromEnvironment, validateServerOptions } from './config/server.config';
import { KafkaService } from './kafka/kafka.service';

export type { ServerOptions, KafkaServerOptions } from './config/server-options';
export { kafkaSettings } from './kafka/kafka.service';
export { parseApiKeys, describePrincipal, ApiKeySpecError, type ApiKey } from './auth/api-keys';


/**
 * Builds, starts and returns the clearsim service: listening on
 * `host:port`, the log opened and replayed and, with `kafka`, the shard
 * worker consuming (it rejects, after closing, if the store cannot be opened
 * or Kafka cannot be started). The CLI's `serve` and the e2e tests share it.
 */
export async function createServer(options: ServerOptions): Promise<INestApplication> {
  // before Nest: an error while it builds the modules would end the process (its abortOnError)
  validateServerOptions(options);
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // Fastify, not Express: 4–5× the requests/s of GET /healthz on this machine (docs/performance.md, B5)
  // routes as Express matched them: a trailing slash allowed, path parameters (account ids) not cut at Fastify's 100 characters
  const adapter = new FastifyAdapter({
    bodyLimit: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    genReqId: requestIdOf,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    // the refusals Fastify and Node answer before any route, in the service's error body (common/framework-errors.ts)
    frameworkErrors: answerFrameworkError as FastifyServerOptions['frameworkErrors'],
    clientErrorHandler: (error, socket) => answerClientError(error, socket, requestTimeoutMs),
    // a request (line, headers, body) not received within requestTimeoutMs is a 408 (Fastify's default is no limit: a body
    // shorter than its Content-Length held the connection forever); headers get the same bound (Node's own is 60 s),
    // and Node looks for late requests every second (its default, 30 s, would let one run 30 s over)
    requestTimeout: requestTimeoutMs,
    http: { requestTimeout: requestTimeoutMs, headersTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(1_000, Math.ceil(requestTimeoutMs / 4)) },
    return503OnClosing: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(options), adapter, { bufferLogs: true, bodyParser: false });
  try {
    app.useLogger(app.get(Logger));
    // every route: the size bound is checked as the body arrives (413), the nesting and number bounds on its text before JSON.parse (400)
    registerJsonBody(app.getHttpAdapter().getInstance());
    // a request that arrives while the server closes: the service's 503 (Fastify's return503OnClosing is off)
    answerWhileClosing(app.getHttpAdapter().getInstance());
    // before the routes are registered (listen): the plain single input skips Nest's per-request pipeline
    if (options.fastInputsRoute !== false) registerFastInputsRoute(app.getHttpAdapter().getInstance(), app);
    logRequests(app.getHttpAdapter().getInstance(), () => PinoLogger.root);
    app.enableVersioning({ type: VersioningType.URI });
    setUpOpenApi(app);
    await app.listen(options.port ?? DEFAULT_PORT, options.host ?? DEFAULT_HOST);
    await app.get(ShardService).whenReady();
    if (options.kafka) await app.get(KafkaService).start();
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  if (options.shutdownHooks !== false) app.enableShutdownHooks(['SIGINT', 'SIGTERM'], { useProcessExit: true });
  return app;
}

/** OpenAPI at /docs (UI) and /docs-json. */
function setUpOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('clearsim')
    .setDescription(
      'An event-sourced clearing simulator as a service: post input events, read accounts and decisions back, drive the simulated clock. ' +
        'Every decision is made by the same deterministic core as `clearsim run`, so the same inputs give the same decisions and outputHash. ' +
        'Authenticate with `x-api-key: KEY` (or `Authorization: Bearer KEY`). Errors: `{statusCode, error, message: ["field: problem", …]}` (plus `code` and `field` on a 409 or 422, `conflict` on an id conflict, `requestId` on a 500; every response carries an `x-request-id` header); ' +
        '400 invalid (nothing appended; also JSON nested deeper than 32 levels, a JSON number that a float64 cannot hold exactly, a decimal beyond its bounds), 401 no/unknown key, 403 outside the key\'s scope, 404 no such account, ' +
        '409 a repeat of an idempotency key with other content (docs/idempotency.md) or a conflict with the server\'s setup, 413 body larger than the limit (16 MiB by default), 422 refused by the core (with `code`), 500 internal error (with `requestId`, never details), 503 not ready. ' +
        'Every route lists the statuses it can answer, each with its body\'s schema (`ErrorResponse` for every error). ' +
        'Refusals before any route have the same `ErrorResponse` body: 404 no route for the method and path, 400 a malformed percent-encoding in the path, 414 a path segment longer than 4096 characters; ' +
        'and, closing the connection, 400 a request that is not valid HTTP/1.1 (a bad Content-Length…), 431 a request line and headers larger than 16 KiB, ' +
        'and 408 a request whose headers or body did not arrive within the request timeout (60 s by default, serve --request-timeout-ms); ' +
        'a request that arrives while the server shuts down is a 503 with Retry-After on any route.',
    )
    .setVersion('1')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'x-api-key', description: 'An API key configured with `--api-key SECRET:admin` or `SECRET:venue:PREFIX`.' }, API_KEY_SCHEME)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'The same API key as `Authorization: Bearer KEY`.' }, BEARER_SCHEME)
    .build();
  serveSwaggerAssets(app);
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config), { jsonDocumentUrl: 'docs-json' });
}

/** `node dist/apps/server/src/main.js`: configured from the environment (the CLI's `clearsim serve` is the usual way). */
async function startFromEnvironment(): Promise<void> {
  const app = await createServer(serverOptionsFromEnvironment(process.env, DEFAULT_STORE_URL));
  process.stdout.write(`clearsim serving on ${await app.getUrl()} (OpenAPI: ${await app.getUrl()}/docs)\n`);
}

if (require.main === module) {
  startFromEnvironment().catch((error: Error) => {
    process.stderr.write(`clearsim serve: ${error.message}\n`);
    process.exitCode = 1;
  });
}
