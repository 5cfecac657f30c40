import { decodeEvent, encodeEvent, isInput, type ClearingEvent } from '@clearsim/events';
import { checkExpectedPosition, checkReadRange, checkSnapshot, sha256, SNAPSHOTS_KEPT, type TransactionState } from '../adapter-support';
import { AppendInProgressError, ReadOnlyStoreError, StoreNotFoundError, TransactionFinishedError } from '../errors';
import {
  ConcurrencyError,
  type AppendTransaction,
  type EventStore,
  type ReadOptions,
  type Snapshot,
  type StoredEvent,
} from '../event-store.port';

/**
 * The data behind in-memory stores: the canonical JSON of every event (index
 * = position − 1) and the snapshots. Several stores may share one (a
 * "reopen" in tests, or `memory:NAME` URLs in one process).
 */
export class InMemoryLog {
  readonly events: string[] = [];
  /** Newest SNAPSHOTS_KEPT, by position, highest first. `anchor` null: saved beyond the head. */
  readonly snapshots: { position: number; state: string; anchor: string | null }[] = [];
  /** The append transaction open on this log, if any (one at a time per log, whichever store opened it). */
  transaction: InMemoryAppendTransaction | undefined;
}

export interface InMemoryEventStoreOptions {
  /** Refuse every write; `open` refuses a log that holds no event (StoreNotFoundError). */
  readOnly?: boolean;
}

/** Logs named by `memory:NAME` URLs, for the life of the process (or until `InMemoryEventStore.drop`). */
const named = new Map<string, InMemoryLog>();

/**
 * An event store in memory (as Emmett has one): for tests, the HTML report's
 * fixtures and throwaway runs (`--store memory:`). Passes the same contract as
 * the durable stores: events are kept as their canonical JSON and decoded
 * again on read, so what comes back is what a durable store would give back,
 * never the caller's own objects. Nothing survives the process.
 */
export class InMemoryEventStore implements EventStore {
  private closed = false;

  constructor(
    readonly log: InMemoryLog = new InMemoryLog(),
    readonly url: string = 'memory:',
    readonly options: InMemoryEventStoreOptions = {},
  ) {}

  /**
   * The store for a `memory:` URL: `memory:` alone is a new, empty log every
   * time; `memory:NAME` is the same log for every open in this process. A
   * read-only open creates nothing and refuses a log with no event
   * (StoreNotFoundError).
   */
  static open(url: string, options: InMemoryEventStoreOptions = {}): InMemoryEventStore {
    const name = url.slice('memory:'.length);
    if (options.readOnly) {
      const log = name === '' ? undefined : named.get(name);
      if (log === undefined) throw new StoreNotFoundError(url, name === '' ? 'memory: is a new, empty log every time' : `no log named ${name} in this process`);
      if (log.events.length === 0) throw new StoreNotFoundError(url, 'the log is empty');
      return new InMemoryEventStore(log, url, options);
    }
    if (name === '') return new InMemoryEventStore(new InMemoryLog(), url, options);
    let log = named.get(name);
    if (!log) named.set(name, (log = new InMemoryLog()));
    return new InMemoryEventStore(log, url, options);
  }

  /** Forgets the log of `memory:NAME`. */
  static drop(name: string): void {
    named.delete(name);
  }

  async head(): Promise<number> {
    this.assertOpen();
    return this.log.events.length;
  }

  async append(events: readonly ClearingEvent[], expectedPosition: number): Promise<number> {
    this.assertWritable('append');
    checkExpectedPosition(expectedPosition);
    const head = this.log.events.length;
    if (expectedPosition !== head) throw new ConcurrencyError(expectedPosition, head);
    const encoded = events.map(encodeEvent); // all or nothing: encode before the first push
    for (const text of encoded) this.log.events.push(text);
    return this.log.events.length;
  }

  async beginAppend(expectedPosition: number): Promise<AppendTransaction> {
    this.assertWritable('beginAppend');
    checkExpectedPosition(expectedPosition);
    const head = this.log.events.length;
    if (expectedPosition !== head) throw new ConcurrencyError(expectedPosition, head);
    return (this.log.transaction = new InMemoryAppendTransaction(this.log, this.url, expectedPosition));
  }

  async *read(fromPosition = 1, options: ReadOptions = {}): AsyncGenerator<StoredEvent> {
    this.assertOpen();
    checkReadRange(fromPosition, options.toPosition);
    const last = Math.min(this.log.events.length, options.toPosition ?? Infinity);
    for (let position = fromPosition; position <= last; position++) {
      const event = decodeEvent(JSON.parse(this.log.events[position - 1]!), 'any');
      if (options.decisionsOnly && isInput(event)) continue;
      yield { position, event };
    }
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.assertOpen();
    if (this.options.readOnly) throw new ReadOnlyStoreError(this.url, 'saveSnapshot');
    checkSnapshot(snapshot);
    const { position, state } = snapshot;
    const anchor = position <= this.log.events.length ? this.anchorAt(position) : null;
    const kept = this.log.snapshots.filter((s) => s.position !== position);
    kept.push({ position, state, anchor });
    kept.sort((a, b) => b.position - a.position);
    this.log.snapshots.splice(0, this.log.snapshots.length, ...kept.slice(0, SNAPSHOTS_KEPT));
  }

  async latestSnapshot(): Promise<Snapshot | undefined> {
    this.assertOpen();
    const head = this.log.events.length;
    const found = this.log.snapshots.find((s) => s.position <= head && s.anchor === this.anchorAt(s.position));
    return found && { position: found.position, state: found.state };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private anchorAt(position: number): string {
    return position === 0 ? '' : sha256(this.log.events[position - 1]!);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`event store ${this.url} is closed`);
  }

  private assertWritable(operation: string): void {
    this.assertOpen();
    if (this.options.readOnly) throw new ReadOnlyStoreError(this.url, operation);
    if (this.log.transaction) throw new AppendInProgressError(this.url, operation);
  }
}

/** Chunks are kept as canonical JSON (encoded on append, as a durable store would) and pushed to the log on commit. */
class InMemoryAppendTransaction implements AppendTransaction {
  private state: TransactionState = 'open';
  private encoded: string[] = [];

  constructor(
    private readonly log: InMemoryLog,
    private readonly url: string,
    private readonly expectedPosition: number,
  ) {}

  async append(events: readonly ClearingEvent[]): Promise<number> {
    this.assertOpen('append');
    const chunk = events.map(encodeEvent); // a chunk that fails to encode adds nothing
    for (const text of chunk) this.encoded.push(text);
    return this.expectedPosition + this.encoded.length;
  }

  async commit(): Promise<number> {
    this.assertOpen('commit');
    for (const text of this.encoded) this.log.events.push(text);
    this.finish('committed');
    return this.log.events.length;
  }

  async abort(): Promise<void> {
    if (this.state === 'open') this.finish('aborted');
  }

  private finish(state: TransactionState): void {
    this.state = state;
    this.encoded = [];
    this.log.transaction = undefined;
  }

  private assertOpen(operation: string): void {
    if (this.state !== 'open') throw new TransactionFinishedError(this.url, this.state, operation);
  }
}
