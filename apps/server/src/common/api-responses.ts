import { applyDecorators, type Type } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse, ApiSecurity, getSchemaPath, type ApiPropertyOptions } from '@nestjs/swagger';

/**
 * The OpenAPI side of every answer: the one error body, the decorators that
 * document each route's error statuses with it, and the field shapes the
 * response classes (`dto/*.response.ts`) share. The served document is
 * fuzzed by schemathesis in the test command (test/schemathesis.sh), which
 * fails on any status, content type or body these do not describe.
 */

/** The names of the security schemes declared in main.ts: the same key, as `x-api-key` or as a bearer token. */
export const API_KEY_SCHEME = 'api-key';
export const BEARER_SCHEME = 'bearer';

/** Needs an API key: either header (two security requirements, so either one satisfies the route). */
export const ApiKeyAuth = () => applyDecorators(ApiSecurity(API_KEY_SCHEME), ApiSecurity(BEARER_SCHEME));

/** The body of every refusal and failure (DomainErrorsFilter): Nest's shape, `message` always a list of `field: problem`. */
export class ErrorResponse {
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, example: 400, description: 'The HTTP status, repeated.' })
  statusCode!: number;

  @ApiProperty({ example: 'Bad Request', description: 'The status\'s reason phrase (or the refusing error\'s name).' })
  error!: string;

  @ApiProperty({ type: [String], example: ['price: must be greater than 0', 'ts: is required'], description: 'Every problem found, each `field: problem` (`[2].price: …` for item 2 of a batch).' })
  message!: string[];

  @ApiPropertyOptional({ example: 'clock-went-backwards', description: '422: the core\'s reason code (docs/rules.md); 409: `id-conflict` for a repeated idempotency key with other content.' })
  code?: string;

  @ApiPropertyOptional({ example: 'ts', description: '409 and 422: the refused field (`[2].ts` in a batch).' })
  field?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: '409 id-conflict: where the first version is (`position` in the log, or `index` in the same batch) and `differences`: [{field, first, repeat}] (docs/idempotency.md).',
  })
  conflict?: Record<string, unknown>;

  @ApiPropertyOptional({ example: '5f0c2a1e-…', description: '500: the request id the server logged the error under (also the x-request-id header).' })
  requestId?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, description: '422 in a batch: the index of the refused item.' })
  index?: number;
}

/** The statuses an error body can carry, with what each means on any route (a route may say more). */
export const ERROR_STATUSES = {
  400: 'Invalid request: every field error is listed (`field: problem`); nothing was changed.',
  401: 'No API key, or an unknown one.',
  403: 'Outside the key\'s scope: a venue key on an admin route, a market-wide input or another venue\'s account.',
  404: 'No such resource.',
  408: 'The request (its headers, or its body up to its Content-Length) did not arrive within the request timeout (serve --request-timeout-ms); the connection is closed and nothing was changed.',
  409: 'A repeat of an idempotency key with other content (`code: id-conflict`, docs/idempotency.md), or a conflict with the server\'s setup; nothing was changed.',
  413: 'The body is larger than the server accepts (serve --max-body-bytes); nothing was changed.',
  415: 'A body that is not application/json, or JSON in a charset other than UTF-8/16; nothing was changed.',
  422: 'Refused by the core against the current state (reason in `code`, the field in `field`); nothing was appended.',
  500: 'Internal error: logged by the server with the request id (the `x-request-id` response header); no detail is sent.',
  503: 'Not ready (replaying the log, resetting, shutting down): retry after the Retry-After header\'s seconds.',
} as const;
export type ErrorStatus = keyof typeof ERROR_STATUSES;

/**
 * Documents error statuses with the shared ErrorResponse body: each entry a
 * status (its ERROR_STATUSES description) or `[status, description]`.
 */
export function ApiErrorResponses(...entries: (ErrorStatus | [ErrorStatus, string])[]) {
  return applyDecorators(
    ApiExtraModels(ErrorResponse),
    ...entries.map((entry) => {
      const [status, description] = Array.isArray(entry) ? entry : [entry, ERROR_STATUSES[entry]];
      return ApiResponse({ status, description, type: ErrorResponse });
    }),
  );
}

/** 401, 500 and 503: what any route behind the API key can answer besides its own refusals. */
export const ApiGuardedRoute = () => applyDecorators(ApiKeyAuth(), ApiErrorResponses(401, 500, 503));

/** 400 (malformed JSON, invalid fields), 408 (not received in time), 413 (too large) and 415 (not UTF-8): what any route with a JSON body can answer. */
export const ApiJsonBodyRoute = () => applyDecorators(ApiErrorResponses(400, 408, 413, 415));

/** A ledger decimal as the API writes it: canonical, no exponent, at most 8 decimals. */
export const DECIMAL_TEXT_PATTERN = '^-?\\d+(\\.\\d{1,8})?$';

/** A decimal string field of a response. */
export const DecimalText = (doc: ApiPropertyOptions & { optional?: boolean } = {}) => {
  const { optional, ...rest } = doc;
  const options = { type: String, pattern: DECIMAL_TEXT_PATTERN, ...rest } as ApiPropertyOptions;
  return optional ? ApiPropertyOptional(options) : ApiProperty(options);
};

/** A timestamp of a response (ISO-8601 UTC), or null before the log has a clock. */
export const ClockText = (doc: ApiPropertyOptions = {}) =>
  ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2026-01-01T00:02:00Z', ...doc } as ApiPropertyOptions);

/** A non-negative whole number of a response (a position, a count). */
export const Count = (doc: ApiPropertyOptions & { optional?: boolean } = {}) => {
  const { optional, ...rest } = doc;
  const options = { type: 'integer', minimum: 0, ...rest } as ApiPropertyOptions;
  return optional ? ApiPropertyOptional(options) : ApiProperty(options);
};

/** A JSON object whose keys are free (instrument, underlying, asset) and whose values are `model`. */
export const MapOf = (model: Type<unknown>, doc: ApiPropertyOptions & { optional?: boolean } = {}) => {
  const { optional, ...rest } = doc;
  const options = { type: 'object', additionalProperties: { $ref: getSchemaPath(model) }, ...rest } as unknown as ApiPropertyOptions;
  return applyDecorators(ApiExtraModels(model), optional ? ApiPropertyOptional(options) : ApiProperty(options));
};

/** A JSON object whose keys are free and whose values are decimal strings. */
export const DecimalMap = (doc: ApiPropertyOptions & { optional?: boolean } = {}) => {
  const { optional, ...rest } = doc;
  const options = { type: 'object', additionalProperties: { type: 'string', pattern: DECIMAL_TEXT_PATTERN }, ...rest } as unknown as ApiPropertyOptions;
  return optional ? ApiPropertyOptional(options) : ApiProperty(options);
};
