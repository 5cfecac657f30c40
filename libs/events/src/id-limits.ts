// In a module with no schema: the byte decoders (fast-codec.ts) bound ids by it as the schemas do.

/** The characters an id may not hold (control characters), one rule for the events' ids and the rules' accounts. */
export { controlCharacterAt, controlCharacterProblem, ID_CHARACTERS_PATTERN } from '@clearsim/rules/id-characters';

/**
 * The longest id (account, instrument, asset, tradeId, requestId, eventId) an input may carry: ids are kept for
 * every account and every idempotency key, so one unbounded id is unbounded memory; venues' ids (UUIDs, numbers,
 * symbols) are far shorter.
 */
export const MAX_ID_LENGTH = 128;
