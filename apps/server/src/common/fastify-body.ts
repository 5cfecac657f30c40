import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { UnsupportedMediaTypeException } from '@nestjs/common';
import { verifyJsonBody } from './json-body';
import { quoteInput } from '@clearsim/events';
import { badRequest } from './validation';

/** A request id the caller may choose: short, and nothing a log line could be forged with. */
const SANE_REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * The request's id (Fastify's `genReqId`), decided once when Fastify
 * creates the request: the caller's `x-request-id` if it is sane, else a new
 * UUID. The `x-request-id` header, the request's log line and a 500's
 * `requestId` all carry it.
 */
export function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers['x-request-id'];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * The body parsing of every route, as it was under Express's JSON parser:
 * - `application/json` (any parameters): read up to Fastify's `bodyLimit`
 *   (past it Fastify answers 413 before anything is parsed), its charset
 *   decoded (utf-8 and utf-16 variants; another charset is a 415), the
 *   codec's nesting and number bounds checked on the text (verifyJsonBody),
 *   then `JSON.parse`; an empty body is `{}`; malformed JSON a 400.
 * - a body of any other content type, or of none: a 415 naming it, not read.
 */
export function registerJsonBody(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      const buffer = body as Buffer;
      // a route that reads its hot body's bytes itself (fast-inputs.route.ts) is asked first; only for UTF-8
      const ownReading = (request.routeOptions.config as OwnJsonBodyConfig).ownJsonBody;
      if (ownReading !== undefined && buffer.length > 0 && isUtf8(charsetOf(request.headers['content-type']))) {
        const taken = ownReading(buffer);
        if (taken !== undefined) return done(null, taken);
      }
      done(null, jsonBodyOf(buffer, request.headers['content-type']));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  // a body in another media type (or with none named) is refused as such, before any route reads it: answered as a
  // missing field ("ts: is required") it sent the caller after the wrong fault
  fastify.addContentTypeParser('*', (request, _payload, done) => {
    const given = request.headers['content-type'];
    done(
      new UnsupportedMediaTypeException({
        statusCode: 415,
        error: 'Unsupported Media Type',
        message: [`content-type: the body must be application/json (${given === undefined ? 'no content-type given' : `got ${quoteInput(given)}`})`],
      }),
      undefined,
    );
  });
  // every answer names its request (the 500's body too: the error filter reads request.id)
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
}

/**
 * A route's own reading of a UTF-8 JSON body's bytes, tried before the
 * generic parse: the value the route takes as its body, or undefined for the
 * generic parse (jsonBodyOf). A route that sets one (its Fastify config's
 * `ownJsonBody`) must hand jsonBodyOf's value of the same bytes to any code
 * that expects the generic body.
 */
export type OwnJsonBody = (bytes: Buffer) => unknown;
export interface OwnJsonBodyConfig {
  ownJsonBody?: OwnJsonBody;
}

/**
 * The generic parse of a JSON body: `{}` for no bytes; the charset of
 * `contentType` decoded (another than UTF-8 or UTF-16 is a 415); the
 * nesting and number bounds checked on the text (400); then JSON.parse
 * (malformed JSON is a 400).
 */
export function jsonBodyOf(buffer: Buffer, contentType: string | undefined): unknown {
  if (buffer.length === 0) return {};
  const charset = charsetOf(contentType);
  verifyJsonBody(undefined, undefined, buffer, charset);
  const text = isUtf8(charset) ? buffer.toString('utf8') : new TextDecoder(charset!).decode(buffer);
  return parseJson(text);
}

const isUtf8 = (charset: string | null): boolean => charset === null || /^utf-?8$/i.test(charset);

/** The `charset` parameter of a content type (lower-cased), null without one; a charset JSON cannot be in is a 415, as body-parser answered. */
function charsetOf(contentType: string | undefined): string | null {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset === undefined) return null;
  if (!charset.startsWith('utf-')) {
    throw new UnsupportedMediaTypeException({ statusCode: 415, error: 'Unsupported Media Type', message: [`body: unsupported charset "${charset.toUpperCase()}"`] });
  }
  return charset;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest([`body: malformed JSON (${(error as Error).message})`]);
  }
}
