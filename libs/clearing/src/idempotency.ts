import { formatTimestamp, type InputEvent } from '@clearsim/events';
import { formatFixed } from '@clearsim/money';

/**
 * Idempotency of inputs (docs/idempotency.md).
 *
 * The key of an input is its natural id — `tradeId` of a trade, `requestId`
 * of a withdrawal request or of a token creation/redemption — or, for every other type, its `eventId`. An
 * `eventId` on a trade or a withdrawal request is carried but is not its key:
 * the trade `t-1` posted twice with two different `eventId`s is one trade.
 *
 * Keys are scoped to who posted the input (`postedBy`, set by the server from
 * the API key or by the Kafka worker, never by the client): the same id posted
 * by two venues is two inputs, and one venue can neither erase nor probe
 * another's. Inputs of a file run through the CLI have no `postedBy`: their
 * keys are unscoped, as they always were.
 *
 * Over HTTP and Kafka (a `postedBy` is set), a `Deposited` without `eventId`
 * is keyed by what it is — account, asset, amount and `ts` — so a retry can
 * never credit it twice; two equal deposits at the same instant need two
 * `eventId`s. Inputs of the CLI's files keep their positional meaning (every
 * line is applied).
 */
export function idempotencyKey(input: InputEvent): string | undefined {
  const natural = naturalKey(input);
  if (natural === undefined) return undefined;
  return input.postedBy === undefined ? natural : `${input.postedBy}|${natural}`;
}

function naturalKey(input: InputEvent): string | undefined {
  if (input.type === 'TradeExecuted' || input.type === 'MultiLegTradeExecuted') return `trade:${input.tradeId}`;
  if (input.type === 'WithdrawalRequested') return `withdrawal:${input.requestId}`;
  if (input.type === 'TokenUnitsCreated' || input.type === 'TokenUnitsRedeemed') return `units:${input.requestId}`;
  if (input.eventId !== undefined) return `event:${input.eventId}`;
  if (input.type === 'Deposited' && input.postedBy !== undefined) {
    return `deposit:${input.account}/${input.asset}/${formatFixed(input.amount)}@${formatTimestamp(input.ts)}`;
  }
  return undefined;
}

/** The `postedBy` of every input from the Kafka inputs topic (docs/idempotency.md). */
export const KAFKA_POSTED_BY = 'kafka';

/** The prefix of the `eventId` the Kafka worker gives an input with no id of its own: `kafka:<topic>/<partition>@<offset>`. */
export const KAFKA_POSITION_PREFIX = 'kafka:';

/** The key under which the shard keeps the highest offset applied of one partition: `kafka|position:<topic>/<partition>`. */
export interface KafkaPosition {
  partitionKey: string;
  offset: number;
}

export function kafkaPosition(input: InputEvent): KafkaPosition | undefined {
  // the core asks twice about each input in turn (checkRepeat, then evolve): the second time is the first's answer
  if (input === lastAsked) return lastAnswer;
  let answer: KafkaPosition | undefined;
  if (expected[expectedNext] === input) {
    // the input the Kafka worker said comes next, with its position as numbers: nothing to parse
    const offset = expectedOffsets[expectedNext++]!;
    answer =
      expectedKey !== undefined && Number.isSafeInteger(offset) && offset >= 0 && offset <= MAX_EXPECTED_OFFSET
        ? { partitionKey: expectedKey, offset: offset === 0 ? 0 : offset } // (-0 read back from its digits is 0)
        : positionOf(input);
  } else {
    answer = positionOf(input);
  }
  lastAsked = input;
  lastAnswer = answer;
  return answer;
}

/**
 * The key positionOf gives the ids `kafka:<topic>/<partition>@<offset>` of a
 * partition, or undefined where it reads them as no position (a topic with an
 * `@`, which Kafka's topic names never hold).
 */
export function kafkaPartitionKey(topic: string, partition: number): string | undefined {
  const coordinates = `${topic}/${partition}`;
  return coordinates.includes('@') ? undefined : partitionKeyOf(coordinates);
}

/** The key of a partition's highest offset applied, from its `<topic>/<partition>` (KafkaPosition.partitionKey). */
const partitionKeyOf = (coordinates: string): string => `${KAFKA_POSTED_BY}|position:${coordinates}`;

/**
 * The Kafka worker's word on the inputs it is about to hand to the core, in
 * the order the core takes them: `inputs[i]`'s `eventId` is
 * `kafka:<topic>/<partition>@<offsets[i]>` of the partition whose
 * kafkaPartitionKey is `partitionKey` (`offsets[i]` < 0: no word on it).
 * kafkaPosition then answers for them from these numbers instead of parsing
 * each id again; an input it is asked about out of that order, or an offset
 * of more than 15 digits, is parsed as before. The answer is the same either
 * way (a property in idempotency.unit.spec.ts); inputs are not changed once
 * decoded. Only the last call's inputs are remembered.
 */
export function expectKafkaPositions(inputs: readonly InputEvent[], partitionKey: string | undefined, offsets: readonly number[]): void {
  expected = inputs;
  expectedOffsets = offsets;
  expectedKey = partitionKey;
  expectedNext = 0;
}

/** The inputs of the last expectKafkaPositions, their offsets, their partition's key, and the next the core should ask about. */
let expected: readonly InputEvent[] = [];
let expectedOffsets: readonly number[] = [];
let expectedKey: string | undefined;
let expectedNext = 0;

/** The largest offset positionOf reads: 15 digits. */
const MAX_EXPECTED_OFFSET = 999_999_999_999_999;

/** The input kafkaPosition last answered for, and its answer (a cache: inputs are not changed once decoded). */
let lastAsked: InputEvent | undefined;
let lastAnswer: KafkaPosition | undefined;

function positionOf(input: InputEvent): KafkaPosition | undefined {
  if (input.postedBy !== KAFKA_POSTED_BY) return undefined;
  const id = input.eventId;
  if (id === undefined || !id.startsWith(KAFKA_POSITION_PREFIX)) return undefined;
  if (input.type === 'TradeExecuted' || input.type === 'MultiLegTradeExecuted' || input.type === 'WithdrawalRequested' || input.type === 'TokenUnitsCreated' || input.type === 'TokenUnitsRedeemed') return undefined;
  // a partition's ids share everything up to the offset: its key is built once, not per input
  let partitionKey: string;
  let digitsAt: number;
  if (id.length > lastPrefix.length && id.startsWith(lastPrefix)) {
    partitionKey = lastPartitionKey;
    digitsAt = lastPrefix.length;
  } else {
    const at = id.indexOf('@', KAFKA_POSITION_PREFIX.length);
    if (at < 0) return undefined;
    digitsAt = at + 1;
    partitionKey = partitionKeyOf(id.slice(KAFKA_POSITION_PREFIX.length, at));
    lastPrefix = id.slice(0, digitsAt);
    lastPartitionKey = partitionKey;
  }
  if (digitsAt === id.length || id.length - digitsAt > 15) return undefined; // 15 digits: a safe integer
  let offset = 0;
  for (let i = digitsAt; i < id.length; i++) {
    const digit = id.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    offset = offset * 10 + digit;
  }
  return { partitionKey, offset };
}

/** The last partition kafkaPosition saw: `kafka:<topic>/<partition>@` and its key (a cache; the answer does not depend on it). */
let lastPrefix = '\u0000';
let lastPartitionKey = '';

/**
 * The field that holds an input's key, for messages: `tradeId`, `requestId`
 * or `eventId`. (A deposit keyed by its content never conflicts: another
 * content is another key.)
 */
export function idempotencyField(input: InputEvent): 'tradeId' | 'requestId' | 'eventId' {
  if (input.type === 'TradeExecuted' || input.type === 'MultiLegTradeExecuted') return 'tradeId';
  if (input.type === 'WithdrawalRequested' || input.type === 'TokenUnitsCreated' || input.type === 'TokenUnitsRedeemed') return 'requestId';
  return 'eventId';
}

/** Fields that are not the content of an input: its key's scope, its version tag and (where it is not the key) its `eventId`. */
const NOT_CONTENT = new Set(['postedBy', 'v', 'eventId']);

/**
 * The content of an input as field → canonical text (decimals and timestamps
 * as the log writes them), without `postedBy`, `v` and `eventId`: two inputs
 * with one key are the same input when these are equal.
 */
export function inputContent(input: InputEvent): Map<string, string> {
  const out = new Map<string, string>();
  forEachContentField(input, (field, text) => out.set(field, text));
  return out;
}

function forEachContentField(input: InputEvent, visit: (field: string, text: string) => void): void {
  const fields = input as unknown as Record<string, unknown>;
  for (const field of Object.keys(fields).sort()) {
    const value = fields[field];
    if (value === undefined || NOT_CONTENT.has(field)) continue;
    visit(field, canonicalText(field, value));
  }
}

const TIMESTAMP_FIELDS = new Set(['ts', 'expiry']);

function canonicalText(field: string, value: unknown): string {
  if (typeof value === 'bigint') return formatFixed(value);
  if (typeof value === 'number' && TIMESTAMP_FIELDS.has(field)) return formatTimestamp(value);
  if (typeof value === 'string') return value;
  return stableJson(value);
}

/** JSON with object keys sorted at every depth (a rules object written in another key order is the same rules). */
function stableJson(value: unknown): string {
  if (typeof value === 'bigint') return JSON.stringify(formatFixed(value));
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${stableJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * A 30-bit FNV-1a digest of `inputContent` — a small integer (a V8 Smi on
 * every build, so no heap object per id): the shard keeps key → digest and no
 * copy of the input. Two different contents share a digest with probability
 * 2^-30; such a repeat would be taken for a duplicate (never applied twice).
 */
export function contentDigest(input: InputEvent): number {
  const fields = input as unknown as Record<string, unknown>;
  let hash = 0x811c9dc5 | 0;
  for (const field of sortedKeys(fields)) {
    const value = fields[field];
    if (value === undefined || NOT_CONTENT.has(field)) continue;
    // the cheapest text that is one-to-one with the value (decimals as their units, timestamps as milliseconds)
    const text = typeof value === 'string' ? value : typeof value === 'bigint' || typeof value === 'number' ? String(value) : stableJson(value);
    hash = fnv1a(fnv1a(hash, field), text);
  }
  return hash & 0x3fffffff;
}

/**
 * `Object.keys(fields).sort()`: the sorted order is kept for the last key
 * order seen of each input type (the inputs of a run come in a few shapes),
 * so a repeat of that order costs a comparison instead of a sort.
 */
function sortedKeys(fields: Record<string, unknown>): readonly string[] {
  const keys = Object.keys(fields);
  const type = fields['type'];
  const known = typeof type === 'string' ? SORTED_KEYS.get(type) : undefined;
  if (known !== undefined && sameKeys(known.keys, keys)) return known.sorted;
  const sorted = [...keys].sort();
  if (typeof type === 'string') SORTED_KEYS.set(type, { keys, sorted });
  return sorted;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** sortedKeys' cache, per input type: a key order and its sorted copy (of no meaning between calls). */
const SORTED_KEYS = new Map<string, { keys: readonly string[]; sorted: readonly string[] }>();

/** FNV-1a over `text`, then a separator (0x1f, which no field name or canonical text ends with). */
function fnv1a(hash: number, text: string): number {
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return Math.imul(hash ^ 0x1f, 0x01000193);
}

/** The fields in which two versions of one input differ: `{field, first, repeat}` with canonical texts (`null`: absent). */
export function contentDifferences(first: InputEvent, repeat: InputEvent): { field: string; first: string | null; repeat: string | null }[] {
  const a = inputContent(first);
  const b = inputContent(repeat);
  const fields = [...new Set([...a.keys(), ...b.keys()])].sort();
  return fields.filter((field) => a.get(field) !== b.get(field)).map((field) => ({ field, first: a.get(field) ?? null, repeat: b.get(field) ?? null }));
}
