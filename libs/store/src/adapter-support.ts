import { createHash } from 'node:crypto';
import { encodeEvent, type ClearingEvent } from '@clearsim/events';
import type { AppendTransaction, EventStore, Snapshot } from './event-store.port';
import { TransactionFinishedError } from './errors';

/** How many snapshots every adapter keeps (the newest by position); older ones are pruned on save. */
export const SNAPSHOTS_KEPT = 3;

/**
 * What ties a snapshot to the log it was taken from: the SHA-256 of the
 * canonical JSON of the event at the snapshot's position ('' for position 0).
 * A snapshot whose anchor does not match the log any more (the log was reset
 * or replaced, e.g. by `run --reset`, while the snapshots stayed) is ignored
 * with a warning instead of restoring another log's state.
 */
export function anchorOf(event: ClearingEvent | undefined): string {
  return event === undefined ? '' : sha256(encodeEvent(event));
}

/** The anchor of `position` in `store` (undefined when the position is beyond the head). */
export async function anchorAt(store: EventStore, position: number): Promise<string | undefined> {
  if (position === 0) return '';
  for await (const stored of store.read(position, { toPosition: position })) return anchorOf(stored.event);
  return undefined;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Refuses a snapshot the port cannot hold: a position that is not a whole number >= 0, or a state that is not a string. */
export function checkSnapshot(snapshot: Snapshot): void {
  if (!Number.isSafeInteger(snapshot.position) || snapshot.position < 0) {
    throw new RangeError(`snapshot position must be a whole number >= 0, got ${snapshot.position}`);
  }
  if (typeof snapshot.state !== 'string') throw new TypeError(`snapshot state must be a string, got ${typeof snapshot.state}`);
}

/** Checks `fromPosition` / `toPosition` of a read as every adapter does. */
export function checkReadRange(fromPosition: number, toPosition: number | undefined): void {
  if (!Number.isSafeInteger(fromPosition) || fromPosition < 1) {
    throw new RangeError(`fromPosition must be a whole number >= 1, got ${fromPosition}`);
  }
  if (toPosition !== undefined && (!Number.isSafeInteger(toPosition) || toPosition < 0)) {
    throw new RangeError(`toPosition must be a whole number >= 0, got ${toPosition}`);
  }
}

export function checkExpectedPosition(expectedPosition: number): void {
  if (!Number.isSafeInteger(expectedPosition) || expectedPosition < 0) {
    throw new RangeError(`expectedPosition must be a whole number >= 0, got ${expectedPosition}`);
  }
}

export const defaultWarn = (message: string): void => {
  process.emitWarning(message, 'EventStoreWarning');
};

/** Where an append transaction is: open until commit() or abort() finishes it. */
export type TransactionState = 'open' | 'committed' | 'aborted';

/**
 * An append transaction that keeps its chunks in memory and appends them all
 * at once on commit(): for adapters whose storage has no multi-request
 * transaction (KurrentDB). Memory grows with the transaction.
 * `appendAll` appends after `expectedPosition` bypassing the store's
 * transaction gate; `finish` reopens the gate (called exactly once).
 */
export class BufferedAppendTransaction implements AppendTransaction {
  private state: TransactionState = 'open';
  private events: ClearingEvent[] = [];
  private last: number;

  constructor(
    private readonly url: string,
    private readonly expectedPosition: number,
    private readonly appendAll: (events: readonly ClearingEvent[], expectedPosition: number) => Promise<number>,
    private readonly finish: () => void,
  ) {
    this.last = expectedPosition;
  }

  async append(events: readonly ClearingEvent[]): Promise<number> {
    this.assertOpen('append');
    for (const event of events) this.events.push(event);
    this.last += events.length;
    return this.last;
  }

  async commit(): Promise<number> {
    this.assertOpen('commit');
    const events = this.events;
    this.events = [];
    try {
      const head = events.length === 0 ? this.expectedPosition : await this.appendAll(events, this.expectedPosition);
      this.end('committed');
      return head;
    } catch (error) {
      this.end('aborted');
      throw error;
    }
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.events = [];
    this.end('aborted');
  }

  private end(state: TransactionState): void {
    this.state = state;
    this.finish();
  }

  private assertOpen(operation: string): void {
    if (this.state !== 'open') throw new TransactionFinishedError(this.url, this.state, operation);
  }
}
