import type { ClearingEvent } from '@clearsim/events';

/** An event with its global position in the log (1-based, no gaps). */
export interface StoredEvent {
  position: number;
  event: ClearingEvent;
}

/** The append's `expectedPosition` did not match the log's head: someone else wrote first. */
export class ConcurrencyError extends Error {
  constructor(
    readonly expectedPosition: number,
    readonly actualPosition: number,
  ) {
    super(`optimistic append failed: expected the log to end at position ${expectedPosition}, but it ends at ${actualPosition}`);
  }
}

export interface ReadOptions {
  /** Stop after this position (inclusive). */
  toPosition?: number;
  /**
   * Only the decisions: the inputs between them are not yielded (a store may pass over them without decoding
   * them). The decisions keep their positions in the log. For a reader that wants what was decided (an
   * account's history), not the state, which a snapshot gives.
   */
  decisionsOnly?: boolean;
}

/**
 * A snapshot of a shard's projections as of `position` (every event up to and
 * including it folded in). `state` is opaque to the store (JSON text written
 * by @clearsim/clearing). Restart = latest snapshot + the tail after it.
 */
export interface Snapshot {
  position: number;
  state: string;
}

/**
 * A multi-chunk, all-or-nothing append (EventStore.beginAppend): a streamed run
 * appends its decisions chunk by chunk and makes them part of the log at once.
 * After commit() or abort() the transaction is finished: append/commit reject,
 * abort() is a no-op (so `finally { await tx.abort() }` is always safe).
 */
export interface AppendTransaction {
  /** Appends a chunk after the previous one; returns the position of its last event. Not visible to readers nor durable until commit(). */
  append(events: readonly ClearingEvent[]): Promise<number>;
  /** Makes every chunk durable and part of the log at once; returns the new head. */
  commit(): Promise<number>;
  /** Discards every chunk: the log is byte-for-byte as before beginAppend (file store: truncate back + fsync). Idempotent; safe after a failed append. */
  abort(): Promise<void>;
  /**
   * Optional (the file store): `append` of a chunk in which some events come already encoded — an entry that is a
   * number k stands for the event whose canonical JSON (encodeEvent's bytes) is `encoded.json[k]` from
   * `encoded.start[k]` to `encoded.end[k]`, with `encoded.crc[k]` the zlib CRC-32 of those bytes. The same log as
   * `append` of the events; the store copies the bytes instead of encoding the event again.
   */
  appendEncoded?(entries: readonly (ClearingEvent | number)[], encoded: EncodedEvents): Promise<number>;
}

/** Events already encoded as canonical JSON, for AppendTransaction.appendEncoded (see there). */
export interface EncodedEvents {
  readonly json: readonly Uint8Array[];
  readonly start: ArrayLike<number>;
  readonly end: ArrayLike<number>;
  readonly crc: ArrayLike<number>;
}

/**
 * The one event-store port (docs/architecture.md). One log per shard, total order.
 * Every adapter passes the same contract suite (`event-store.contract.ts`).
 */
export interface EventStore {
  /** The store URL it was opened from, for messages. */
  readonly url: string;
  /** Position of the last event, 0 when the log is empty. */
  head(): Promise<number>;
  /**
   * Appends `events` after `expectedPosition` (the head the caller last saw),
   * all or nothing. Resolves only once the events are durable (fsync / commit);
   * returns the new head. Rejects with ConcurrencyError if the head moved.
   */
  append(events: readonly ClearingEvent[], expectedPosition: number): Promise<number>;
  /**
   * A multi-chunk, all-or-nothing append after `expectedPosition`
   * (ConcurrencyError if the head moved). One transaction or append at a time
   * per store: while it is open, `append` and `beginAppend` reject with
   * AppendInProgressError (`saveSnapshot` still works: it sees only the
   * committed log). A crash before commit() leaves the log as it was before.
   * Read-only stores refuse it (ReadOnlyStoreError).
   */
  beginAppend(expectedPosition: number): Promise<AppendTransaction>;
  /** Reads forward from `fromPosition` (inclusive, 1-based) in order. */
  read(fromPosition?: number, options?: ReadOptions): AsyncIterable<StoredEvent>;
  /** Stores a snapshot durably, in the same store as the log. Older ones may be pruned. */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /** The snapshot with the highest position not beyond the head, if any. */
  latestSnapshot(): Promise<Snapshot | undefined>;
  close(): Promise<void>;
}
