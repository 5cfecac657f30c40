import { parseRules, RulesError } from '@clearsim/rules';
import type { z } from 'zod';
import { DECISION_SCHEMAS, type DecisionEvent } from './decision-events';
import { decodePriceLine, fastDecodeInput, parseFlatStringObject } from './fast-codec';
import { InputError, type FieldIssue } from './input-error';
import { quoteInput } from './timestamp';

export { InputError, type FieldIssue } from './input-error';
export { SCHEMA_VERSION } from './schema-version';
export { encodeEventInto, encodePriceFieldsInto, ENCODED_INTO_LAYOUT, ENCODE_INTO_MAX_BYTES } from './encode-into';
export { encodeEvent, encodeEventGeneric, toCanonicalJson } from './encode';
import { encodeEvent } from './encode';
/** A mark line decoded from its UTF-8 bytes (the run command's reader; the Kafka worker's, in any of its layouts): see fast-codec.ts. */
export { decodePriceBytes, decodePriceBytesInto, decodePriceUpdateBytes, decodeStoredPriceUpdateBytes, PriceFields } from './fast-codec';
import { INPUT_SCHEMAS, type InputEvent } from './input-events';
import { jsonTextProblem } from './json-limits';

export type ClearingEvent = InputEvent | DecisionEvent;
export type EventType = ClearingEvent['type'];

const SCHEMAS: Record<string, z.ZodType> = { ...INPUT_SCHEMAS, ...DECISION_SCHEMAS };

export const isInputType = (type: string): type is InputEvent['type'] => Object.hasOwn(INPUT_SCHEMAS, type);
export const isDecisionType = (type: string): type is DecisionEvent['type'] => Object.hasOwn(DECISION_SCHEMAS, type);
export const isInput = (event: ClearingEvent): event is InputEvent => isInputType(event.type);
export const isDecision = (event: ClearingEvent): event is DecisionEvent => isDecisionType(event.type);

/** An unknown key as an issue names it: at most 64 characters of it (a refusal of a 10 MB key is not 10 MB long). */
const boundedKey = (key: string): string => (key.length <= 64 ? key : `${key.slice(0, 32)}… (${key.length} characters)`);

function issuesOf(error: z.ZodError): FieldIssue[] {
  // an unknown field is named as the field itself, as the HTTP DTOs name it (`colour: unknown field`)
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys' ? issue.keys.map((key) => ({ field: [...issue.path, boundedKey(key)].join('.'), message: 'unknown field' })) : [{ field: issue.path.join('.'), message: issue.message }],
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
    throw new InputError([{ field: 'type', message: `unknown ${allow === 'input' ? 'input ' : ''}event type ${quoteInput(type)} (expected one of ${known.join(', ')})` }]);
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

