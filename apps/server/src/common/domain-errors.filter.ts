import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InputRejected } from '@clearsim/clearing';
import { InputError } from '@clearsim/events';
import { AccessDenied } from '../auth/access-policy';
import { InputRefused } from '../clearing/input-refused.error';
import { NotReadyError, ResetNotSupported } from '../clearing/shard.service';
import type { ErrorBody } from './http-types';

/**
 * Maps the shell's and the core's errors to HTTP, in Nest's error shape with
 * `message` a list of `field: problem`:
 * - InputError (the codec refused a field) → 400
 * - AccessDenied (outside the key's scope) → 403
 * - ResetNotSupported → 409
 * - InputRefused / InputRejected (the core refused against the state) → 422, with `code`, `field` (and `index` in a batch)
 * - NotReadyError (replaying, resetting, shutting down) → 503 with Retry-After
 */
@Catch(InputError, AccessDenied, NotReadyError, ResetNotSupported, InputRefused)
export class DomainErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger(DomainErrorsFilter.name);

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: Error, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse();
    const { httpAdapter } = this.adapterHost;
    const body = toBody(error);
    if (body.statusCode === 503) httpAdapter.setHeader(response, 'Retry-After', '1');
    if (body.statusCode >= 500) this.logger.warn(error.message);
    httpAdapter.reply(response, body, body.statusCode);
  }
}

function toBody(error: Error): ErrorBody {
  if (error instanceof InputRefused) {
    const field = error.index === undefined ? error.field : `[${error.index}].${error.field}`;
    return { statusCode: 422, error: 'Unprocessable Entity', code: error.code, field, ...(error.index === undefined ? {} : { index: error.index }), message: [`${field}: ${error.reason}`] };
  }
  if (error instanceof InputRejected) {
    const issue = error.issues[0];
    return { statusCode: 422, error: 'Unprocessable Entity', code: error.code, field: issue?.field ?? '', message: error.issues.map(line) };
  }
  if (error instanceof InputError) return { statusCode: 400, error: 'Bad Request', message: error.issues.map(line) };
  if (error instanceof AccessDenied) return { statusCode: 403, error: 'Forbidden', message: error.reasons };
  if (error instanceof ResetNotSupported) return { statusCode: 409, error: 'Conflict', message: [error.message] };
  return { statusCode: 503, error: 'Service Unavailable', message: [error.message] };
}

const line = (issue: { field: string; message: string }): string => `${issue.field || 'body'}: ${issue.message}`;
