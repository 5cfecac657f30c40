/// <reference types="jest" />
import { encodeEvent, type ClearingEvent } from '@clearsim/events';
import { AppendInProgressError, TransactionFinishedError } from './errors';
import { ConcurrencyError, type EventStore, type ReadOptions, type StoredEvent } from './event-store.port';
import { sampleEvents } from './test-events';

export interface EventStoreFixture {
  /** A store over a new, empty log. */
  store: EventStore;
  /** Closes the store handed out last and opens a new one over the same log. */
  reopen?: () => Promise<EventStore>;
  /** Closes whatever store is open and deletes the log. */
  cleanup: () => Promise<void>;
}

async function readAll(store: EventStore, fromPosition?: number, toPosition?: number): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const stored of store.read(fromPosition, toPosition === undefined ? undefined : { toPosition })) out.push(stored);
  return out;
}

const canonical = (events: readonly ClearingEvent[]) => events.map(encodeEvent);
const positions = (stored: readonly StoredEvent[]) => stored.map((s) => s.position);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * The contract every event-store adapter passes (STYLE habit 7): same
 * positions, same canonical events, same optimistic concurrency, whatever the
 * storage. `factory` is called once per test.
 */
export function describeEventStoreContract(name: string, factory: () => Promise<EventStoreFixture>): void {
  describe(`EventStore contract: ${name}`, () => {
    let fixture: EventStoreFixture;
    let store: EventStore;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    it('starts empty: head 0, nothing to read', async () => {
      expect(await store.head()).toBe(0);
      expect(await readAll(store)).toEqual([]);
    });

    it('returns the new head from append, and head() agrees', async () => {
      expect(await store.append(sampleEvents(3), 0)).toBe(3);
      expect(await store.head()).toBe(3);
      expect(await store.append(sampleEvents(2, 3), 3)).toBe(5);
      expect(await store.head()).toBe(5);
    });

    it('reads back the same events in order at positions 1..N', async () => {
      const events = sampleEvents(8);
      await store.append(events.slice(0, 5), 0);
      await store.append(events.slice(5), 5);

      const stored = await readAll(store);

      expect(positions(stored)).toEqual(range(1, 8));
      expect(canonical(stored.map((s) => s.event))).toEqual(canonical(events));
    });

    it('reads from a middle position, up to toPosition (inclusive)', async () => {
      const events = sampleEvents(10);
      await store.append(events, 0);

      const tail = await readAll(store, 4);
      expect(positions(tail)).toEqual(range(4, 10));
      expect(canonical(tail.map((s) => s.event))).toEqual(canonical(events.slice(3)));

      const window = await readAll(store, 3, 6);
      expect(positions(window)).toEqual([3, 4, 5, 6]);
      expect(canonical(window.map((s) => s.event))).toEqual(canonical(events.slice(2, 6)));

      expect(positions(await readAll(store, 1, 1))).toEqual([1]);
      expect(positions(await readAll(store, 10))).toEqual([10]);
      expect(positions(await readAll(store, 9, 99))).toEqual([9, 10]); // toPosition past the head stops at the head
      expect(await readAll(store, 11)).toEqual([]); // past the head
      expect(await readAll(store, 5, 4)).toEqual([]); // empty window
    });

    it('reads only the decisions when asked (decisionsOnly), at their positions in the log, within a window too', async () => {
      const events = sampleEvents(12); // every fourth a decision (MarginCallIssued): positions 4, 8 and 12
      await store.append(events, 0);
      const read = async (from: number, options: ReadOptions) => {
        const out: StoredEvent[] = [];
        for await (const stored of store.read(from, options)) out.push(stored);
        return out;
      };
      const decisions = await read(1, { decisionsOnly: true });
      expect(positions(decisions)).toEqual([4, 8, 12]);
      expect(canonical(decisions.map((s) => s.event))).toEqual(canonical([events[3]!, events[7]!, events[11]!]));
      expect(positions(await read(5, { toPosition: 11, decisionsOnly: true }))).toEqual([8]);
      expect(positions(await read(9, { toPosition: 11, decisionsOnly: true }))).toEqual([]);
      // and everything without it, as before
      expect(positions(await read(1, { decisionsOnly: false }))).toEqual(range(1, 12));
    });

    it('refuses a fromPosition below 1', async () => {
      await store.append(sampleEvents(1), 0);
      await expect(readAll(store, 0)).rejects.toThrow(RangeError);
    });

    it('lets a reader stop early', async () => {
      await store.append(sampleEvents(20), 0);
      const seen: number[] = [];
      for await (const { position } of store.read()) {
        seen.push(position);
        if (position === 3) break;
      }
      expect(seen).toEqual([1, 2, 3]);
      expect(await store.append(sampleEvents(1, 20), 20)).toBe(21);
    });

    it('rejects a stale expectedPosition with ConcurrencyError and appends nothing', async () => {
      await store.append(sampleEvents(3), 0);

      const stale = store.append(sampleEvents(2, 3), 1);
      await expect(stale).rejects.toBeInstanceOf(ConcurrencyError);
      await expect(stale).rejects.toMatchObject({ expectedPosition: 1, actualPosition: 3 });
      await expect(store.append(sampleEvents(2, 3), 7)).rejects.toBeInstanceOf(ConcurrencyError); // ahead of the head

      expect(await store.head()).toBe(3);
      expect(positions(await readAll(store))).toEqual([1, 2, 3]);
    });

    it('lets exactly one of two racing appends at the same expectedPosition win', async () => {
      await store.append(sampleEvents(1), 0);

      const results = await Promise.allSettled([store.append(sampleEvents(2, 1), 1), store.append(sampleEvents(3, 10), 1)]);

      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0].reason).toBeInstanceOf(ConcurrencyError);
      const head = await store.head();
      expect(head === 3 || head === 4).toBe(true);
      expect(positions(await readAll(store))).toEqual(range(1, head));
    });

    it('refuses a repeated append (a retry of a batch that already went in): the events are in the log once', async () => {
      const batch = sampleEvents(3);
      expect(await store.append(batch, 0)).toBe(3);

      const retry = store.append(batch, 0);

      await expect(retry).rejects.toBeInstanceOf(ConcurrencyError);
      await expect(retry).rejects.toMatchObject({ expectedPosition: 0, actualPosition: 3 });
      expect(canonical((await readAll(store)).map((s) => s.event))).toEqual(canonical(batch));
    });

    it('treats a batch of 0 events as a no-op', async () => {
      expect(await store.append([], 0)).toBe(0);
      await store.append(sampleEvents(2), 0);
      expect(await store.append([], 2)).toBe(2);
      expect(await store.head()).toBe(2);
      expect(positions(await readAll(store))).toEqual([1, 2]);
    });

    it('sees the same events after a reopen, and appends after them', async () => {
      if (!fixture.reopen) return;
      const events = sampleEvents(6);
      await store.append(events.slice(0, 4), 0);

      store = await fixture.reopen();

      expect(await store.head()).toBe(4);
      expect(canonical((await readAll(store)).map((s) => s.event))).toEqual(canonical(events.slice(0, 4)));
      await expect(store.append(events.slice(4), 3)).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await store.append(events.slice(4), 4)).toBe(6);
      expect(canonical((await readAll(store)).map((s) => s.event))).toEqual(canonical(events));
    });

    describe('beginAppend (multi-chunk, all-or-nothing appends)', () => {
      it('commit makes every chunk visible at once; before it, head and reads are as before', async () => {
        await store.append(sampleEvents(2), 0);
        const tx = await store.beginAppend(2);
        expect(await tx.append(sampleEvents(3, 2))).toBe(5); // positions 3..5
        expect(await tx.append([])).toBe(5);
        expect(await tx.append(sampleEvents(2, 5))).toBe(7); // positions 6..7

        expect(await store.head()).toBe(2);
        expect(positions(await readAll(store))).toEqual([1, 2]);

        expect(await tx.commit()).toBe(7);
        expect(await store.head()).toBe(7);
        expect(canonical((await readAll(store)).map((s) => s.event))).toEqual(canonical(sampleEvents(7)));
        await expect(tx.append(sampleEvents(1, 7))).rejects.toBeInstanceOf(TransactionFinishedError);
        await tx.abort(); // a no-op after commit
        expect(await store.head()).toBe(7);
        expect(await store.append(sampleEvents(1, 7), 7)).toBe(8);
      });

      it('abort leaves head and reads as before (idempotent), and the store takes appends again', async () => {
        await store.append(sampleEvents(3), 0);
        const tx = await store.beginAppend(3);
        await tx.append(sampleEvents(4, 3));

        await tx.abort();
        await tx.abort();

        expect(await store.head()).toBe(3);
        expect(canonical((await readAll(store)).map((s) => s.event))).toEqual(canonical(sampleEvents(3)));
        await expect(tx.commit()).rejects.toThrow(/already aborted/);
        expect(await store.append(sampleEvents(1, 10), 3)).toBe(4);
        expect(canonical((await readAll(store)).map((s) => s.event))).toEqual(canonical([...sampleEvents(3), ...sampleEvents(1, 10)]));
      });

      it('refuses another append or transaction while one is open', async () => {
        await store.append(sampleEvents(1), 0);
        const tx = await store.beginAppend(1);
        await tx.append(sampleEvents(2, 1));

        await expect(store.append(sampleEvents(1, 5), 1)).rejects.toBeInstanceOf(AppendInProgressError);
        await expect(store.beginAppend(1)).rejects.toBeInstanceOf(AppendInProgressError);

        expect(await tx.commit()).toBe(3);
        expect(positions(await readAll(store))).toEqual([1, 2, 3]);
        expect(await store.append(sampleEvents(1, 3), 3)).toBe(4);
      });

      it('rejects a stale expectedPosition with ConcurrencyError and leaves no transaction open', async () => {
        await store.append(sampleEvents(3), 0);
        await expect(store.beginAppend(1)).rejects.toMatchObject({ expectedPosition: 1, actualPosition: 3 });
        await expect(store.beginAppend(4)).rejects.toBeInstanceOf(ConcurrencyError);
        expect(await store.append(sampleEvents(1, 3), 3)).toBe(4);
      });

      it('commits a transaction without chunks as a no-op', async () => {
        const tx = await store.beginAppend(0);
        expect(await tx.commit()).toBe(0);
        expect(await store.head()).toBe(0);
        expect(await store.append(sampleEvents(1), 0)).toBe(1);
      });

      it('keeps what a transaction committed across a reopen', async () => {
        if (!fixture.reopen) return;
        const tx = await store.beginAppend(0);
        for (let from = 0; from < 1_000; from += 250) await tx.append(sampleEvents(250, from));
        expect(await tx.commit()).toBe(1_000);

        store = await fixture.reopen();

        expect(await store.head()).toBe(1_000);
        expect(canonical((await readAll(store)).map((s) => s.event))).toEqual(canonical(sampleEvents(1_000)));
      });

      it('lets a snapshot of the committed log be saved while a transaction is open', async () => {
        await store.append(sampleEvents(2), 0);
        const tx = await store.beginAppend(2);
        await tx.append(sampleEvents(2, 2));
        await store.saveSnapshot({ position: 2, state: 'at 2' });
        expect(await tx.commit()).toBe(4);
        expect(await store.latestSnapshot()).toEqual({ position: 2, state: 'at 2' });
      });
    });

    describe('snapshots', () => {
      /** JSON text with what tends to break round trips: quotes, backslashes, newlines, non-ASCII, a long run. */
      const state = (tag: string) => JSON.stringify({ tag, note: 'quote " backslash \\ newline \n tab \t zoë 🚀 ✓', pad: 'x'.repeat(50_000) });

      it('has none at first', async () => {
        expect(await store.latestSnapshot()).toBeUndefined();
        await store.append(sampleEvents(3), 0);
        expect(await store.latestSnapshot()).toBeUndefined();
      });

      it('gives back exactly the snapshot saved', async () => {
        await store.append(sampleEvents(5), 0);

        await store.saveSnapshot({ position: 5, state: state('five') });

        expect(await store.latestSnapshot()).toEqual({ position: 5, state: state('five') });
      });

      it('keeps a snapshot of the empty log (position 0)', async () => {
        await store.saveSnapshot({ position: 0, state: '{}' });
        expect(await store.latestSnapshot()).toEqual({ position: 0, state: '{}' });
      });

      it('returns the latest one: the highest position, also after older ones are pruned', async () => {
        const events = sampleEvents(8);
        await store.append(events.slice(0, 6), 0);
        for (const position of [2, 4, 6]) await store.saveSnapshot({ position, state: state(`at ${position}`) });
        expect(await store.latestSnapshot()).toEqual({ position: 6, state: state('at 6') });

        await store.append(events.slice(6), 6);
        await store.saveSnapshot({ position: 8, state: state('at 8') });

        expect(await store.latestSnapshot()).toEqual({ position: 8, state: state('at 8') });
      });

      it('replaces a snapshot saved again at the same position', async () => {
        await store.append(sampleEvents(4), 0);
        await store.saveSnapshot({ position: 4, state: 'first' });
        await store.saveSnapshot({ position: 4, state: 'second' });
        expect(await store.latestSnapshot()).toEqual({ position: 4, state: 'second' });
      });

      it('ignores a snapshot beyond the head', async () => {
        await store.append(sampleEvents(3), 0);
        await store.saveSnapshot({ position: 3, state: state('at the head') });

        await store.saveSnapshot({ position: 10, state: state('beyond') });

        expect(await store.latestSnapshot()).toEqual({ position: 3, state: state('at the head') });
      });

      it('sees the latest snapshot after a reopen', async () => {
        if (!fixture.reopen) return;
        await store.append(sampleEvents(7), 0);
        await store.saveSnapshot({ position: 4, state: state('four') });
        await store.saveSnapshot({ position: 7, state: state('seven') });

        store = await fixture.reopen();

        expect(await store.latestSnapshot()).toEqual({ position: 7, state: state('seven') });
      });

      it('refuses a position that is not a whole number >= 0, and a state that is not a string', async () => {
        await store.append(sampleEvents(2), 0);
        await expect(store.saveSnapshot({ position: -1, state: 'x' })).rejects.toThrow(RangeError);
        await expect(store.saveSnapshot({ position: 1.5, state: 'x' })).rejects.toThrow(RangeError);
        await expect(store.saveSnapshot({ position: 1, state: 42 as unknown as string })).rejects.toThrow(TypeError);
        expect(await store.latestSnapshot()).toBeUndefined();
      });
    });

    it('round-trips 10,000 events', async () => {
      const events = sampleEvents(10_000);
      expect(await store.append(events.slice(0, 7_000), 0)).toBe(7_000);
      for (let from = 7_000; from < 10_000; from += 1_000) {
        expect(await store.append(events.slice(from, from + 1_000), from)).toBe(from + 1_000);
      }

      const stored = await readAll(store);

      expect(positions(stored)).toEqual(range(1, 10_000));
      expect(canonical(stored.map((s) => s.event))).toEqual(canonical(events));
      const middle = await readAll(store, 6_543, 6_547);
      expect(positions(middle)).toEqual(range(6_543, 6_547));
      expect(canonical(middle.map((s) => s.event))).toEqual(canonical(events.slice(6_542, 6_547)));
    }, 30_000);
  });
}
