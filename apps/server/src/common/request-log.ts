import type { FastifyInstance } from 'fastify';
import type { Logger as PinoRootLogger } from 'pino';
import type { HttpRequest } from './http-types';

/** Routes too frequent to log (probes and scrapes). */
const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One log line per answered request (`request completed`, with `requestId`,
 * `method`, `url`, `statusCode`, the API key's name `key` and `responseTime`
 * in ms), at
 * info for 2xx/3xx, warn for 4xx, error for 5xx; probes and scrapes are not
 * logged. It replaces pino-http's middleware, which built a child logger and
 * its bindings for every request whether or not the line would be written
 * (10–15 % of the server's CPU at 50 connections, docs/performance.md B5):
 * here a request whose line the level filters out costs one comparison.
 * `rootLogger`: nestjs-pino's root logger, which exists once the app is initialised.
 */
export function logRequests(fastify: FastifyInstance, rootLogger: () => PinoRootLogger): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const logger = rootLogger();
    const statusCode = reply.statusCode;
    const level = statusCode >= 500 ? 'error' : statusCode >= 400 ? 'warn' : 'info';
    if (logger.isLevelEnabled(level) && !QUIET_ROUTES.has(request.url.split('?')[0]!)) {
      const principal = (request as unknown as HttpRequest).principal;
      logger[level](
        { requestId: request.id, method: request.method, url: request.url, statusCode, ...(principal ? { key: principal.name } : {}), responseTime: Math.round(reply.elapsedTime) },
        'request completed',
      );
    }
    done();
  });
}
