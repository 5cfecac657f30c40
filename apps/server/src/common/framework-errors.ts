import { randomUUID } from 'node:crypto';
import { maxHeaderSize, STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from '@nestjs/common';
import { quoteInput } from '@clearsim/events';
import { errorBody } from './domain-errors.filter';
import type { ErrorBody } from './http-types';

/** The longest path parameter (an account id in the URL) the router takes: past it, 414 (main.ts's routerOptions). */
export const MAX_PARAM_LENGTH = 4096;

const logger = new Logger('FrameworkErrors');

/**
 * Fastify's `frameworkErrors`: the router's refusals of a URL before any
 * route, hooks or Nest filter run. Fastify's own answers here were
 * `{error, code, message: "…"}` with `message` a string echoing the whole
 * path (5 KB of it for a long id), not the service's error body; this answers
 * them in that body (ErrorBody, as DomainErrorsFilter does) and with the
 * `x-request-id` header the onRequest hook would have set.
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id);
  const body = frameworkErrorBody(error, request, reply);
  void reply.code(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
}

function frameworkErrorBody(error: FastifyError, request: FastifyRequest, reply: FastifyReply): ErrorBody {
  const path = (request.raw.url ?? '').split('?')[0]!;
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return { statusCode: 400, error: 'Bad Request', message: [`url: ${quoteInput(path)} is not a valid URL path (a malformed percent-encoding)`] };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { statusCode: 414, error: 'URI Too Long', message: [`url: a path segment of ${quoteInput(path)} is longer than ${MAX_PARAM_LENGTH} characters`] };
    default:
      // FST_ERR_ASYNC_CONSTRAINT (no route of this server has one) or a code of a later Fastify: a 500 with its request id, logged
      // (only the id of the request: a request made before routing has no route options to read)
      return errorBody(error, { id: request.id }, reply.raw, logger);
  }
}

/** What Node's HTTP parser reports to `clientError` (Fastify's ConnectionError). */
interface ClientError extends Error {
  code?: string;
}

/**
 * Fastify's `clientErrorHandler`: Node's HTTP server refuses a connection's
 * bytes before there is a request (malformed HTTP, a bad Content-Length,
 * request line and headers past `maxHeaderSize`, a request not received in
 * time). Fastify's default wrote `{error, message: "Client Error"}` with a
 * string message; this writes the service's error body instead, with an
 * `x-request-id` (a new one: there is no request to carry the caller's), then
 * closes the connection, as Node's own handler does.
 */
export function answerClientError(error: ClientError, socket: Socket, requestTimeoutMs?: number): void {
  // a reset connection is gone: nothing to answer
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // never a second status line into a response already started on this connection
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = clientErrorBody(error, requestTimeoutMs);
    const json = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${body.statusCode} ${STATUS_CODES[body.statusCode]}\r\n` +
        `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(json)}\r\n` +
        `x-request-id: ${randomUUID()}\r\nconnection: close\r\n\r\n${json}`,
    );
  }
  socket.destroy(error);
}

export function clientErrorBody(error: ClientError, requestTimeoutMs?: number): ErrorBody {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      // Node counts the request line too: a URL of 16 KiB is refused here, not as a 414
      return { statusCode: 431, error: 'Request Header Fields Too Large', message: [`headers: the request line and headers are larger than ${maxHeaderSize} bytes`] };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { statusCode: 413, error: 'Payload Too Large', message: ['body: the chunk extensions are larger than the server accepts'] };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { statusCode: 408, error: 'Request Timeout', message: [`request: not received in full within ${requestTimeoutMs === undefined ? 'the time allowed' : `${requestTimeoutMs} ms`} (serve --request-timeout-ms)`] };
    default:
      return { statusCode: 400, error: 'Bad Request', message: [`request: not a valid HTTP/1.1 request (${error.message})`] };
  }
}

/**
 * Requests that reach Fastify once it is closing (pipelined behind a request
 * in progress, or on a busy keep-alive connection) are answered 503 in the
 * service's error body with `Retry-After: 1`, as a submission refused while
 * the shard drains is (ShardService's NotReadyError). Fastify's own answer
 * (`return503OnClosing`, turned off in main.ts) was `{error, message:
 * "Service Unavailable", statusCode}` with no request id or Retry-After.
 * Fastify adds `Connection: close` to every answer while closing.
 */
export function answerWhileClosing(fastify: FastifyInstance): void {
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    // answered here: done is not called, so no route runs against a store that is being closed
    void reply.code(503).header('Retry-After', '1').header('content-type', 'application/json; charset=utf-8').send({ statusCode: 503, error: 'Service Unavailable', message: ['the server is shutting down'] } satisfies ErrorBody);
  });
}
