import { encodeEvent } from '@clearsim/events';
import { ConcurrencyError, type StoredEvent } from '../event-store.port';
import { CorruptLogError, ReadOnlyStoreError, StoreNotFoundError } from '../errors';
import { describeEventStoreContract, sampleEvents } from '../testing';
import { FakeKurrentDB } from './fake-kurrentdb-client';
import { KurrentDBEventStore, SNAPSHOT_EVENT_TYPE } from './kurrentdb-event-store';

// The adapter's logic against a stand-in for the server (see FakeKurrentDB);
// kurrentdb-event-store.int.spec.ts runs the same contract on a real server.
const URL = 'kurrentdb://fake:2113?tls=false';

describeEventStoreContract('KurrentDBEventStore (fake server)', async () => {
  const server = new FakeKurrentDB();
  let current = await KurrentDBEventStore.open(URL, { client: server.client() });
  return {
    store: current,
    reopen: async () => {
      await current.close();
      server.disposed = false;
      current = await KurrentDBEventStore.open(URL, { client: server.client() });
      return current;
    },
    cleanup: () => current.close(),
  };
});

describe('KurrentDBEventStore (fake server)', () => {
  let server: FakeKurrentDB;
  let store: KurrentDBEventStore;

  beforeEach(async () => {
    server = new FakeKurrentDB();
    store = await KurrentDBEventStore.open(`${URL}&stream=shard-7`, { client: server.client() });
  });

  afterEach(() => store.close());

  it('writes the shard to stream clearsim-<shard> at revision = position − 1, each event of its own type with the canonical JSON as data', async () => {
    const events = sampleEvents(3);
    await store.append(events, 0);

    const records = server.streams.get('clearsim-shard-7')!.records;

    expect(store.stream).toBe('clearsim-shard-7');
    expect(records.map((r) => r.revision)).toEqual([0n, 1n, 2n]);
    expect(records.map((r) => r.type)).toEqual(events.map((e) => e.type));
    expect(records.map((r) => JSON.stringify(r.data))).toEqual(events.map(encodeEvent));
  });

  it("keeps a transaction's chunks in memory and sends them at commit (nothing reaches the server before)", async () => {
    await store.append(sampleEvents(1), 0);
    const tx = await store.beginAppend(1);
    await tx.append(sampleEvents(2, 1));
    await tx.append(sampleEvents(3, 3));
    expect(server.streams.get('clearsim-shard-7')!.records).toHaveLength(1);

    expect(await tx.commit()).toBe(6);

    expect(server.streams.get('clearsim-shard-7')!.records.map((r) => JSON.stringify(r.data))).toEqual(sampleEvents(6).map(encodeEvent));
  });

  it('opens read-only only a stream that exists, and refuses writes', async () => {
    await expect(KurrentDBEventStore.open(URL, { client: server.client(), readOnly: true })).rejects.toThrow(
      new StoreNotFoundError(URL, 'no stream clearsim-shard-0'),
    );
    expect(server.disposed).toBe(true);
    server.disposed = false;
    await store.append(sampleEvents(2), 0);
    const reader = await KurrentDBEventStore.open(`${URL}&stream=shard-7`, { client: server.client(), readOnly: true });
    expect(await reader.head()).toBe(2);
    await expect(reader.append(sampleEvents(1, 2), 2)).rejects.toBeInstanceOf(ReadOnlyStoreError);
    await expect(reader.saveSnapshot({ position: 2, state: 's' })).rejects.toBeInstanceOf(ReadOnlyStoreError);
  });

  it('splits a batch bigger than one append request into several appends, each expecting where the previous ended', async () => {
    const small = new FakeKurrentDB(20_000);
    const chunked = await KurrentDBEventStore.open(URL, { client: small.client(), maxAppendBytes: 20_000 });
    const events = sampleEvents(500);

    expect(await chunked.append(events, 0)).toBe(500);

    expect(small.appends.length).toBeGreaterThan(3);
    expect(small.appends.reduce((a, b) => a + b, 0)).toBe(500);
    const stored: StoredEvent[] = [];
    for await (const s of chunked.read()) stored.push(s);
    expect(stored.map((s) => encodeEvent(s.event))).toEqual(events.map(encodeEvent));
    await chunked.close();
  });

  it('says so when another writer got in between two appends of a split batch (a prefix of the batch is in)', async () => {
    const small = new FakeKurrentDB(20_000);
    const chunked = await KurrentDBEventStore.open(URL, { client: small.client(), maxAppendBytes: 20_000 });
    const client = small.client();
    const original = client.appendToStream.bind(client);
    let calls = 0;
    (small as unknown as { appendToStream: typeof original }).appendToStream = async (...args: Parameters<typeof original>) => {
      const result = await original(...args);
      if (++calls === 1) await original('clearsim-shard-0', sampleEvents(1, 900).map((e) => ({ id: 'x', contentType: 'application/json', type: e.type, data: JSON.parse(encodeEvent(e)), metadata: undefined })) as never);
      return result;
    };

    const appending = chunked.append(sampleEvents(500), 0);

    await expect(appending).rejects.not.toBeInstanceOf(ConcurrencyError);
    await expect(appending).rejects.toThrow(/another writer appended in the middle of a batch split into several appends: positions 1\.\.\d+ of this batch are in the log/);
    await chunked.close();
  });

  it('keeps snapshots in clearsim-<shard>-snapshots with $maxCount 3', async () => {
    await store.append(sampleEvents(5), 0);
    for (const position of [1, 2, 3, 4, 5]) await store.saveSnapshot({ position, state: `s${position}` });

    const snapshots = server.streams.get('clearsim-shard-7-snapshots')!;

    expect(snapshots.maxCount).toBe(3);
    expect(snapshots.records.map((r) => r.type)).toEqual(Array(5).fill(SNAPSHOT_EVENT_TYPE));
    expect(snapshots.records.at(-1)!.data).toEqual({ position: 5, anchor: expect.stringMatching(/^[0-9a-f]{64}$/), state: 's5' });
  });

  it('refuses a stream whose revisions have a hole, naming the position', async () => {
    await store.append(sampleEvents(4), 0);
    server.streams.get('clearsim-shard-7')!.records.splice(1, 1);
    server.streams.get('clearsim-shard-7')!.records.push({ ...server.streams.get('clearsim-shard-7')!.records[2]!, revision: 4n });

    const reading = (async () => {
      for await (const _ of store.read()) void _;
    })();

    await expect(reading).rejects.toBeInstanceOf(CorruptLogError);
    await expect(reading).rejects.toThrow('stream clearsim-shard-7:position 2: corrupt event log: position 2 is missing (the next event holds 3)');
  });

  it('maps WrongExpectedVersionError to ConcurrencyError with the actual head', async () => {
    await store.append(sampleEvents(2), 0);
    await expect(store.append(sampleEvents(1, 2), 0)).rejects.toMatchObject({ expectedPosition: 0, actualPosition: 2 });
    await expect(store.append(sampleEvents(1, 2), 5)).rejects.toMatchObject({ expectedPosition: 5, actualPosition: 2 });
  });

  describe('subscribe', () => {
    it('delivers the history from a position, goes live, and delivers what is appended next, in order', async () => {
      await store.append(sampleEvents(5), 0);
      const seen: number[] = [];
      let caughtUp!: () => void;
      const live = new Promise<void>((resolve) => (caughtUp = resolve));
      let notify: () => void = () => undefined;

      const subscription = store.subscribe(
        3,
        async ({ position, event }) => {
          expect(encodeEvent(event)).toBe(encodeEvent(sampleEvents(1, position - 1)[0]!));
          seen.push(position);
          notify();
        },
        { onCaughtUp: caughtUp },
      );
      await live;
      const allSeen = new Promise<void>((resolve) => (notify = () => seen.length === 5 && resolve()));
      await store.append(sampleEvents(2, 5), 5);
      await allSeen;
      await subscription.close();
      await subscription.done;

      expect(seen).toEqual([3, 4, 5, 6, 7]);
    });

    it('from position 1 delivers everything', async () => {
      await store.append(sampleEvents(3), 0);
      const seen: number[] = [];
      let done!: () => void;
      const all = new Promise<void>((resolve) => (done = resolve));
      const subscription = store.subscribe(1, ({ position }) => {
        seen.push(position);
        if (seen.length === 3) done();
      });
      await all;
      await subscription.close();
      expect(seen).toEqual([1, 2, 3]);
    });

    it('ends with the handler’s error', async () => {
      await store.append(sampleEvents(3), 0);
      const subscription = store.subscribe(1, ({ position }) => {
        if (position === 2) throw new Error('handler failed at 2');
      });
      await expect(subscription.done).rejects.toThrow('handler failed at 2');
      await subscription.close();
    });
  });
});
