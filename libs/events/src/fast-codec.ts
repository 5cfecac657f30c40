import { formatFixed, type Fixed } from '@clearsim/money';
import { controlCharacterAt } from '@clearsim/rules/id-characters';
import { MAX_ID_LENGTH } from './id-limits';
import type { ClockAdvanced, Deposited, InputEvent, PriceUpdated, TradeExecuted } from './input-events';
import { formatTimestamp, type Timestamp } from './timestamp';

/**
 * Fast paths of the codec for the inputs a venue day is made of (price
 * updates above all, then trades, deposits and clock ticks).
 *
 * `fastDecodeInput` checks a parsed JSON object of the plain, common shape by
 * hand (exact key set, string types, decimal syntax, timestamp syntax and
 * calendar validity) and builds the same event the schema would. It answers
 * `undefined` for anything else — another type, a JSON number for a decimal,
 * an exponent, a zero or negative amount, an unusual timestamp, an unknown or
 * missing field — and the caller then decodes with the schema, which stays
 * the authority (and the source of every error message). A property test
 * (codec.unit.spec.ts) proves both agree on random valid and invalid inputs.
 */
export function fastDecodeInput(raw: object): InputEvent | undefined {
  if (Object.getPrototypeOf(raw) !== Object.prototype) return undefined;
  const r = raw as Record<string, unknown>;
  const event = decodeByType(r);
  // the scope the server logs with an input (baseFieldOk checked it is an id)
  if (event !== undefined && r.postedBy !== undefined) event.postedBy = r.postedBy as string;
  return event;
}

function decodeByType(r: Record<string, unknown>): InputEvent | undefined {
  switch (r.type) {
    case 'PriceUpdated':
      return decodePriceUpdated(r);
    case 'TradeExecuted':
      return decodeTradeExecuted(r);
    case 'Deposited':
      return decodeDeposited(r);
    case 'ClockAdvanced':
      return decodeClockAdvanced(r);
    default:
      return undefined;
  }
}

/** The fields every input may carry besides its own: the result is false if `key` is none of them or its value is unusual. */
function baseFieldOk(key: string, value: unknown): boolean {
  switch (key) {
    case 'type':
      return true; // checked by the caller
    case 'ts':
      return typeof value === 'string';
    case 'eventId':
    case 'postedBy':
      return isId(value);
    case 'v':
      return value === 1;
    default:
      return false;
  }
}

/** An id the schema takes: 1 to MAX_ID_LENGTH characters, no control character (one scan of at most 128 code units). */
const isId = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH && controlCharacterAt(value) < 0;

function decodePriceUpdated(r: Record<string, unknown>): PriceUpdated | undefined {
  let n = 0;
  for (const key in r) {
    n++;
    if (key === 'instrument' || key === 'price') continue;
    if (!baseFieldOk(key, r[key])) return undefined;
  }
  if (!isId(r.instrument) || n < 4) return undefined;
  const ts = fastTimestamp(r.ts);
  const price = fastPositiveFixed(r.price);
  if (ts === undefined || price === undefined) return undefined;
  return r.eventId === undefined
    ? { type: 'PriceUpdated', ts, instrument: r.instrument, price }
    : { type: 'PriceUpdated', ts, eventId: r.eventId as string, instrument: r.instrument, price };
}

const TRADE_FIELDS = new Set(['tradeId', 'instrument', 'buyer', 'seller', 'qty', 'price', 'buyerFee', 'sellerFee']);

function decodeTradeExecuted(r: Record<string, unknown>): TradeExecuted | undefined {
  for (const key in r) {
    if (TRADE_FIELDS.has(key)) continue;
    if (!baseFieldOk(key, r[key])) return undefined;
  }
  const { tradeId, instrument, buyer, seller } = r;
  if (!isId(tradeId) || !isId(instrument) || !isId(buyer) || !isId(seller) || buyer === seller) return undefined;
  const ts = fastTimestamp(r.ts);
  const qty = fastPositiveFixed(r.qty);
  const price = fastPositiveFixed(r.price);
  const buyerFee = r.buyerFee === undefined && !('buyerFee' in r) ? 0n : fastFixed(r.buyerFee);
  const sellerFee = r.sellerFee === undefined && !('sellerFee' in r) ? 0n : fastFixed(r.sellerFee);
  if (ts === undefined || qty === undefined || price === undefined || buyerFee === undefined || sellerFee === undefined) return undefined;
  return r.eventId === undefined
    ? { type: 'TradeExecuted', ts, tradeId, instrument, buyer, seller, qty, price, buyerFee, sellerFee }
    : { type: 'TradeExecuted', ts, eventId: r.eventId as string, tradeId, instrument, buyer, seller, qty, price, buyerFee, sellerFee };
}

function decodeDeposited(r: Record<string, unknown>): Deposited | undefined {
  let n = 0;
  for (const key in r) {
    n++;
    if (key === 'account' || key === 'asset' || key === 'amount') continue;
    if (!baseFieldOk(key, r[key])) return undefined;
  }
  const { account, asset } = r;
  if (!isId(account) || !isId(asset) || n < 5) return undefined;
  const ts = fastTimestamp(r.ts);
  const amount = fastPositiveFixed(r.amount);
  if (ts === undefined || amount === undefined) return undefined;
  return r.eventId === undefined
    ? { type: 'Deposited', ts, account, asset, amount }
    : { type: 'Deposited', ts, eventId: r.eventId as string, account, asset, amount };
}

function decodeClockAdvanced(r: Record<string, unknown>): ClockAdvanced | undefined {
  for (const key in r) if (!baseFieldOk(key, r[key])) return undefined;
  const ts = fastTimestamp(r.ts);
  if (ts === undefined) return undefined;
  return r.eventId === undefined ? { type: 'ClockAdvanced', ts } : { type: 'ClockAdvanced', ts, eventId: r.eventId as string };
}

/** A plain decimal string: optional minus, digits, at most 8 decimals (no exponent, no spaces, no "+"). */
const PLAIN_DECIMAL = /^(-?)(\d{1,30})(?:\.(\d{1,8}))?$/;

function fastFixed(value: unknown): bigint | undefined {
  if (typeof value !== 'string') return undefined;
  const small = smallDecimalUnits(value);
  if (small !== undefined) return BigInt(small);
  const m = PLAIN_DECIMAL.exec(value);
  if (!m) return undefined;
  const frac = m[3] ?? '';
  const units = BigInt(m[2]! + frac + '00000000'.slice(frac.length));
  return m[1] ? -units : units;
}

/**
 * PLAIN_DECIMAL's value in ledger units, scanned by hand (no match array, no
 * string building), when the decimal has at most 15 digits: the integer they
 * spell is below 2^53, so exact in a float64, and so is its product by
 * 10^(8 − decimals) while that stays ≤ 2^53 − 1 (checked). Undefined for
 * anything else, which the regex path then decides. Reads text[start, end).
 */
function smallDecimalUnits(text: string, start = 0, end = text.length): number | undefined {
  let i = text.charCodeAt(start) === 45 /* - */ ? start + 1 : start;
  const negative = i !== start;
  let units = 0;
  let digitCount = 0;
  for (; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    units = units * 10 + d;
    digitCount++;
  }
  if (digitCount === 0) return undefined;
  let places = 0;
  if (i < end) {
    if (text.charCodeAt(i) !== 46 /* . */) return undefined;
    for (i++; i < end; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return undefined;
      units = units * 10 + d;
      places++;
    }
    if (places === 0 || places > 8) return undefined;
    digitCount += places;
  }
  if (digitCount > 15) return undefined;
  units *= POWERS_OF_TEN[8 - places]!;
  if (units > Number.MAX_SAFE_INTEGER) return undefined;
  return negative ? -units : units;
}

const POWERS_OF_TEN = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8];

function fastPositiveFixed(value: unknown): bigint | undefined {
  const units = fastFixed(value);
  return units !== undefined && units > 0n ? units : undefined;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

// consecutive inputs often share a timestamp: remember the last one
let lastTsText = '';
let lastTsValue: Timestamp = 0;

/**
 * `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.sssZ` with a real calendar
 * date and time of day (year 1000–9999), as milliseconds; undefined for any
 * other form (the schema's parser decides those).
 */
export function fastTimestamp(value: unknown): Timestamp | undefined {
  if (typeof value !== 'string') return undefined;
  if (value === lastTsText) return lastTsValue;
  const len = value.length;
  if (len !== 20 && len !== 24) return undefined;
  if (value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45 || value.charCodeAt(10) !== 84 || value.charCodeAt(13) !== 58 || value.charCodeAt(16) !== 58 || value.charCodeAt(len - 1) !== 90) {
    return undefined;
  }
  let ms = 0;
  if (len === 24) {
    if (value.charCodeAt(19) !== 46) return undefined;
    ms = digits(value, 20, 3);
  }
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  if (year < 1000 || ms < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return undefined;
  lastTsText = value;
  lastTsValue = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (!value.startsWith(lastMinuteText)) {
    lastMinuteText = value.slice(0, 17);
    lastMinuteValue = lastTsValue - second * 1000 - ms;
  }
  return lastTsValue;
}

// the minute of the last timestamp parsed in full: "YYYY-MM-DDTHH:MM:" (always 17 characters once set) and its milliseconds
let lastMinuteText = '\u0000';
let lastMinuteValue = 0;

/**
 * fastTimestamp of text[from, to) when it starts with the last parsed
 * minute (checked by the caller): only the seconds and milliseconds are read,
 * with fastTimestamp's checks. Undefined for anything else.
 */
function timestampInLastMinute(text: string, from: number, to: number): Timestamp | undefined {
  const length = to - from;
  if ((length !== 20 && length !== 24) || text.charCodeAt(to - 1) !== 90 /* Z */) return undefined;
  const second = digits(text, from + 17, 2);
  if (second < 0 || second > 59) return undefined;
  let ms = 0;
  if (length === 24) {
    if (text.charCodeAt(from + 19) !== 46 /* . */) return undefined;
    ms = digits(text, from + 20, 3);
    if (ms < 0) return undefined;
  }
  return lastMinuteValue + second * 1000 + ms;
}

/** The decimal number of `count` ASCII digits at `from`; −1 if any is not a digit. */
function digits(text: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

const TIMESTAMP_FIELDS = new Set(['ts', 'deadline', 'expiry']);
const isDigit = (code: number): boolean => code >= 48 && code <= 57;
const keyPrefixes = new Map<string, string>();

function keyPrefix(key: string): string {
  let prefix = keyPrefixes.get(key);
  if (prefix === undefined) {
    prefix = ',' + JSON.stringify(key) + ':';
    keyPrefixes.set(key, prefix);
  }
  return prefix;
}

// events of one type mostly have the same keys in the same order: their sorted order is kept per type
const keyOrders = new Map<string, { keys: string[]; sorted: string[] }>();

function sortedKeys(type: string, keys: string[]): string[] {
  const known = keyOrders.get(type);
  if (known && known.keys.length === keys.length && known.keys.every((key, i) => key === keys[i])) return known.sorted;
  const sorted = [...keys].sort();
  keyOrders.set(type, { keys, sorted });
  return sorted;
}

/**
 * The canonical JSON line of an event whose fields are all flat (strings,
 * bigints, numbers, booleans), built by concatenation; undefined for any
 * other event (nested values, a `v` or non-numeric `ts` field), which the
 * generic encoder handles. Byte-identical to the generic encoder (a property
 * test compares them).
 */
export function fastEncode(event: object, schemaVersion: number): string | undefined {
  const e = event as Record<string, unknown>;
  const ts = e.ts;
  if (typeof ts !== 'number' || typeof e.type !== 'string') return undefined;
  if (e.type === 'PriceUpdated') {
    const line = encodePlainPriceUpdate(e, ts, schemaVersion) ?? encodeScopedPriceUpdate(e, ts, schemaVersion);
    if (line !== undefined) return line;
  }
  // (the canonical form lists type, v and ts first, then the other fields sorted: see toCanonicalJson in codec.ts)
  const keys = sortedKeys(e.type, Object.keys(e));
  let out = '{"type":' + JSON.stringify(e.type) + ',"v":' + schemaVersion + ',"ts":"' + formatTimestamp(ts) + '"';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (key === 'type' || key === 'ts') continue;
    const value = e[key];
    // a `v` field would replace the version the generic encoder writes second; `__proto__` is not a plain key
    // there; an integer-like key ("0") is put before every other key by JavaScript's own object order
    if ((key === 'v' || key === '__proto__' || isDigit(key.charCodeAt(0))) && value !== undefined) return undefined;
    switch (typeof value) {
      case 'undefined':
        continue;
      case 'string':
        out += keyPrefix(key) + JSON.stringify(value);
        continue;
      case 'bigint':
        out += keyPrefix(key) + '"' + formatFixed(value) + '"';
        continue;
      case 'number':
        out += keyPrefix(key) + (TIMESTAMP_FIELDS.has(key) ? '"' + formatTimestamp(value) + '"' : JSON.stringify(value));
        continue;
      case 'boolean':
        out += keyPrefix(key) + (value ? 'true' : 'false');
        continue;
      default:
        return undefined;
    }
  }
  return out + '}';
}

/**
 * The canonical line of a price update with exactly its four fields (what
 * the fast decoder makes of a venue's mark line), without listing and sorting
 * its keys: type, v, ts, then instrument and price (sorted). Undefined for any
 * other shape.
 */
function encodePlainPriceUpdate(e: Record<string, unknown>, ts: number, schemaVersion: number): string | undefined {
  const { instrument, price } = e;
  if (typeof instrument !== 'string' || typeof price !== 'bigint' || Object.getPrototypeOf(e) !== Object.prototype) return undefined;
  let keys = 0;
  for (const key in e) {
    keys++;
    if (key !== 'type' && key !== 'ts' && key !== 'instrument' && key !== 'price') return undefined;
  }
  if (keys !== 4) return undefined;
  if (schemaVersion !== priceHeadVersion) {
    priceHead = '{"type":"PriceUpdated","v":' + schemaVersion + ',"ts":"';
    priceHeadVersion = schemaVersion;
  }
  // the text between the timestamp and the price depends on the instrument alone: kept per instrument (a venue has a few hundred)
  let middle = priceMiddles.get(instrument);
  if (middle === undefined) {
    middle = '","instrument":' + JSON.stringify(instrument) + ',"price":"';
    if (priceMiddles.size < 10_000) priceMiddles.set(instrument, middle);
  }
  return priceHead + formatTimestamp(ts) + middle + formatFixed(price) + '"}';
}

/**
 * A price update of its four fields plus a string `eventId` and/or
 * `postedBy` (what the Kafka worker and the server log: the key's scope and
 * id), in canonical order: eventId, instrument, postedBy, price.
 */
function encodeScopedPriceUpdate(e: Record<string, unknown>, ts: number, schemaVersion: number): string | undefined {
  const { instrument, price, eventId, postedBy } = e;
  if (typeof instrument !== 'string' || typeof price !== 'bigint' || Object.getPrototypeOf(e) !== Object.prototype) return undefined;
  if ((eventId !== undefined && typeof eventId !== 'string') || (postedBy !== undefined && typeof postedBy !== 'string')) return undefined;
  for (const key in e) {
    if (key !== 'type' && key !== 'ts' && key !== 'instrument' && key !== 'price' && key !== 'eventId' && key !== 'postedBy') return undefined;
  }
  if (schemaVersion !== priceHeadVersion) {
    priceHead = '{"type":"PriceUpdated","v":' + schemaVersion + ',"ts":"';
    priceHeadVersion = schemaVersion;
  }
  let out = priceHead + formatTimestamp(ts) + '"';
  if (eventId !== undefined) out += ',"eventId":' + JSON.stringify(eventId);
  out += ',"instrument":' + JSON.stringify(instrument);
  if (postedBy !== undefined) out += ',"postedBy":' + JSON.stringify(postedBy);
  return out + ',"price":"' + formatFixed(price) + '"}';
}

let priceHead = '';
let priceHeadVersion = NaN;
const priceMiddles = new Map<string, string>();

/**
 * JSON.parse for the commonest line shape only: one flat object of string
 * values, no whitespace, no escapes (`{"ts":"…","type":"PriceUpdated",…}`).
 * Anything else — a number, a nested value, a space, a backslash, a control
 * character, a `__proto__` key, trailing text — answers undefined and the
 * caller uses JSON.parse (and its error messages). Where it answers, the
 * object is the one JSON.parse gives (same keys in the same order; a repeated
 * key keeps its last value); a property test compares them.
 */
export function parseFlatStringObject(line: string): Record<string, string> | undefined {
  const end = line.length;
  if (end < 2 || line.charCodeAt(0) !== 123 /* { */) return undefined;
  const out: Record<string, string> = {};
  if (end === 2 && line.charCodeAt(1) === 125 /* } */) return out;
  let i = 1;
  for (;;) {
    const keyEnd = plainStringEnd(line, i);
    if (keyEnd < 0 || line.charCodeAt(keyEnd + 1) !== 58 /* : */) return undefined;
    const valueEnd = plainStringEnd(line, keyEnd + 2);
    if (valueEnd < 0) return undefined;
    const key = knownKey(line, i + 1, keyEnd) ?? line.slice(i + 1, keyEnd);
    if (key === '__proto__') return undefined;
    out[key] = line.slice(keyEnd + 3, valueEnd);
    const next = line.charCodeAt(valueEnd + 1);
    if (next === 125 /* } */) return valueEnd + 2 === end ? out : undefined;
    if (next !== 44 /* , */) return undefined;
    i = valueEnd + 2;
  }
}

const PRICE_LINE_HEAD = '{"ts":"';
const PRICE_LINE_TYPE = '","type":"PriceUpdated","instrument":"';
const PRICE_LINE_PRICE = '","price":"';
/** The same event as the log stores it (its canonical JSON: type and version first). */
const PRICE_LOG_HEAD = '{"type":"PriceUpdated","v":1,"ts":"';
const PRICE_LOG_INSTRUMENT = '","instrument":"';

/**
 * The line of a venue's mark, `{"ts":"…","type":"PriceUpdated","instrument":"…","price":"…"}`
 * exactly (this key order, no whitespace, no escape), or the same event as the
 * log stores it, `{"type":"PriceUpdated","v":1,"ts":"…","instrument":"…","price":"…"}`
 * (its canonical JSON: every replay, verify and restart reads each mark this
 * way), decoded in one scan: no intermediate object, no key strings, the
 * timestamp's text compared in place with the last one, the price's digits
 * read in place. Undefined for any other line, which parseFlatStringObject /
 * JSON.parse and the fast decoder or the schema then take (the authority for
 * every refusal). Where it answers, the event is the fast decoder's (hence the
 * schema's) for the same line; a property test compares them.
 */
export function decodePriceLine(line: string): PriceUpdated | undefined {
  let tsStart: number;
  let afterTs: string;
  if (line.startsWith(PRICE_LINE_HEAD)) {
    tsStart = PRICE_LINE_HEAD.length;
    afterTs = PRICE_LINE_TYPE;
  } else if (line.startsWith(PRICE_LOG_HEAD)) {
    tsStart = PRICE_LOG_HEAD.length;
    afterTs = PRICE_LOG_INSTRUMENT;
  } else {
    return undefined;
  }
  const tsEnd = line.indexOf('"', tsStart);
  if (tsEnd !== tsStart + 20 && tsEnd !== tsStart + 24) return undefined;
  if (!line.startsWith(afterTs, tsEnd)) return undefined;
  const ts =
    tsEnd - tsStart === lastTsText.length && line.startsWith(lastTsText, tsStart)
      ? lastTsValue
      : ((line.startsWith(lastMinuteText, tsStart) ? timestampInLastMinute(line, tsStart, tsEnd) : undefined) ?? fastTimestamp(line.slice(tsStart, tsEnd)));
  if (ts === undefined) return undefined;
  const instrumentStart = tsEnd + afterTs.length;
  const instrumentEnd = plainStringEnd(line, instrumentStart - 1);
  if (instrumentEnd <= instrumentStart || instrumentEnd - instrumentStart > MAX_ID_LENGTH || !line.startsWith(PRICE_LINE_PRICE, instrumentEnd)) return undefined;
  // plainStringEnd stops at C0, which JSON may not hold raw; DEL and C1 it may, and an id may not
  if (controlCharacterAt(line, instrumentStart, instrumentEnd) >= 0) return undefined;
  const end = line.length;
  if (line.charCodeAt(end - 1) !== 125 /* } */ || line.charCodeAt(end - 2) !== 34 /* " */) return undefined;
  const units = smallDecimalUnits(line, instrumentEnd + PRICE_LINE_PRICE.length, end - 2);
  if (units === undefined || !(units > 0)) return undefined;
  return { type: 'PriceUpdated', ts, instrument: line.slice(instrumentStart, instrumentEnd), price: BigInt(units) };
}

const asciiOf = (text: string): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
};
const PRICE_HEAD_BYTES = asciiOf(PRICE_LINE_HEAD);
const PRICE_TYPE_BYTES = asciiOf(PRICE_LINE_TYPE);
const PRICE_PRICE_BYTES = asciiOf(PRICE_LINE_PRICE);

/** `bytes[at, at + constant.length)` is `constant`. */
export function bytesAre(bytes: Uint8Array, at: number, constant: Uint8Array): boolean {
  for (let i = 0; i < constant.length; i++) if (bytes[at + i] !== constant[i]) return false;
  return true;
}

// the minute ("YYYY-MM-DDTHH:MM:") of the last timestamp decoded from bytes, and its value
const minuteOfBytes = new Uint8Array(17);
let minuteOfBytesSet = false;
let minuteOfBytesValue = 0;

/** Two ASCII digits at `at` as a number, or −1. */
function twoDigits(bytes: Uint8Array, at: number): number {
  const a = bytes[at]! - 48;
  const b = bytes[at + 1]! - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? 10 * a + b : -1;
}

/**
 * fastTimestamp of the ASCII bytes [from, to) (20 or 24 of them): only the
 * seconds and milliseconds read within the last minute (the same cost as
 * comparing with the last timestamp's bytes, which also had to be copied per
 * line), fastTimestamp itself (on a string of the bytes) otherwise. Undefined
 * where fastTimestamp is.
 */
function timestampOfBytes(bytes: Uint8Array, from: number, to: number): Timestamp | undefined {
  const length = to - from;
  let value: Timestamp | undefined;
  if (minuteOfBytesSet && bytesAre(bytes, from, minuteOfBytes)) {
    // the checks of fastTimestamp on what follows the minute: SS, then Z or .sssZ
    if (bytes[to - 1] !== 90 /* Z */) return undefined;
    const second = twoDigits(bytes, from + 17);
    if (second < 0 || second > 59) return undefined;
    let ms = 0;
    if (length === 24) {
      if (bytes[from + 19] !== 46 /* . */) return undefined;
      const high = bytes[from + 20]! - 48;
      const low = twoDigits(bytes, from + 21);
      if (high < 0 || high > 9 || low < 0) return undefined;
      ms = 100 * high + low;
    }
    value = minuteOfBytesValue + second * 1000 + ms;
  } else {
    let text = '';
    for (let i = from; i < to; i++) text += String.fromCharCode(bytes[i]!);
    value = fastTimestamp(text);
    if (value === undefined) return undefined;
    // fastTimestamp checked the form: the seconds and milliseconds are digits
    const second = twoDigits(bytes, from + 17);
    const ms = length === 24 ? 100 * (bytes[from + 20]! - 48) + twoDigits(bytes, from + 21) : 0;
    for (let i = 0; i < 17; i++) minuteOfBytes[i] = bytes[from + i]!;
    minuteOfBytesSet = true;
    minuteOfBytesValue = value - second * 1000 - ms;
  }
  return value;
}

/** Instrument ids met in mark lines, in the slot of a hash of their bytes (the last one there wins): an id seen before costs no string. */
const INSTRUMENT_SLOTS = 4096;
const instrumentSlots: ({ ascii: Uint8Array; id: string } | undefined)[] = new Array(INSTRUMENT_SLOTS).fill(undefined);

/** The id spelled by the ASCII bytes [from, to), from instrumentSlots when it is there. */
function instrumentOfBytes(bytes: Uint8Array, from: number, to: number, hash: number): string {
  const slot = hash & (INSTRUMENT_SLOTS - 1);
  const known = instrumentSlots[slot];
  if (known !== undefined && known.ascii.length === to - from && bytesAre(bytes, from, known.ascii)) return known.id;
  let id = '';
  for (let i = from; i < to; i++) id += String.fromCharCode(bytes[i]!);
  // a copy: `bytes` is the reader's buffer, which the next read overwrites (a Buffer's slice would be a view of it)
  instrumentSlots[slot] = { ascii: Uint8Array.prototype.slice.call(bytes, from, to), id };
  return id;
}

/**
 * decodePriceLine over the line's UTF-8 bytes, `bytes[start, end)` (no line
 * break), without decoding them to a string: the same layout, checks and
 * event, but only where the timestamp and the instrument are printable ASCII
 * (any other line, or a mark line with a non-ASCII instrument, is undefined
 * and goes to decodeLine on its text). The instrument's string is shared with
 * the last line that named the same bytes. Where it answers, the event is
 * decodeLine's for the line's text (a property test compares them).
 */
export function decodePriceBytes(bytes: Uint8Array, start: number, end: number): PriceUpdated | undefined {
  return decodePriceBytesInto(bytes, start, end, SCRATCH_FIELDS) ? priceUpdateOf(SCRATCH_FIELDS) : undefined;
}

/**
 * A price update's fields as the byte decoders read them: the price in ledger
 * units (10^-8) as a positive safe integer. A caller that only copies them
 * (the decode thread's columns) reuses one: no event object, no bigint.
 */
export class PriceFields {
  ts: Timestamp = 0;
  instrument = '';
  units = 0;
}

const SCRATCH_FIELDS = new PriceFields();

const priceUpdateOf = (fields: PriceFields): PriceUpdated => ({ type: 'PriceUpdated', ts: fields.ts, instrument: fields.instrument, price: BigInt(fields.units) as Fixed });

/** decodePriceBytes into `into` (true), with no event made; false (`into` meaningless) where decodePriceBytes answers undefined. */
export function decodePriceBytesInto(bytes: Uint8Array, start: number, end: number, into: PriceFields): boolean {
  if (end - start < 80 || !bytesAre(bytes, start, PRICE_HEAD_BYTES)) return false;
  const tsStart = start + PRICE_HEAD_BYTES.length;
  const tsEnd = bytes[tsStart + 24] === 34 /* " */ ? tsStart + 24 : bytes[tsStart + 20] === 34 ? tsStart + 20 : -1;
  if (tsEnd < 0 || !bytesAre(bytes, tsEnd, PRICE_TYPE_BYTES)) return false;
  const ts = timestampOfBytes(bytes, tsStart, tsEnd);
  if (ts === undefined) return false;
  return priceAfterInstrumentKey(bytes, ts, tsEnd + PRICE_TYPE_BYTES.length, end, into);
}

/**
 * The rest of a price update's bytes from the first byte of its instrument's
 * value: `…","price":"…"}` up to `end`, checked and read as decodePriceBytes
 * does (printable ASCII instrument of at most MAX_ID_LENGTH, a positive
 * decimal of at most 15 digits and 8 places), with the timestamp `ts` already
 * read. Undefined for anything else.
 */
function priceAfterInstrumentKey(bytes: Uint8Array, ts: Timestamp, instrumentStart: number, end: number, into: PriceFields): boolean {
  let instrumentEnd = instrumentStart;
  let hash = 0;
  for (; instrumentEnd < end; instrumentEnd++) {
    const c = bytes[instrumentEnd]!;
    if (c === 34) break;
    // printable ASCII only: no escape, and none of the control characters an id may not hold (C0, DEL; C1 is not ASCII)
    if (c === 92 /* \ */ || c < 32 || c > 126) return false;
    hash = (Math.imul(hash, 31) + c) & 0x3fffffff;
  }
  if (instrumentEnd === instrumentStart || instrumentEnd - instrumentStart > MAX_ID_LENGTH || !bytesAre(bytes, instrumentEnd, PRICE_PRICE_BYTES)) return false;
  if (bytes[end - 1] !== 125 /* } */ || bytes[end - 2] !== 34 /* " */) return false;
  // smallDecimalUnits of the price's text: a positive decimal of at most 15 digits, 8 places
  let i = instrumentEnd + PRICE_PRICE_BYTES.length;
  const priceEnd = end - 2;
  let units = 0;
  let digitCount = 0;
  for (; i < priceEnd; i++) {
    const d = bytes[i]! - 48;
    if (d < 0 || d > 9) break;
    units = units * 10 + d;
    digitCount++;
  }
  if (digitCount === 0) return false;
  let places = 0;
  if (i < priceEnd) {
    if (bytes[i] !== 46 /* . */) return false;
    for (i++; i < priceEnd; i++) {
      const d = bytes[i]! - 48;
      if (d < 0 || d > 9) return false;
      units = units * 10 + d;
      places++;
    }
    if (places === 0 || places > 8) return false;
    digitCount += places;
  }
  if (digitCount > 15) return false;
  units *= POWERS_OF_TEN[8 - places]!;
  if (!(units > 0) || units > Number.MAX_SAFE_INTEGER) return false;
  into.ts = ts;
  into.instrument = instrumentOfBytes(bytes, instrumentStart, instrumentEnd, hash);
  into.units = units;
  return true;
}

const TYPED_PRICE_KEY_BYTES = asciiOf('"type":"PriceUpdated",');
const VERSION_ONE_BYTES = asciiOf('"v":1,');
const TS_KEY_BYTES = asciiOf('"ts":"');
const INSTRUMENT_KEY_BYTES = asciiOf('","instrument":"');

/**
 * decodePriceBytes (the ts-first layout of a venue's day file), and also a
 * price update written type first, as encodeEvent writes one
 * (`{"type":"PriceUpdated","v":1,"ts":"…","instrument":"…","price":"…"}`:
 * what a producer gets from clearsim's own encoder, e.g. on the Kafka inputs
 * topic) or as JSON.stringify writes `{type, ts, instrument, price}` (the
 * same without `"v":1,`). Exactly these keys in this order, no whitespace, no
 * escape, the same checks and caches as decodePriceBytes. Undefined for
 * anything else, which decodeLine then takes on the text (the authority for
 * every refusal). Where it answers, the event is decodeLine's for the bytes'
 * text (a property test compares them).
 */
export function decodePriceUpdateBytes(bytes: Uint8Array, start: number, end: number): PriceUpdated | undefined {
  if (end - start < 80) return undefined;
  if (bytes[start] !== 123 /* { */ || !bytesAre(bytes, start + 1, TYPED_PRICE_KEY_BYTES)) return decodePriceBytes(bytes, start, end);
  return typedPriceUpdate(bytes, start + 1 + TYPED_PRICE_KEY_BYTES.length, end);
}

/**
 * decodePriceUpdateBytes of the JSON `{` ‖ bytes[afterBrace, end), type first only: a mark as the file store's log
 * holds it, whose event's opening brace is the comma after the line's crc member. Every full read of the log
 * (replay, verify, a restart without a snapshot) decodes its marks this way, with no string made of the line.
 */
export function decodeStoredPriceUpdateBytes(bytes: Uint8Array, afterBrace: number, end: number): PriceUpdated | undefined {
  if (end - afterBrace < 79 || !bytesAre(bytes, afterBrace, TYPED_PRICE_KEY_BYTES)) return undefined;
  return typedPriceUpdate(bytes, afterBrace + TYPED_PRICE_KEY_BYTES.length, end);
}

/** A type-first price update from the byte after its `"type":"PriceUpdated",`: an optional `"v":1,`, then ts, instrument and price. */
function typedPriceUpdate(bytes: Uint8Array, afterType: number, end: number): PriceUpdated | undefined {
  let at = afterType;
  if (bytesAre(bytes, at, VERSION_ONE_BYTES)) at += VERSION_ONE_BYTES.length;
  if (!bytesAre(bytes, at, TS_KEY_BYTES)) return undefined;
  const tsStart = at + TS_KEY_BYTES.length;
  const tsEnd = bytes[tsStart + 24] === 34 /* " */ ? tsStart + 24 : bytes[tsStart + 20] === 34 ? tsStart + 20 : -1;
  if (tsEnd < 0 || tsEnd + INSTRUMENT_KEY_BYTES.length > end || !bytesAre(bytes, tsEnd, INSTRUMENT_KEY_BYTES)) return undefined;
  const ts = timestampOfBytes(bytes, tsStart, tsEnd);
  if (ts === undefined) return undefined;
  return priceAfterInstrumentKey(bytes, ts, tsEnd + INSTRUMENT_KEY_BYTES.length, end, SCRATCH_FIELDS) ? priceUpdateOf(SCRATCH_FIELDS) : undefined;
}

/** The keys of the hot inputs, by length: a key found here is the constant (no slice, and V8 need not look it up to use it as a property name). */
const KNOWN_KEYS: string[][] = [];
for (const key of ['ts', 'type', 'instrument', 'price', 'eventId', 'account', 'asset', 'amount', 'tradeId', 'buyer', 'seller', 'qty', 'buyerFee', 'sellerFee']) (KNOWN_KEYS[key.length] ??= []).push(key);

function knownKey(line: string, start: number, end: number): string | undefined {
  const candidates = KNOWN_KEYS[end - start];
  if (candidates) for (const key of candidates) if (line.startsWith(key, start)) return key;
  return undefined;
}

/** The index of the closing quote of a string starting at `from` with no escape or control character; −1 otherwise. */
function plainStringEnd(text: string, from: number): number {
  if (text.charCodeAt(from) !== 34 /* " */) return -1;
  for (let i = from + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) return i;
    if (c === 92 /* \ */ || c < 32) return -1;
  }
  return -1;
}

const MAX_EXACT_UNITS = BigInt(Number.MAX_SAFE_INTEGER);
/** The most bytes writePlainPriceUpdate writes: head, a timestamp of a Date's range, an instrument of MAX_ID_LENGTH ASCII characters, 17 digits and a point. */
export const PLAIN_PRICE_UPDATE_MAX_BYTES = 64 + 32 + 48 + MAX_ID_LENGTH + 24;

/** `{"type":"PriceUpdated","v":…,"ts":"` and the minute `minuteBytesOf`'s text (`YYYY-MM-DDTHH:MM:`), as bytes. */
let headAndMinuteBytes: Uint8Array = new Uint8Array(0);
let minuteBytesOf = NaN;
/** The largest time a Date holds (±10^8 days), in milliseconds: formatTimestamp throws beyond it. */
const MAX_TIME = 8.64e15;
let priceHeadBytesVersion = NaN;
/** Per instrument: the id of its `","instrument":"…","price":"` in priceMiddleList (only for ids whose JSON is plain ASCII). */
const priceMiddleIds = new Map<string, number>();
/** Those middles as bytes, by id: an id always names the same bytes. */
const priceMiddleList: Uint8Array[] = [];
/** Bumped whenever the head or the minute's bytes change: one value of it is one text of the line up to the seconds. */
let headAndMinuteSerial = 0;

/**
 * Where the parts of the last line writePlainPriceUpdate wrote are, so a caller that checksums the line can reuse
 * what it computed over the parts that repeat (the log's CRC-32 of a mark line; libs/store/src/file/log-format.ts):
 *
 * - [0] where the line starts (the `at` it was given), or −1 when the last call declined;
 * - [1] where the seconds start: [at, [1]) is the head and the minute's text, the same bytes for one value of [5];
 * - [2], [3] where `","instrument":…,"price":"` starts and ends: the same bytes for one value of [4];
 * - [4] the id of that middle, or −1 when it is not kept (more than 10,000 instruments);
 * - [5] the serial of the head and the minute.
 */
export const PLAIN_PRICE_LAYOUT = new Int32Array(6);


/**
 * The canonical line of a price update of exactly its four fields (what
 * encodeEvent makes of it, byte for byte; a property test compares them),
 * written as ASCII straight into `out` from `at`, without building the line
 * as a string: the constant parts are kept as bytes (the head with the
 * minute's text, the instrument's part per instrument), the seconds,
 * milliseconds and the price's digits are written one by one. Answers where the line ends, or −1
 * (nothing meaningful written) for any other event, a price of 2^53 units or
 * more, an instrument whose JSON is not plain ASCII or an `out` with less than
 * PLAIN_PRICE_UPDATE_MAX_BYTES left.
 */
export function writePlainPriceUpdate(event: object, schemaVersion: number, out: Uint8Array, at: number): number {
  const layout = PLAIN_PRICE_LAYOUT;
  layout[0] = -1;
  const e = event as Record<string, unknown>;
  if (e.type !== 'PriceUpdated') return -1;
  const { ts, instrument, price } = e;
  if (typeof ts !== 'number' || typeof instrument !== 'string' || typeof price !== 'bigint' || price <= 0n || price > MAX_EXACT_UNITS) return -1;
  // (the room in `out` is writePlainPriceFields' check)
  if (Object.getPrototypeOf(e) !== Object.prototype) return -1;
  let keys = 0;
  for (const key in e) {
    keys++;
    if (key !== 'type' && key !== 'ts' && key !== 'instrument' && key !== 'price') return -1;
  }
  if (keys !== 4) return -1;
  if (!Number.isInteger(ts) || ts > MAX_TIME || ts < -MAX_TIME) return -1;
  return writePlainPriceFields(ts, instrument, Number(price), schemaVersion, out, at);
}

/**
 * writePlainPriceUpdate of the price update `{ type, ts, instrument, price }`
 * given by its fields, `units` the price in ledger units: a positive safe
 * integer, and `ts` an integer within a Date's range (as the byte decoders
 * read them: PriceFields). The same bytes and layout; −1 for an instrument
 * whose JSON is not printable ASCII or an `out` with less than
 * PLAIN_PRICE_UPDATE_MAX_BYTES of room after `at`.
 */
export function writePlainPriceFields(ts: Timestamp, instrument: string, units: number, schemaVersion: number, out: Uint8Array, at: number): number {
  const layout = PLAIN_PRICE_LAYOUT;
  layout[0] = -1;
  if (out.length - at < PLAIN_PRICE_UPDATE_MAX_BYTES) return -1;
  let middleId = priceMiddleIds.get(instrument) ?? -1;
  let middle: Uint8Array;
  if (middleId >= 0) {
    middle = priceMiddleList[middleId]!;
  } else {
    const text = '","instrument":' + JSON.stringify(instrument) + ',"price":"';
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 126) return -1;
    middle = asciiOf(text);
    if (priceMiddleList.length < 10_000) {
      middleId = priceMiddleList.length;
      priceMiddleList.push(middle);
      priceMiddleIds.set(instrument, middleId);
    }
  }
  const start = at;
  at = writePriceUpdateHead(ts, schemaVersion, out, at);
  layout[2] = at;
  out.set(middle, at);
  at += middle.length;
  layout[3] = at;
  layout[4] = middleId;
  layout[5] = headAndMinuteSerial;
  at = writePriceAndEnd(units, out, at);
  layout[0] = start;
  return at;
}

/**
 * `{"type":"PriceUpdated","v":N,"ts":"<formatTimestamp(ts)>` into `out` from `at` (ts an integer within a Date's
 * range); answers where it ends, and sets PLAIN_PRICE_LAYOUT[1] to where its seconds start.
 */
function writePriceUpdateHead(ts: number, schemaVersion: number, out: Uint8Array, at: number): number {
  // the head and formatTimestamp's text of the minute ("…THH:MM:"), kept as one run of bytes; then the seconds,
  // the milliseconds unless 0, "Z"
  const minute = Math.floor(ts / 60_000);
  if (minute !== minuteBytesOf || schemaVersion !== priceHeadBytesVersion) {
    const whole = formatTimestamp(minute * 60_000); // "…THH:MM:00Z"
    headAndMinuteBytes = asciiOf('{"type":"PriceUpdated","v":' + schemaVersion + ',"ts":"' + whole.slice(0, -3));
    minuteBytesOf = minute;
    priceHeadBytesVersion = schemaVersion;
    headAndMinuteSerial++;
  }
  out.set(headAndMinuteBytes, at);
  at += headAndMinuteBytes.length;
  PLAIN_PRICE_LAYOUT[1] = at;
  // below 60,000 and below 10^8: int32 arithmetic from here (a double's % is a call to fmod)
  const inMinute = (ts - minute * 60_000) | 0;
  const second = (inMinute / 1000) | 0;
  const ms = inMinute - second * 1000;
  const tens = (second / 10) | 0;
  out[at++] = 48 + tens;
  out[at++] = 48 + second - 10 * tens;
  if (ms !== 0) {
    const hundreds = (ms / 100) | 0;
    const rest = ms - 100 * hundreds;
    const msTens = (rest / 10) | 0;
    out[at++] = 46; // .
    out[at++] = 48 + hundreds;
    out[at++] = 48 + msTens;
    out[at++] = 48 + rest - 10 * msTens;
  }
  out[at++] = 90; // Z
  return at;
}

/**
 * The decimal digits of `n`, a non-negative safe integer (no sign, no leading zero), written as ASCII into `out` from
 * `at`; answers where they end. The one digit writer of the byte encoders: a price's integer part, a log line's
 * position, a Kafka message's offset in its event id.
 */
export function writeDecimalDigits(out: Uint8Array, at: number, n: number): number {
  let digits = 1;
  for (let power = 10; n >= power && digits < 16; power *= 10) digits++;
  if (n <= 0x7fffffff) {
    // int32 division in registers (a double's % is a call to fmod)
    for (let i = at + digits - 1, rest = n | 0; i >= at; i--) {
      const next = (rest / 10) | 0;
      out[i] = 48 + rest - 10 * next;
      rest = next;
    }
  } else {
    // exact up to 2^53 (10 × ⌊n / 10⌋ may not be a double near 2^53; n − n % 10 is)
    for (let i = at + digits - 1, rest = n; i >= at; i--) {
      const digit = rest % 10;
      out[i] = 48 + digit;
      rest = (rest - digit) / 10;
    }
  }
  return at + digits;
}

/** `<formatFixed(price)>"}` into `out` from `at` (0 < price < 2^53 units); answers where it ends. */
function writePriceAndEnd(units: number, out: Uint8Array, at: number): number {
  // formatFixed's canonical text of units < 2^53 (formatExactNumber): integer digits, then the fraction without trailing zeros.
  // The integer part is the floor of units / 1e8 (the quotient is below 2^27, where a double's half ulp, 2^-27, is less
  // than the 10^-8 that separates a quotient of whole units from the next integer: the rounding never reaches it), and
  // both parts fit an int32.
  const whole = Math.floor(units / 1e8);
  const frac = units - whole * 1e8;
  let fraction = frac | 0;
  at = writeDecimalDigits(out, at, whole);
  if (fraction !== 0) {
    out[at++] = 46; // .
    let places = 8;
    for (let next = (fraction / 10) | 0; fraction === 10 * next; next = (fraction / 10) | 0) {
      fraction = next;
      places--;
    }
    for (let i = at + places - 1; i >= at; i--) {
      const next = (fraction / 10) | 0;
      out[i] = 48 + fraction - 10 * next;
      fraction = next;
    }
    at += places;
  }
  out[at++] = 34; // "
  out[at++] = 125; // }
  return at;
}

/** The most bytes writeScopedPriceUpdate writes where its `eventId` and `postedBy` are ids (at most MAX_ID_LENGTH each). */
export const SCOPED_PRICE_UPDATE_MAX_BYTES = PLAIN_PRICE_UPDATE_MAX_BYTES + 2 * MAX_ID_LENGTH + 32;

const EVENT_ID_KEY_BYTES = asciiOf('","eventId":"');
const SCOPED_INSTRUMENT_KEY_BYTES = asciiOf('","instrument":"');
const POSTED_BY_KEY_BYTES = asciiOf('","postedBy":"');
const SCOPED_PRICE_KEY_BYTES = asciiOf('","price":"');

/** `text` into `out` from `at` where it is printable ASCII that JSON writes as it is (no quote, no backslash); −1 otherwise. */
function writePlainAscii(text: string, out: Uint8Array, at: number): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 || c > 126 || c === 34 || c === 92) return -1;
    out[at + i] = c;
  }
  return at + text.length;
}

/**
 * writePlainPriceUpdate for a price update that also carries a string
 * `eventId` and/or `postedBy` (what the Kafka worker and the server log: the
 * key's scope and id): encodeEvent's line, byte for byte (a property test
 * compares them), in canonical order (eventId, instrument, postedBy, price).
 * −1 (nothing meaningful written) for any other event, an id or instrument
 * that is not plain printable ASCII, a price of 2^53 units or more, or less
 * room in `out` than the line may take.
 */
export function writeScopedPriceUpdate(event: object, schemaVersion: number, out: Uint8Array, at: number): number {
  PLAIN_PRICE_LAYOUT[0] = -1; // not a plain line: a caller reading the layout must not take this one for it
  const e = event as Record<string, unknown>;
  if (e.type !== 'PriceUpdated') return -1;
  const { ts, instrument, price, eventId, postedBy } = e;
  if (typeof ts !== 'number' || typeof instrument !== 'string' || typeof price !== 'bigint' || price <= 0n || price > MAX_EXACT_UNITS) return -1;
  if ((eventId !== undefined && typeof eventId !== 'string') || (postedBy !== undefined && typeof postedBy !== 'string') || Object.getPrototypeOf(e) !== Object.prototype) return -1;
  for (const key in e) {
    if (key !== 'type' && key !== 'ts' && key !== 'instrument' && key !== 'price' && key !== 'eventId' && key !== 'postedBy') return -1;
  }
  if (out.length - at < PLAIN_PRICE_UPDATE_MAX_BYTES + (eventId?.length ?? 0) + (postedBy?.length ?? 0) + 32) return -1;
  if (!Number.isInteger(ts) || ts > MAX_TIME || ts < -MAX_TIME || instrument.length === 0) return -1;
  at = writePriceUpdateHead(ts, schemaVersion, out, at);
  if (eventId !== undefined) {
    out.set(EVENT_ID_KEY_BYTES, at);
    at = writePlainAscii(eventId, out, at + EVENT_ID_KEY_BYTES.length);
    if (at < 0) return -1;
  }
  out.set(SCOPED_INSTRUMENT_KEY_BYTES, at);
  at = writePlainAscii(instrument, out, at + SCOPED_INSTRUMENT_KEY_BYTES.length);
  if (at < 0) return -1;
  if (postedBy !== undefined) {
    out.set(POSTED_BY_KEY_BYTES, at);
    at = writePlainAscii(postedBy, out, at + POSTED_BY_KEY_BYTES.length);
    if (at < 0) return -1;
  }
  out.set(SCOPED_PRICE_KEY_BYTES, at);
  return writePriceAndEnd(Number(price), out, at + SCOPED_PRICE_KEY_BYTES.length);
}
