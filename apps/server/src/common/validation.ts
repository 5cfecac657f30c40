import { applyDecorators, BadRequestException } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, ValidateBy, ValidateIf, type ValidationError, type ValidationOptions } from 'class-validator';
import { controlCharacterProblem, ID_CHARACTERS_PATTERN, MAX_ID_LENGTH, parseTimestamp, quoteInput, timestampProblem, wholeNumberOf } from '@clearsim/events';
import { DecimalFormatError, parseFixed } from '@clearsim/money';

/**
 * class-validator building blocks for the HTTP edge. Messages never repeat
 * the property name: the 400 lists `field: problem`, the field being the path
 * (`[2].price` for a batch item).
 */

const required = (value: unknown, problem: string): string => (value === undefined ? 'is required' : value === null ? 'must not be null (leave an optional field out instead)' : problem);

/**
 * An optional field: validated unless absent. Unlike class-validator's
 * IsOptional, `null` is not absent — the codec's schemas refuse it, and a
 * `"fee": null` let through here reached parseFixed and answered 500.
 */
export const IsAbsentOr = (): PropertyDecorator => ValidateIf((_object: object, value: unknown) => value !== undefined);

/** A decimal as a string ("10000.5") or a JSON number, exact to the ledger's 8 decimals; `positive`: > 0. */
export function IsDecimal(options: { positive?: boolean } = {}, validation?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isDecimal',
      validator: {
        validate: (value) => decimalProblem(value, options.positive ?? false) === undefined,
        defaultMessage: (args) => required(args?.value, decimalProblem(args?.value, options.positive ?? false) ?? ''),
      },
    },
    validation,
  );
}

function decimalProblem(value: unknown, positive: boolean): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return 'must be a decimal: a string such as "10000.5", or a number';
  try {
    const units = parseFixed(value);
    if (positive && units <= 0n) return 'must be greater than 0';
    return undefined;
  } catch (error) {
    if (error instanceof DecimalFormatError) return `must be a decimal: ${error.reason}`;
    throw error;
  }
}

/** An ISO-8601 UTC timestamp (`2026-01-01T00:00:00Z`), the codec's own rule. */
export function IsIsoTimestamp(validation?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isIsoTimestamp',
      validator: {
        validate: (value) => typeof value === 'string' && parseTimestamp(value) !== undefined,
        defaultMessage: (args) => required(args?.value, timestampMessage(args?.value)),
      },
    },
    validation,
  );
}

function timestampMessage(value: unknown): string {
  const got = typeof value === 'string' ? quoteInput(value) : JSON.stringify(value);
  const problem = typeof value === 'string' ? timestampProblem(value) : undefined;
  // a well-formed text naming no real instant (2026-02-30, T24:00) says which field of it is wrong
  const why = problem !== undefined && !problem.startsWith('is not an ISO-8601') ? `: ${problem}` : '';
  return `must be an ISO-8601 UTC timestamp such as 2026-01-01T00:00:00Z (got ${got}${why})`;
}

/** A string id (account, instrument, tradeId…) the codec takes: 1 to MAX_ID_LENGTH characters, no control character. */
export function IsId(validation?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isId',
      validator: {
        validate: (value) => idProblem(value) === undefined,
        defaultMessage: (args) => idProblem(args?.value) ?? '',
      },
    },
    validation,
  );
}

/** Why `value` is not an id, in the codec's words (libs/events/src/input-events.ts), or undefined. */
function idProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return required(value, 'must be a non-empty string');
  if (value.length > MAX_ID_LENGTH) return `must be at most ${MAX_ID_LENGTH} characters`;
  return controlCharacterProblem(value);
}

/** One of the listed values. */
export function IsOneOf(values: readonly (string | number)[]): PropertyDecorator {
  return IsIn(values as (string | number)[], { message: (args) => required(args.value, `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`) });
}

/** A JSON object (not an array, not null). */
export function IsJsonObject(): PropertyDecorator {
  return ValidateBy({
    name: 'isJsonObject',
    validator: {
      validate: (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
      defaultMessage: (args) => required(args?.value, 'must be a JSON object'),
    },
  });
}

/** Swagger + validation of a decimal field. */
export const DecimalField = (doc: ApiPropertyOptions & { optional?: boolean; positive?: boolean }) =>
  applyDecorators(
    doc.optional ? ApiPropertyOptional(decimalDoc(doc)) : ApiProperty(decimalDoc(doc)),
    ...(doc.optional ? [IsAbsentOr()] : []),
    IsDecimal({ positive: doc.positive }),
  );

function decimalDoc(doc: ApiPropertyOptions & { optional?: boolean; positive?: boolean }): ApiPropertyOptions {
  const { optional: _optional, positive, ...rest } = doc;
  return {
    // the bounds of parseFixed (docs/rules.md §1): ≤ 64 characters, an exponent of at most two digits (±30 is checked), ≤ 30 integer digits
    oneOf: [{ type: 'string', maxLength: 64, pattern: '^[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d{1,2})?$' }, { type: 'number' }],
    ...rest,
    description: [
      rest.description,
      `Decimal string or number, at most 30 digits before the point and 8 after${positive ? ', > 0' : ''}; an exponent within ±30; a JSON number of at most 15 significant digits (else send a string).`,
    ]
      .filter(Boolean)
      .join(' '),
  } as ApiPropertyOptions;
}

/** The codec's timestamp syntax (libs/events/src/timestamp.ts): UTC only, seconds optional. */
const TIMESTAMP_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]00:?00)$';

export const TimestampField = (doc: ApiPropertyOptions & { optional?: boolean }) => {
  const { optional, ...rest } = doc;
  const options = { type: String, format: 'date-time', pattern: TIMESTAMP_PATTERN, ...rest } as ApiPropertyOptions;
  return applyDecorators(
    optional ? ApiPropertyOptional(options) : ApiProperty(options),
    ...(optional ? [IsAbsentOr()] : []),
    IsIsoTimestamp(),
  );
};

export const IdField = (doc: ApiPropertyOptions & { optional?: boolean }) => {
  const { optional, ...rest } = doc;
  return applyDecorators(
    optional
      ? ApiPropertyOptional({ type: String, minLength: 1, maxLength: MAX_ID_LENGTH, pattern: ID_CHARACTERS_PATTERN, ...rest } as ApiPropertyOptions)
      : ApiProperty({ type: String, minLength: 1, maxLength: MAX_ID_LENGTH, pattern: ID_CHARACTERS_PATTERN, ...rest } as ApiPropertyOptions),
    ...(optional ? [IsAbsentOr()] : []),
    IsId(),
  );
};

/**
 * An optional whole-number query parameter (a position, a count) from `min`
 * to `max` (at most Number.MAX_SAFE_INTEGER), written in decimal digits only
 * (wholeNumberOf, the rule of every edge). `@Type(() => Number)` with IsInt
 * took whatever `Number()` takes: `0x10` as 16, `1e2` as 100, ` 10`, `+10`,
 * `10.0` and `0b11` as numbers, and an empty value as 0 ("must be at least
 * 1"). Here the text becomes a number only when the rule takes it; anything
 * else is one 400 line naming the parameter.
 */
export const WholeNumberQuery = (doc: ApiPropertyOptions & { minimum: number; maximum: number }) =>
  applyDecorators(
    ApiPropertyOptional({ type: 'integer', ...doc } as ApiPropertyOptions),
    IsAbsentOr(),
    // a query value is a string (an array when the parameter is repeated): only a whole number of the bounds becomes a number
    Transform(({ value }) => (typeof value === 'string' ? wholeNumberOrText(value, doc.minimum, doc.maximum) : value), { toClassOnly: true }),
    ValidateBy({
      name: 'isWholeNumberQuery',
      validator: {
        validate: (value) => wholeNumberProblem(value, doc.minimum, doc.maximum) === undefined,
        defaultMessage: (args) => wholeNumberProblem(args?.value, doc.minimum, doc.maximum) ?? '',
      },
    }),
  );

/** The number `text` spells if the rule takes it; else the text, for the validator to word why. */
function wholeNumberOrText(text: string, min: number, max: number): number | string {
  const whole = wholeNumberOf(text, min, max);
  return whole.ok ? whole.value : text;
}

function wholeNumberProblem(value: unknown, min: number, max: number): string | undefined {
  if (Array.isArray(value)) return 'must be given once';
  // a number is the transform's (of a text the rule took) or the DTO's default: the rule reads its digits all the same
  const text = typeof value === 'number' ? String(value) : value;
  const whole = typeof text === 'string' ? wholeNumberOf(text, min, max) : undefined;
  if (whole?.ok) return undefined;
  if (whole?.reason === 'below-min') return `must be at least ${min}`;
  if (whole?.reason === 'above-max') return `must be at most ${max}`;
  return `must be a whole number from ${min} to ${max} in decimal digits (got ${typeof value === 'string' ? quoteInput(value) : JSON.stringify(value)})`;
}

/** Flattens class-validator errors into `path: problem` lines (every constraint of every field). */
export function validationMessages(errors: readonly ValidationError[], prefix = ''): string[] {
  const lines: string[] = [];
  for (const error of errors) {
    const path = prefix === '' ? error.property : /^\d+$/.test(error.property) ? `${prefix}[${error.property}]` : `${prefix}.${error.property}`;
    for (const [constraint, message] of Object.entries(error.constraints ?? {})) {
      lines.push(constraint === 'whitelistValidation' ? `${path}: unknown field` : `${path}: ${message}`);
    }
    if (error.children?.length) lines.push(...validationMessages(error.children, path));
  }
  return lines;
}

/** The 400 of the whole API: `{statusCode: 400, error: 'Bad Request', message: ['field: problem', …]}`. */
export function badRequest(message: string[]): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message });
}

/** ValidationPipe options shared by every DTO-typed body and query. */
export const VALIDATION_OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors: ValidationError[]) => badRequest(validationMessages(errors)),
};
