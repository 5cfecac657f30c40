import { randomUUID } from 'node:crypto';
import { Catch, HttpException, HttpStatus, Logger, NotFoundException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InputRejected } from '@clearsim/clearing';
import { InputError, quoteInput } from '@clearsim/events';
import { AccessDenied } from '../auth/access-policy';
import { IdConflict, InputRefused } from '../clearing/input-refused.error';
import { ShardedInputsRefused } from '../clearing/sharded-inputs';
import { NotReadyError, ResetNotSupported } from '../clearing/shard.service';
import type { ErrorBody } from './http-types';

/**
 * Every error answered in one shape — Nest's `{statusCode, error, message}`
 * with `message` always a list of `field: problem` — and the shell's and
 * core's errors mapped to their status:
 * - InputError (the codec refused a field), a malformed JSON body → 400
 * - AccessDenied (outside the key's scope) → 403
 * - ResetNotSupported, ShardedInputsRefused (inputs over HTTP to one shard of several) → 409
 * - IdConflict (a repeat of an id with other content) → 409 with `code: id-conflict` and `conflict` (the first version's position, the differing fields)
 * - InputRefused / InputRejected (the core refused against the state) → 422, with `code`, `field` (and `index` in a batch)
 * - NotReadyError (replaying, resetting, shutting down) → 503 with Retry-After
 * - a body larger than the limit → 413; other refusals of the body (Fastify's) keep their 4xx
 * - no route for the method and path (Nest's not-found handler) → 404 naming them, the path quoted as quoteInput quotes it
 * - HttpExceptions keep their status; anything else is a 500 that says
 *   "internal error" and carries the request id (`requestId`, also the
 *   `x-request-id` header) under which the stack is logged: never a stack or
 *   an error's own message in the response.
 */
@Catch()
export class DomainErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger(DomainErrorsFilter.name);

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse();
    const { httpAdapter } = this.adapterHost;
    const body = errorBody(error, http.getRequest(), response, this.logger);
    if (body.statusCode === HttpStatus.SERVICE_UNAVAILABLE) httpAdapter.setHeader(response, 'Retry-After', '1');
    httpAdapter.reply(response, body, body.statusCode);
  }
}

/**
 * The answer to `error` (DomainErrorsFilter's, and the fast route's of
 * POST /v1/inputs: clearing/fast-inputs.route.ts): its body, a 500's
 * logged with the request id it carries (the caller adds
 * `Retry-After: 1` to a 503).
 */
export function errorBody(
  error: unknown,
  request: { id?: unknown; routeOptions?: { bodyLimit?: unknown }; is404?: unknown; method?: unknown; url?: unknown } | undefined,
  response: { getHeader?(name: string): unknown; setHeader?(name: string, value: string): unknown },
  logger: Pick<Logger, 'error'>,
): ErrorBody {
  // Fastify's 413 does not say its limit; the route's options do
  const bodyLimit = request?.routeOptions?.bodyLimit;
  const body = request?.is404 === true && error instanceof NotFoundException ? noRoute(request) : toBody(error, typeof bodyLimit === 'number' ? bodyLimit : undefined);
  if (body.statusCode === HttpStatus.INTERNAL_SERVER_ERROR) {
    const requestId = requestIdOf(request, response);
    body.message = [`internal error (request id ${requestId}; see the server log)`];
    body.requestId = requestId;
    logger.error(`request ${requestId}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  return body;
}

function toBody(error: unknown, bodyLimit?: number): ErrorBody {
  if (error instanceof IdConflict) {
    const field = error.index === undefined ? error.field : `[${error.index}].${error.field}`;
    return { statusCode: 409, error: 'Conflict', code: error.code, field, ...(error.index === undefined ? {} : { index: error.index }), message: [`${field}: ${error.reason}`], conflict: error.first ?? null };
  }
  if (error instanceof InputRefused) {
    const field = error.index === undefined ? error.field : `[${error.index}].${error.field}`;
    return { statusCode: 422, error: 'Unprocessable Entity', code: error.code, field, ...(error.index === undefined ? {} : { index: error.index }), message: [`${field}: ${error.reason}`] };
  }
  if (error instanceof InputRejected) {
    return { statusCode: 422, error: 'Unprocessable Entity', code: error.code, field: error.issues[0]?.field ?? '', message: error.issues.map(line) };
  }
  if (error instanceof InputError) return { statusCode: 400, error: 'Bad Request', message: error.issues.map(line) };
  if (error instanceof AccessDenied) return { statusCode: 403, error: 'Forbidden', message: error.reasons };
  if (error instanceof ResetNotSupported) return { statusCode: 409, error: 'Conflict', message: [error.message] };
  if (error instanceof ShardedInputsRefused) return { statusCode: 409, error: 'Conflict', message: error.reasons };
  if (error instanceof NotReadyError) return { statusCode: 503, error: 'Service Unavailable', message: [error.message] };
  const status = (error as { status?: unknown }).status;
  const type = (error as { type?: unknown }).type;
  const code = (error as { code?: unknown }).code;
  // Fastify's refusal of a body past its bodyLimit (Nest hands it on as an HttpException 413 without the limit)
  const tooLarge = code === 'FST_ERR_CTP_BODY_TOO_LARGE' || type === 'entity.too.large' || (error instanceof HttpException && error.getStatus() === HttpStatus.PAYLOAD_TOO_LARGE);
  if (!tooLarge && error instanceof HttpException) return fromHttpException(error);
  if (tooLarge) {
    const limit = (error as { limit?: unknown }).limit ?? bodyLimit;
    return { statusCode: 413, error: 'Payload Too Large', message: [`body: larger than the limit of ${typeof limit === 'number' ? `${limit} bytes` : 'the server'} (serve --max-body-bytes)`] };
  }
  const statusCode = (error as { statusCode?: unknown }).statusCode;
  if (typeof code === 'string' && code.startsWith('FST_') && typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    // another refusal of Fastify's before the route (a bad content length, an aborted request…)
    return { statusCode, error: (error as Error).name, message: [`body: ${(error as Error).message}`] };
  }
  if (typeof status === 'number' && status >= 400 && status < 500 && typeof type === 'string') {
    // another refusal of the body with a 4xx status of its own (an unsupported content encoding, an aborted request…)
    return { statusCode: status, error: (error as Error).name, message: [`body: ${(error as Error).message}`] };
  }
  return { statusCode: 500, error: 'Internal Server Error', message: ['internal error (see the server log)'] };
}

function fromHttpException(exception: HttpException): ErrorBody {
  const statusCode = exception.getStatus();
  const response = exception.getResponse();
  const given = typeof response === 'string' ? { message: response } : (response as Record<string, unknown>);
  let message = given.message;
  if (typeof message === 'string') {
    // a JSON SyntaxError that reached Nest as a 400 with its message
    message = [statusCode === 400 && /JSON/.test(message) ? `body: malformed JSON (${message})` : message];
  }
  return { ...given, statusCode, error: typeof given.error === 'string' ? given.error : exception.name, message: Array.isArray(message) ? message.map(String) : [exception.message] };
}

/**
 * Nest's not-found handler says "Cannot GET /path", the whole URL echoed and
 * no field; the service's 404 names the path (without the query) instead.
 */
function noRoute(request: { method?: unknown; url?: unknown }): ErrorBody {
  const path = String(request.url ?? '').split('?')[0]!;
  return { statusCode: 404, error: 'Not Found', message: [`url: no route ${String(request.method)} ${quoteInput(path)} (the routes are listed at /docs)`] };
}

const line = (issue: { field: string; message: string }): string => `${issue.field || 'body'}: ${issue.message}`;

/** The request's id: Fastify's (common/fastify-body.ts; the `x-request-id` it answers), or a new one if there is none. */
function requestIdOf(request: { id?: unknown } | undefined, response: { getHeader?(name: string): unknown; setHeader?(name: string, value: string): unknown }): string {
  if (typeof request?.id === 'string' || typeof request?.id === 'number') return String(request.id);
  const id = randomUUID();
  if (request) request.id = id;
  if (!response.getHeader?.('x-request-id')) response.setHeader?.('x-request-id', id);
  return id;
}
