import { UnsupportedMediaTypeException } from '@nestjs/common';
import { jsonTextProblem } from '@clearsim/events';
import { badRequest } from './validation';

/**
 * The check of a JSON body before it is parsed (common/fastify-body.ts; the
 * signature of body-parser's `verify` hook, which it was): the raw body's text is
 * checked against the codec's JSON bounds (nesting ≤ 32 levels, numbers a
 * float64 holds exactly) before JSON.parse runs, so a 10,000-deep body or
 * `"amount":12345678901234567890` is a 400 naming the field instead of a
 * stack overflow or a silently rounded amount — the same check, with the
 * same message, as a JSONL line or a Kafka message gets (json-limits.ts).
 * The thrown 400 reaches the error filter unchanged.
 */
export function verifyJsonBody(_request: unknown, _response: unknown, body: Buffer, encoding: string | null): void {
  const problem = jsonTextProblem(decode(body, encoding));
  if (problem) throw badRequest([`${problem.field || 'body'}: ${problem.message}`]);
}

/** The body's text in its charset (the caller lets only utf-8 and utf-16 variants through to here). */
function decode(body: Buffer, encoding: string | null): string {
  if (encoding === null || /^utf-?8$/i.test(encoding)) return body.toString('utf8');
  try {
    return new TextDecoder(encoding).decode(body);
  } catch {
    throw new UnsupportedMediaTypeException({ statusCode: 415, error: 'Unsupported Media Type', message: [`body: unsupported charset "${encoding}"`] });
  }
}
