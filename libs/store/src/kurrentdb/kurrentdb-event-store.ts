import {
  BACKWARDS,
  END,
  FORWARDS,
  jsonEvent,
  KurrentDBClient,
  NO_STREAM,
  START,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  type AppendStreamState,
  type EventData,
  type JSONEventType,
  type ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import { decodeEvent, InputError, isInput, toCanonicalJson, type ClearingEvent } from '@clearsim/events';
import { anchorAt, BufferedAppendTransaction, checkExpectedPosition, checkReadRange, checkSnapshot, defaultWarn, SNAPSHOTS_KEPT } from '../adapter-support';
import { AppendInProgressError, CorruptLogError, ReadOnlyStoreError, StoreNotFoundError, StoreUnavailableError, StoreUrlError } from '../errors';
import { ConcurrencyError, type AppendTransaction, type EventStore, type ReadOptions, type Snapshot, type StoredEvent } from '../event-store.port';
import { redactUrl, splitOwnParams } from '../store-url';

/** The shard a KurrentDB store writes when neither the URL (`?stream=`) nor the options name one. */
export const DEFAULT_KURRENTDB_SHARD = 'shard-0';
/** Every stream of this store is named `clearsim-<shard>`; its snapshots go to `clearsim-<shard>-snapshots`. */
export const KURRENTDB_STREAM_PREFIX = 'clearsim-';
export const SNAPSHOT_EVENT_TYPE = 'ClearsimSnapshot';
/** KurrentDB's default MaxAppendSize (bytes of one append request); appends are split to stay under it. */
export const DEFAULT_MAX_APPEND_BYTES = 1024 * 1024;
/** Our estimate of an event's size beyond its data (id, type, content type, framing). */
const EVENT_OVERHEAD_BYTES = 128;

/** What the adapter uses of the official client (a test may pass a fake). */
export type KurrentDBClientLike = Pick<KurrentDBClient, 'appendToStream' | 'readStream' | 'subscribeToStream' | 'setStreamMetadata' | 'dispose'>;

export interface KurrentDBEventStoreOptions {
  /** The shard: the stream is `clearsim-<shard>`. Default: the URL's `?stream=`, else `shard-0`. */
  stream?: string;
  /** Notices (a snapshot ignored). Default: process.emitWarning. */
  warn?: (message: string) => void;
  /** Largest append request sent, in bytes (the server's MaxAppendSize; default 1 MiB). Bigger batches are split. */
  maxAppendBytes?: number;
  /** A client to use instead of one made from the URL (tests). The store disposes it on close. */
  client?: KurrentDBClientLike;
  /** Read only: writes are refused, and a stream that does not exist is a StoreNotFoundError. */
  readOnly?: boolean;
}

/** A running catch-up subscription. */
export interface KurrentDBSubscription {
  /** Settles when the subscription ends: resolves after `close()`, rejects if the handler or the server failed. */
  readonly done: Promise<void>;
  /** Stops the subscription and waits for the handler's current call (never rejects: failures are `done`'s). */
  close(): Promise<void>;
}

export interface SubscribeOptions {
  /** Called when the subscription has delivered everything written so far and goes live. */
  onCaughtUp?: () => void;
}

type SnapshotData = JSONEventType<typeof SNAPSHOT_EVENT_TYPE, { position: number; anchor: string | null; state: string }>;

/**
 * The EventStoreDB / KurrentDB event store (`esdb://…`, `kurrentdb://…`),
 * with the official gRPC client (@kurrent/kurrentdb-client).
 *
 * - One stream per shard, `clearsim-shard-0`; `position` = revision + 1.
 * - Each event is a JSON event of the event's own `type`, its data the
 *   canonical JSON (the client serializes it with JSON.stringify, which keeps
 *   the canonical key order, so the stored bytes are `encodeEvent`'s).
 * - `append` passes the expected stream state (`no_stream` for position 0,
 *   else revision `expectedPosition − 1`): the server refuses a stale one
 *   (WrongExpectedVersionError → ConcurrencyError). A batch larger than one
 *   append request (`maxAppendBytes`) is sent as several appends, each
 *   expecting the revision the previous one ended at; like a crash in the
 *   middle of the file store's write, a failure between two of them leaves a
 *   prefix of the batch, and the error says so.
 * - Snapshots: events of type ClearsimSnapshot in `clearsim-shard-0-snapshots`,
 *   data `{position, anchor, state}`; the stream's `$maxCount` is 3, so the
 *   server prunes older ones; `latestSnapshot` reads the last 3 backwards and
 *   returns the highest one not beyond the head whose anchor matches. One
 *   snapshot is one event, so its size is bounded by the server's
 *   MaxAppendSize (1 MiB by default): raise it for large states.
 * - `subscribe(fromPosition, handler)`: a catch-up subscription to the shard
 *   stream (history, then live).
 */
export class KurrentDBEventStore implements EventStore {
  private closing?: Promise<void>;
  private snapshotStreamReady = false;
  /** An append transaction is open (its chunks wait in memory). */
  private inTransaction = false;
  private readonly readOnly: boolean;
  private readonly maxAppendBytes: number;
  readonly snapshotStream: string;

  private constructor(
    readonly url: string,
    /** The shard's stream. */
    readonly stream: string,
    private readonly client: KurrentDBClientLike,
    private readonly warn: (message: string) => void,
    options: KurrentDBEventStoreOptions,
  ) {
    this.snapshotStream = `${stream}-snapshots`;
    this.readOnly = options.readOnly ?? false;
    this.maxAppendBytes = options.maxAppendBytes ?? DEFAULT_MAX_APPEND_BYTES;
    if (!Number.isSafeInteger(this.maxAppendBytes) || this.maxAppendBytes < 1) {
      throw new RangeError(`maxAppendBytes must be a whole number >= 1, got ${options.maxAppendBytes}`);
    }
  }

  /** Connects and checks the server answers (reading the stream's head). */
  static async open(url: string, options: KurrentDBEventStoreOptions = {}): Promise<KurrentDBEventStore> {
    const { connectionString, params } = splitOwnParams(url, ['stream']);
    const shard = options.stream ?? params.get('stream') ?? DEFAULT_KURRENTDB_SHARD;
    if (shard === '') throw new StoreUrlError(`store URL "${redactUrl(url)}": the stream name is empty`);
    const client = options.client ?? KurrentDBClient.connectionString(connectionString);
    const store = new KurrentDBEventStore(url, `${KURRENTDB_STREAM_PREFIX}${shard}`, client, options.warn ?? defaultWarn, options);
    let head: number;
    try {
      head = await store.head();
    } catch (error) {
      await client.dispose();
      throw new StoreUnavailableError(`${redactUrl(url)}: cannot open the KurrentDB event store: ${describeError(error)}`, { cause: error });
    }
    if (store.readOnly && head === 0) {
      await client.dispose();
      throw new StoreNotFoundError(redactUrl(url), `no stream ${store.stream}`);
    }
    return store;
  }

  async head(): Promise<number> {
    this.assertOpen();
    try {
      for await (const resolved of this.client.readStream(this.stream, { direction: BACKWARDS, fromRevision: END, maxCount: 1 })) {
        if (resolved.event) return Number(resolved.event.revision) + 1;
      }
      return 0;
    } catch (error) {
      if (error instanceof StreamNotFoundError) return 0;
      throw error;
    }
  }

  async append(events: readonly ClearingEvent[], expectedPosition: number): Promise<number> {
    this.assertWritable('append');
    return this.appendBatch(events, expectedPosition);
  }

  /**
   * KurrentDB has no transaction spanning several append requests: the chunks
   * wait in memory and go in as one `append` at commit (so a run's memory
   * grows with the run on this store, and a commit bigger than
   * `maxAppendBytes` has the multi-request caveat of `append`).
   */
  async beginAppend(expectedPosition: number): Promise<AppendTransaction> {
    this.assertWritable('beginAppend');
    checkExpectedPosition(expectedPosition);
    const head = await this.head();
    if (head !== expectedPosition) throw new ConcurrencyError(expectedPosition, head);
    this.inTransaction = true;
    return new BufferedAppendTransaction(
      redactUrl(this.url),
      expectedPosition,
      (events, expected) => this.appendBatch(events, expected),
      () => {
        this.inTransaction = false;
      },
    );
  }

  private async appendBatch(events: readonly ClearingEvent[], expectedPosition: number): Promise<number> {
    this.assertOpen();
    checkExpectedPosition(expectedPosition);
    if (events.length === 0) {
      const head = await this.head();
      if (head !== expectedPosition) throw new ConcurrencyError(expectedPosition, head);
      return head;
    }
    let position = expectedPosition;
    for (const chunk of this.chunks(events)) {
      const streamState: AppendStreamState = position === 0 ? NO_STREAM : BigInt(position - 1);
      try {
        await this.client.appendToStream(this.stream, chunk, { streamState });
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        const actual = error.actualState === NO_STREAM ? 0 : Number(error.actualState) + 1;
        if (position === expectedPosition) throw new ConcurrencyError(expectedPosition, actual);
        throw new Error(
          `${redactUrl(this.url)} stream ${this.stream}: another writer appended in the middle of a batch split into several appends: ` +
            `positions ${expectedPosition + 1}..${position} of this batch are in the log, the rest is not (the stream now ends at ${actual})`,
          { cause: error },
        );
      }
      position += chunk.length;
    }
    return position;
  }

  /** The batch as append requests of at most `maxAppendBytes` (a single bigger event goes alone). */
  private *chunks(events: readonly ClearingEvent[]): Generator<EventData[]> {
    let chunk: EventData[] = [];
    let bytes = 0;
    for (const event of events) {
      const canonical = toCanonicalJson(event);
      const size = Buffer.byteLength(JSON.stringify(canonical), 'utf8') + event.type.length + EVENT_OVERHEAD_BYTES;
      if (chunk.length > 0 && bytes + size > this.maxAppendBytes) {
        yield chunk;
        chunk = [];
        bytes = 0;
      }
      chunk.push(jsonEvent({ type: event.type, data: canonical }));
      bytes += size;
    }
    if (chunk.length > 0) yield chunk;
  }

  async *read(fromPosition = 1, options: ReadOptions = {}): AsyncGenerator<StoredEvent> {
    this.assertOpen();
    checkReadRange(fromPosition, options.toPosition);
    const last = Math.min(await this.head(), options.toPosition ?? Infinity);
    if (fromPosition > last) return;
    let next = fromPosition;
    const events = this.client.readStream(this.stream, { direction: FORWARDS, fromRevision: BigInt(fromPosition - 1), maxCount: last - fromPosition + 1 });
    for await (const resolved of events) {
      const stored = this.toStored(resolved, next);
      if (stored === undefined) continue;
      if (!(options.decisionsOnly && isInput(stored.event))) yield stored;
      if (next++ === last) return;
    }
    throw this.corrupt(next, `position ${next} is missing (the stream ends at ${last})`);
  }

  /**
   * A catch-up subscription: calls `handler` for every event from
   * `fromPosition` on, in order, one at a time (it may be async), first the
   * history, then live as events are appended, until `close()`.
   */
  subscribe(fromPosition: number, handler: (stored: StoredEvent) => void | Promise<void>, options: SubscribeOptions = {}): KurrentDBSubscription {
    this.assertOpen();
    checkReadRange(fromPosition, undefined);
    // A subscription starts *after* the revision it is given: subscribe from the one before fromPosition's.
    const subscription = this.client.subscribeToStream(this.stream, { fromRevision: fromPosition <= 1 ? START : BigInt(fromPosition - 2) });
    if (options.onCaughtUp) subscription.on('caughtUp', options.onCaughtUp);
    let next = fromPosition;
    let closed = false;
    const stop = async () => {
      if (closed) return;
      closed = true;
      await subscription.unsubscribe();
      subscription.destroy(); // a cancelled gRPC call does not always end the stream it is piped into
    };
    const done = (async () => {
      try {
        for await (const resolved of subscription as AsyncIterable<ResolvedEvent>) {
          if (resolved.event && Number(resolved.event.revision) + 1 < next) continue; // an earlier event, if the server included its start
          const stored = this.toStored(resolved, next);
          if (stored === undefined) continue;
          await handler(stored);
          next++;
          if (closed) return;
        }
      } catch (error) {
        if (closed) return; // after close(), the torn-down stream's error is expected
        await stop();
        throw error;
      }
    })();
    done.catch(() => undefined); // reported through `done` to whoever awaits it
    return {
      done,
      close: async () => {
        await stop();
        await done.catch(() => undefined);
      },
    };
  }

  private toStored(resolved: ResolvedEvent, expected: number): StoredEvent | undefined {
    const recorded = resolved.event;
    if (recorded === undefined) return undefined; // a link to a deleted event: never written by this store
    const position = Number(recorded.revision) + 1;
    if (position !== expected) throw this.corrupt(expected, `position ${expected} is missing (the next event holds ${position})`);
    let raw: unknown = recorded.data;
    if (!recorded.isJson || typeof raw === 'string') {
      const text = typeof raw === 'string' ? raw : Buffer.from(raw as Uint8Array).toString('utf8');
      try {
        raw = JSON.parse(text);
      } catch (error) {
        throw this.corrupt(position, `malformed JSON (${(error as Error).message})`);
      }
    }
    try {
      return { position, event: decodeEvent(raw, 'any') };
    } catch (error) {
      if (error instanceof InputError) throw this.corrupt(position, InputError.describe(error.issues), error);
      throw error;
    }
  }

  private corrupt(position: number, detail: string, cause?: unknown): CorruptLogError {
    return new CorruptLogError(`${redactUrl(this.url)} stream ${this.stream}`, position, detail, { cause, unit: 'position' });
  }

  /** Appends the snapshot to the side stream (whose `$maxCount` keeps the newest 3). A snapshot beyond the head gets no anchor and is never returned. */
  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.assertOpen();
    if (this.readOnly) throw new ReadOnlyStoreError(redactUrl(this.url), 'saveSnapshot');
    checkSnapshot(snapshot);
    const anchor = (await anchorAt(this, snapshot.position)) ?? null;
    if (!this.snapshotStreamReady) {
      await this.client.setStreamMetadata(this.snapshotStream, { maxCount: SNAPSHOTS_KEPT });
      this.snapshotStreamReady = true;
    }
    await this.client.appendToStream(this.snapshotStream, jsonEvent<SnapshotData>({ type: SNAPSHOT_EVENT_TYPE, data: { position: snapshot.position, anchor, state: snapshot.state } }));
  }

  async latestSnapshot(): Promise<Snapshot | undefined> {
    this.assertOpen();
    const head = await this.head();
    const candidates: { position: number; anchor: unknown; state: string }[] = [];
    try {
      for await (const { event } of this.client.readStream<SnapshotData>(this.snapshotStream, { direction: BACKWARDS, fromRevision: END, maxCount: SNAPSHOTS_KEPT })) {
        const data = event?.data as Partial<SnapshotData['data']> | undefined;
        if (event?.type !== SNAPSHOT_EVENT_TYPE || !data || !Number.isSafeInteger(data.position) || typeof data.state !== 'string') {
          this.warn(`${redactUrl(this.url)} stream ${this.snapshotStream}: ignoring an unreadable snapshot event (revision ${event?.revision})`);
          continue;
        }
        candidates.push({ position: data.position!, anchor: data.anchor, state: data.state });
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return undefined;
      throw error;
    }
    candidates.sort((a, b) => b.position - a.position);
    for (const candidate of candidates) {
      if (candidate.position > head) continue;
      if (candidate.anchor !== (await anchorAt(this, candidate.position))) {
        this.warn(
          `${redactUrl(this.url)} stream ${this.snapshotStream}: ignoring the snapshot at position ${candidate.position}: ` +
            (candidate.anchor === null
              ? 'it was saved when the stream did not reach that position yet'
              : 'it was taken from another log (the event at that position differs; was the stream deleted and written again?)'),
        );
        continue;
      }
      return { position: candidate.position, state: candidate.state };
    }
    return undefined;
  }

  close(): Promise<void> {
    this.closing ??= this.client.dispose();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing) throw new Error(`event store ${redactUrl(this.url)} is closed`);
  }

  private assertWritable(operation: string): void {
    this.assertOpen();
    if (this.readOnly) throw new ReadOnlyStoreError(redactUrl(this.url), operation);
    if (this.inTransaction) throw new AppendInProgressError(redactUrl(this.url), operation);
  }
}

/** The client's errors often carry only their class name as message. */
function describeError(error: unknown): string {
  if (error instanceof UnavailableError) return `no server answers at that address (${error.message})`;
  return error instanceof Error ? error.message : String(error);
}
