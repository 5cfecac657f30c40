/**
 * The codec's byte layer, without the schemas: what a thread that only reads
 * mark lines from their bytes, writes log lines (events' canonical JSON) and
 * hashes the decisions needs (`clearsim run`'s decode thread), without loading
 * zod and building every schema (~60–90 ms of a thread's start-up). The same
 * functions as the package's index.
 */
export { InputError, type FieldIssue } from './input-error';
export { SCHEMA_VERSION } from './schema-version';
export { bytesAre, decodePriceBytesInto, PriceFields, writeDecimalDigits } from './fast-codec';
export { encodeEventInto, encodePriceFieldsInto, ENCODED_INTO_LAYOUT, ENCODE_INTO_MAX_BYTES } from './encode-into';
export { encodeEvent } from './encode';
export { Sha256, type Sha256State } from './sha256';
