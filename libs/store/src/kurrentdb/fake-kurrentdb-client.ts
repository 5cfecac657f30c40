import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  BACKWARDS,
  END,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AppendResult,
  type AppendStreamState,
  type EventData,
  type ReadRevision,
  type ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import type { KurrentDBClientLike } from './kurrentdb-event-store';

interface FakeRecord {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  data: unknown;
  isJson: boolean;
  created: Date;
  metadata: undefined;
}

interface FakeStream {
  records: FakeRecord[];
  maxCount?: number;
  subscribers: Set<(record: FakeRecord) => void>;
}

/**
 * A stand-in for the KurrentDB server behind the official client's API, as far
 * as KurrentDBEventStore uses it: expected-state checks with the client's own
 * WrongExpectedVersionError, StreamNotFoundError on reading a stream that does
 * not exist, JSON data serialized and parsed again as the client does,
 * `$maxCount`, the server's MaxAppendSize, and catch-up subscriptions that
 * start after the revision given. It checks the adapter's logic; only a real
 * server (KURRENTDB_URL) checks the client and the server.
 */
export class FakeKurrentDB {
  readonly streams = new Map<string, FakeStream>();
  /** Events per appendToStream call, in order. */
  readonly appends: number[] = [];
  disposed = false;

  constructor(readonly maxAppendBytes = 1024 * 1024) {}

  client(): KurrentDBClientLike {
    return this as unknown as KurrentDBClientLike;
  }

  private stream(name: string): FakeStream {
    let stream = this.streams.get(name);
    if (!stream) this.streams.set(name, (stream = { records: [], subscribers: new Set() }));
    return stream;
  }

  async appendToStream(name: string, events: EventData | EventData[], options: { streamState?: AppendStreamState } = {}): Promise<AppendResult> {
    this.assertLive();
    const list = Array.isArray(events) ? events : [events];
    const stream = this.stream(name);
    const current = stream.records.length === 0 ? NO_STREAM : BigInt(stream.records.length - 1);
    const expected = options.streamState ?? 'any';
    const ok = expected === 'any' || (expected === 'stream_exists' ? current !== NO_STREAM : expected === current);
    if (!ok) throw new WrongExpectedVersionError(undefined, { streamName: name, expected, current });
    const texts = list.map((event) => JSON.stringify(event.data));
    const bytes = texts.reduce((sum, text, i) => sum + Buffer.byteLength(text) + list[i]!.type.length, 0);
    if (bytes > this.maxAppendBytes) throw new Error(`fake MaxAppendSize exceeded: ${bytes} > ${this.maxAppendBytes}`);
    this.appends.push(list.length);
    list.forEach((event, i) => {
      const record: FakeRecord = {
        streamId: name,
        id: event.id ?? randomUUID(),
        revision: BigInt(stream.records.length),
        type: event.type,
        data: JSON.parse(texts[i]!),
        isJson: event.contentType === 'application/json',
        created: new Date(0),
        metadata: undefined,
      };
      stream.records.push(record);
      for (const subscriber of stream.subscribers) subscriber(record);
    });
    return { success: true, nextExpectedRevision: BigInt(stream.records.length - 1), position: undefined };
  }

  /** The records a reader sees: `$maxCount` hides all but the newest. */
  private visible(name: string): FakeRecord[] | undefined {
    const stream = this.streams.get(name);
    if (!stream || stream.records.length === 0) return undefined;
    return stream.maxCount === undefined ? stream.records : stream.records.slice(-stream.maxCount);
  }

  readStream(name: string, options: { fromRevision?: ReadRevision; direction?: string; maxCount?: number | bigint } = {}): AsyncIterableIterator<ResolvedEvent> {
    return this.readRecords(name, options);
  }

  private async *readRecords(name: string, options: { fromRevision?: ReadRevision; direction?: string; maxCount?: number | bigint }): AsyncGenerator<ResolvedEvent> {
    this.assertLive();
    const records = this.visible(name);
    if (!records) throw new StreamNotFoundError(undefined, name);
    const backwards = options.direction === BACKWARDS;
    const from = options.fromRevision ?? (backwards ? END : START);
    const selected = backwards
      ? records.filter((r) => from === END || (from !== START && r.revision <= from)).reverse()
      : records.filter((r) => from === START || (from !== END && r.revision >= from));
    const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
    for (const record of selected.slice(0, max)) yield { event: { ...record } } as unknown as ResolvedEvent;
  }

  subscribeToStream(name: string, options: { fromRevision?: ReadRevision } = {}): Readable & { unsubscribe(): Promise<void> } {
    this.assertLive();
    const stream = this.stream(name);
    const readable = new Readable({ objectMode: true, read: () => undefined }) as Readable & { unsubscribe(): Promise<void> };
    const from = options.fromRevision ?? START;
    const deliver = (record: FakeRecord) => {
      if (from === START || (from !== END && record.revision > from)) readable.push({ event: { ...record } });
    };
    setImmediate(() => {
      for (const record of stream.records) deliver(record);
      readable.emit('caughtUp', {});
      stream.subscribers.add(deliver);
    });
    readable.unsubscribe = async () => {
      stream.subscribers.delete(deliver);
    };
    return readable;
  }

  async setStreamMetadata(name: string, metadata: { maxCount?: number }): Promise<AppendResult> {
    this.assertLive();
    this.stream(name).maxCount = metadata.maxCount;
    return { success: true, nextExpectedRevision: 0n, position: undefined };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('fake KurrentDB client disposed');
  }
}
