// The codec's writers into bytes, in a module with no schema (the byte layer, bytes.ts); codec.ts re-exports them.

import type { ClearingEvent } from './codec';
import { PLAIN_PRICE_LAYOUT, PLAIN_PRICE_UPDATE_MAX_BYTES, SCOPED_PRICE_UPDATE_MAX_BYTES, writePlainPriceFields, writePlainPriceUpdate, writeScopedPriceUpdate, type PriceFields } from './fast-codec';
import { SCHEMA_VERSION } from './schema-version';

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
