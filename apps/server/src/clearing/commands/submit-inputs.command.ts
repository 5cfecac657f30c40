import type { Principal } from '../../auth/api-keys';

/**
 * Feed inputs to the shard: decode each with the one codec, check the
 * caller's scope, then decide and append them all or nothing. From the HTTP
 * controller (bodies already checked by the DTOs) and the admin endpoints;
 * Kafka inputs go to the runner through libs/kafka's shard worker instead.
 */
export class SubmitInputsCommand {
  constructor(
    /** Raw JSON values, one per input event. */
    readonly inputs: readonly unknown[],
    readonly principal: Principal,
    /** A batch names refused fields by index (`[2].price`). */
    readonly batch: boolean,
  ) {}
}

/** What a submission appended. Decisions come back with their log positions. */
export interface SubmitInputsResult {
  accepted: number;
  /** Inputs ignored as repeats of an idempotency key (tradeId, requestId, eventId). */
  duplicates: number;
  /** Positions of the appended events (inputs and decisions), or null when nothing was appended. */
  appended: { from: number; to: number } | null;
  head: number;
  decisions: Record<string, unknown>[];
}
