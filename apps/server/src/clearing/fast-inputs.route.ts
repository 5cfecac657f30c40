import { Logger, type INestApplication } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { decodePriceUpdateBytes, fastDecodeInput, type InputEvent } from '@clearsim/events';
import { API_KEYS, keyOf } from '../auth/api-key.guard';
import type { Principal } from '../auth/api-keys';
import { errorBody } from '../common/domain-errors.filter';
import { jsonBodyOf, type OwnJsonBodyConfig } from '../common/fastify-body';
import type { HttpRequest } from '../common/http-types';
import type { SubmitInputsResult } from './commands/submit-inputs.command';
import { SubmitInputsHandler } from './commands/submit-inputs.handler';

/** The route this serves ahead of Nest (InputsController.submit: its OpenAPI description, and every answer but the plain one). */
const METHOD = 'POST';
const URL = '/v1/inputs';

/**
 * The fast route of `POST /v1/inputs` (docs/performance.md, B5 round 8).
 * Nest's per-request pipeline (router context, global guard, parameter
 * pipes, the command bus) costs the same ~13 profiled µs per request as the
 * whole of an input's decision, so the hot case skips it: a body the codec's
 * fast decoder takes (the plain PriceUpdated, TradeExecuted, Deposited or
 * ClockAdvanced; no `postedBy`) posted with a known key that may post it is
 * prepared and submitted here by the same SubmitInputsHandler, with the same
 * checks in the same order, and answered with the same body. Anything else —
 * no or an unknown key (401), a body the fast decoder does not take (the
 * DTOs word the 400), a refusal of the key's scope (403) or of sharded mode
 * (409) — goes to Nest's route unchanged, before anything was submitted, so
 * its answer and its counting are those of the route. A refusal after the
 * submission (422, 409 id-conflict, 503) is answered with the error filter's
 * body (errorBody). The answer still waits for the durable append.
 *
 * Installed with Fastify's `onRoute` hook, so it must be registered before
 * Nest registers its routes (createServer does it before `listen`).
 */
export function registerFastInputsRoute(fastify: FastifyInstance, app: INestApplication): void {
  const logger = new Logger('FastInputsRoute');
  // resolved when the route is registered (Nest's providers exist from NestFactory.create on)
  let keys: ReadonlyMap<string, Principal> | undefined;
  let handler: SubmitInputsHandler | undefined;
  fastify.addHook('onRoute', (route) => {
    if (route.method !== METHOD || route.url !== URL) return;
    keys = app.get<ReadonlyMap<string, Principal>>(API_KEYS);
    handler = app.get(SubmitInputsHandler);
    const viaNest = route.handler;
    route.config = { ...route.config, ownJsonBody: readPriceBody } satisfies OwnJsonBodyConfig;
    route.handler = function fastInputs(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const inputs = fastInputsOf(request, keys!, handler!);
      if (inputs === undefined) {
        // Nest's route reads the body JSON.parse gives (the bytes of a PriceBody are plain JSON within the bounds: no error here)
        if (request.body instanceof PriceBody) request.body = jsonBodyOf(request.body.bytes, request.headers['content-type']);
        return viaNest.call(this, request, reply);
      }
      return answer(handler!.submitPrepared(inputs, false), request, reply, logger);
    } as RouteHandlerMethod;
  });
}

async function answer(submitted: Promise<SubmitInputsResult>, request: FastifyRequest, reply: FastifyReply, logger: Logger): Promise<FastifyReply> {
  try {
    const result = await submitted;
    return reply.code(200).header('content-type', 'application/json; charset=utf-8').send(submittedJson(result));
  } catch (error) {
    const body = errorBody(error, request, reply.raw, logger);
    // as DomainErrorsFilter answers a 503
    if (body.statusCode === 503) reply.header('Retry-After', '1');
    return reply.code(body.statusCode).send(body);
  }
}

/**
 * JSON.stringify's text of a submission's result, byte for byte (the answer
 * Nest's route gives): its fixed fields written directly, the decisions (an
 * empty list for most inputs) by JSON.stringify.
 */
export function submittedJson(result: SubmitInputsResult): string {
  const appended = result.appended === null ? 'null' : `{"from":${result.appended.from},"to":${result.appended.to}}`;
  const decisions = result.decisions.length === 0 ? '[]' : JSON.stringify(result.decisions);
  return `{"accepted":${result.accepted},"duplicates":${result.duplicates},"appended":${appended},"head":${result.head},"decisions":${decisions}}`;
}

/**
 * A body of a price update's commonest layout (`{"type":"PriceUpdated","ts":…,"instrument":…,"price":…}`,
 * JSON.stringify's of those four fields, or with `"v":1`), decoded from its
 * bytes by the codec's byte decoder: no text, no JSON.parse, no object to
 * walk. Where that decoder answers, its event is the codec's (hence the fast
 * decoder's) for JSON.parse of the same bytes (libs/events' property tests;
 * fast-inputs.route.unit.spec.ts checks it against this route's object path).
 */
class PriceBody {
  constructor(
    readonly input: InputEvent,
    readonly bytes: Buffer,
  ) {}
}

function readPriceBody(bytes: Buffer): PriceBody | undefined {
  const input = decodePriceUpdateBytes(bytes, 0, bytes.length);
  return input === undefined ? undefined : new PriceBody(input, bytes);
}

/** The input of a body the fast decoders take: from its bytes (PriceBody), or from the object JSON.parse gave; undefined for any other. */
export function fastInputOf(body: unknown): InputEvent | undefined {
  if (body instanceof PriceBody) return body.input;
  if (typeof body !== 'object' || body === null || Object.hasOwn(body, 'postedBy')) return undefined;
  return fastDecodeInput(body);
}

/** For tests: what the route takes from a JSON body's bytes (the generic parse where its own reading declines). */
export function fastInputOfBytes(bytes: Buffer): InputEvent | undefined {
  return fastInputOf(readPriceBody(bytes) ?? jsonBodyOf(bytes, 'application/json'));
}

/** The request's one input, decoded, stamped and authorized, or undefined: Nest's route answers it. */
function fastInputsOf(request: FastifyRequest, keys: ReadonlyMap<string, Principal>, handler: SubmitInputsHandler): InputEvent[] | undefined {
  const secret = keyOf(request);
  const principal = secret === undefined ? undefined : keys.get(secret);
  if (principal === undefined) return undefined;
  const input = fastInputOf(request.body);
  if (input === undefined) return undefined;
  let inputs: InputEvent[];
  try {
    inputs = handler.prepare([input], principal, false);
  } catch {
    return undefined;
  }
  // as the guard does: the request's log line names the key (common/request-log.ts)
  (request as unknown as HttpRequest).principal = principal;
  return inputs;
}
