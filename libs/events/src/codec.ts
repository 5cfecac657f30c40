import { formatFixed } from '@clearsim/money';
import { parseRules, RulesError } from '@clearsim/rules';
import type { z } from 'zod';
import { DECISION_SCHEMAS, type DecisionEvent } from './decision-events';
import { decodePriceLine, fastDecodeInput, fastEncode, parseFlatStringObject, PLAIN_PRICE_LAYOUT, PLAIN_PRICE_UPDATE_MAX_BYTES, SCOPED_PRICE_UPDATE_MAX_BYTES, writePlainPriceFields, writePlainPriceUpdate, writeScopedPriceUpdate, type PriceFields } from './fast-codec';
/** A mark line decoded from its UTF-8 bytes (the run command's reader; the Kafka worker's, in any of its layouts): see fast-codec.ts. */
export { decodePriceBytes, decodePriceBytesInto, decodePriceUpdateBytes, PriceFields } from './fast-codec';
import { INPUT_SCHEMAS, type InputEvent } from './input-events';
import { jsonTextProblem } from './json-limits';
import { formatTimestamp } from './timestamp';

export type ClearingEvent = InputEvent | DecisionEvent;
export type EventType = ClearingEvent['type'];

/** Schema version of every event type this build writes (and the newest it reads). */
export const SCHEMA_VERSION = 1;

export interface FieldIssue {
  field: string;
  message: string;
}

/**
 * An input refused at an edge. `source` is the file (or topic, or HTTP body),
 * `line` is 1-based where the input came from a line-oriented source.
 */
export class InputError extends Error {
  constructor(
    readonly issues: FieldIssue[],
    readonly source?: string,
    readonly line?: number,
  ) {
    super(InputError.describe(issues, source, line));
  }

  static describe(issues: FieldIssue[], source?: string, line?: number): string {
    const where = [source, line !== undefined ? `line ${line}` : undefined].filter(Boolean).join(':');
    const what = issues.map((i) => (i.field ? `field "${i.field}": ${i.message}` : i.message)).join('; ');
    return where ? `${where}: ${what}` : what;
  }

  withLocation(source: string | undefined, line: number | undefined): InputError {
    return new InputError(this.issues, source ?? this.source, line ?? this.line);
  }
}

const SCHEMAS: Record<string, z.ZodType> = { ...INPUT_SCHEMAS, ...DECISION_SCHEMAS };

export const isInputType = (type: string): type is InputEvent['type'] => Object.hasOwn(INPUT_SCHEMAS, type);
export const isDecisionType = (type: string): type is DecisionEvent['type'] => Object.hasOwn(DECISION_SCHEMAS, type);
export const isInput = (event: ClearingEvent): event is InputEvent => isInputType(event.type);
export const isDecision = (event: ClearingEvent): event is DecisionEvent => isDecisionType(event.type);

function issuesOf(error: z.ZodError): FieldIssue[] {
  // an unknown field is named as the field itself, as the HTTP DTOs name it (`colour: unknown field`)
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys' ? issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), message: 'unknown field' })) : [{ field: issue.path.join('.'), message: issue.message }],
  );
}

/** Validates an already-parsed JSON value as an event of the allowed kinds. */
export function decodeEvent(raw: unknown, allow: 'input' | 'any' = 'any'): ClearingEvent {
  // the common shapes of the hot inputs (all of them inputs) are checked by hand; anything else, errors included, goes to the schema
  const fast = typeof raw === 'object' && raw !== null ? fastDecodeInput(raw) : undefined;
  return fast ?? decodeEventBySchema(raw, allow);
}

/** decodeEvent through the schemas alone: the authority the fast decoder must agree with. */
export function decodeEventBySchema(raw: unknown, allow: 'input' | 'any' = 'any'): ClearingEvent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InputError([{ field: '', message: 'expected a JSON object' }]);
  }
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== 'string') throw new InputError([{ field: 'type', message: 'missing event type' }]);
  const schema = SCHEMAS[type];
  if (!schema || (allow === 'input' && !isInputType(type))) {
    const known = allow === 'input' ? Object.keys(INPUT_SCHEMAS) : Object.keys(SCHEMAS);
    throw new InputError([{ field: 'type', message: `unknown ${allow === 'input' ? 'input ' : ''}event type "${type}" (expected one of ${known.join(', ')})` }]);
  }
  const result = schema.safeParse(raw);
  if (!result.success) throw new InputError(issuesOf(result.error));
  const event = result.data as ClearingEvent;
  if (event.type === 'RulesActivated') {
    try {
      parseRules(event.rules);
    } catch (error) {
      if (error instanceof RulesError) {
        throw new InputError(error.issues.map((i) => ({ field: i.path ? `rules.${i.path}` : 'rules', message: i.message })));
      }
      throw error;
    }
  }
  delete (event as { v?: number }).v;
  return event;
}

/** Decodes one JSONL line. Errors carry the source and 1-based line number. */
export function decodeLine(line: string, allow: 'input' | 'any' = 'any', source?: string, lineNo?: number): ClearingEvent {
  // a flat object of plain strings (a price update) is split by hand; anything else is JSON.parse's, once the
  // text of an input (from outside: a JSONL file, Kafka) is within the nesting and number bounds (json-limits.ts).
  // The log's own lines ('any', written canonical by the store and hash-chained) are not scanned again on replay.
  const price = decodePriceLine(line);
  if (price !== undefined) return price;
  let raw: unknown = parseFlatStringObject(line);
  if (raw === undefined && allow === 'input') {
    const problem = jsonTextProblem(line);
    if (problem) throw new InputError([problem], source, lineNo);
  }
  try {
    raw ??= JSON.parse(line);
  } catch (error) {
    throw new InputError([{ field: '', message: `malformed JSON (${(error as Error).message})` }], source, lineNo);
  }
  try {
    return decodeEvent(raw, allow);
  } catch (error) {
    if (error instanceof InputError) throw error.withLocation(source, lineNo);
    throw error;
  }
}

const TIMESTAMP_FIELDS = new Set(['ts', 'deadline', 'expiry']);

function toJsonValue(key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return formatFixed(value);
  if (typeof value === 'number' && TIMESTAMP_FIELDS.has(key)) return formatTimestamp(value);
  if (Array.isArray(value)) return value.map((item) => toJsonValue('', item));
  if (value && typeof value === 'object') return sortedObject(value as Record<string, unknown>);
  return value;
}

function sortedObject(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj).sort()) {
    if (obj[key] !== undefined) out[key] = toJsonValue(key, obj[key]);
  }
  return out;
}

/**
 * The canonical JSON form of an event: `type`, `v`, `ts` first, then every
 * other field in key order (recursively), decimals as canonical strings,
 * timestamps as ISO-8601 UTC. `outputHash` is computed over these lines.
 */
export function toCanonicalJson(event: ClearingEvent): Record<string, unknown> {
  const { type, ts, ...rest } = event;
  return { type, v: SCHEMA_VERSION, ts: formatTimestamp(ts), ...sortedObject(rest) };
}

export function encodeEvent(event: ClearingEvent): string {
  return fastEncode(event, SCHEMA_VERSION) ?? encodeEventGeneric(event);
}

/**
 * Lines encodeEvent gave for decisions as outputHash took them, in the order they were decided, until a log appends
 * the same decisions in that order (encodeEventForLog): a decision is encoded once, not twice. A ring of the last
 * DECIDED_LINES_KEPT, matched by the event object (a decision no longer changes once decided): what no log takes (a
 * replay, a store that encodes otherwise) is overwritten, never kept longer.
 */
const DECIDED_LINES_KEPT = 8192;
const decidedEvents: (object | undefined)[] = new Array<object | undefined>(DECIDED_LINES_KEPT).fill(undefined);
const decidedLines: (string | undefined)[] = new Array<string | undefined>(DECIDED_LINES_KEPT).fill(undefined);
let decidedFirst = 0;
let decidedCount = 0;

/** encodeEvent(event), remembered for encodeEventForLog (outputHash encodes each decision this way). */
export function encodeEventRemembered(event: ClearingEvent): string {
  const line = encodeEvent(event);
  if (decidedCount === DECIDED_LINES_KEPT) {
    decidedFirst = (decidedFirst + 1) % DECIDED_LINES_KEPT;
    decidedCount--;
  }
  const at = (decidedFirst + decidedCount) % DECIDED_LINES_KEPT;
  decidedEvents[at] = event;
  decidedLines[at] = line;
  decidedCount++;
  return line;
}

/**
 * encodeEvent(event). For a decision, the line encodeEventRemembered gave for this object if it is still kept: the
 * decisions remembered before it are dropped (a log appends decisions in the order they were decided, so no log
 * will ask for them), and so is it. Any other event is encoded now and drops nothing.
 */
export function encodeEventForLog(event: ClearingEvent): string {
  if (decidedCount > 0 && isDecision(event)) {
    while (decidedCount > 0) {
      const remembered = decidedEvents[decidedFirst];
      const line = decidedLines[decidedFirst]!;
      decidedEvents[decidedFirst] = undefined;
      decidedLines[decidedFirst] = undefined;
      decidedFirst = (decidedFirst + 1) % DECIDED_LINES_KEPT;
      decidedCount--;
      if (remembered === event) return line;
    }
  }
  return encodeEvent(event);
}

/**
 * encodeEvent's bytes (ASCII) written straight into `out` from `at` where that
 * is quick — a price update of exactly its four fields, the bulk of a venue's
 * log, or of those and its `eventId`/`postedBy` (as the Kafka worker and the
 * server log it) — answering where they end; −1 for any other event (or less
 * than ENCODE_INTO_MAX_BYTES of room), which the caller encodes with encodeEvent.
 */
export function encodeEventInto(event: ClearingEvent, out: Uint8Array, at: number): number {
  const end = writePlainPriceUpdate(event, SCHEMA_VERSION, out, at);
  return end >= 0 || event.type !== 'PriceUpdated' ? end : writeScopedPriceUpdate(event, SCHEMA_VERSION, out, at);
}

/**
 * encodeEventInto of the plain price update `{ type: 'PriceUpdated', ts,
 * instrument, price }` given by its fields (PriceFields: `units` the price in
 * ledger units, a positive safe integer; `ts` an integer within a Date's
 * range), with no event object: the same bytes and ENCODED_INTO_LAYOUT; −1
 * for an instrument whose JSON is not printable ASCII or too little room.
 */
export function encodePriceFieldsInto(fields: PriceFields, out: Uint8Array, at: number): number {
  return writePlainPriceFields(fields.ts, fields.instrument, fields.units, SCHEMA_VERSION, out, at);
}

/**
 * The parts of the line encodeEventInto wrote last (PLAIN_PRICE_LAYOUT in fast-codec.ts): [0] is where it starts
 * (−1 when the plain writer declined, even if the scoped one then wrote the line), [1] where its seconds start,
 * [2]–[3] its instrument's middle, [4] the middle's id (−1: not kept), [5] the serial of its head and minute.
 * Read it right after the call.
 */
export const ENCODED_INTO_LAYOUT: Readonly<Int32Array> = PLAIN_PRICE_LAYOUT;

/** The room encodeEventInto needs after `at` (for a line whose ids are at most MAX_ID_LENGTH long). */
export const ENCODE_INTO_MAX_BYTES = Math.max(PLAIN_PRICE_UPDATE_MAX_BYTES, SCOPED_PRICE_UPDATE_MAX_BYTES);

/** encodeEvent without the flat-event fast path: the reference it must match byte for byte. */
export function encodeEventGeneric(event: ClearingEvent): string {
  return JSON.stringify(toCanonicalJson(event));
}
