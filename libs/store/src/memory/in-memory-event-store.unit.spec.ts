import { encodeEvent } from '@clearsim/events';
import { AppendInProgressError, ReadOnlyStoreError, StoreNotFoundError } from '../errors';
import { describeEventStoreContract, sampleEvents } from '../testing';
import { InMemoryEventStore, InMemoryLog } from './in-memory-event-store';

describeEventStoreContract('InMemoryEventStore', async () => {
  const log = new InMemoryLog();
  let current = new InMemoryEventStore(log);
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = new InMemoryEventStore(log);
      return current;
    },
    cleanup: () => current.close(),
  };
});

describe('InMemoryEventStore', () => {
  it('hands out copies: changing an event read back changes nothing in the log', async () => {
    const store = new InMemoryEventStore();
    const [event] = sampleEvents(1);
    await store.append([event!], 0);
    (event as { account?: string }).account = 'mallory';

    for await (const stored of store.read()) (stored.event as { account?: string }).account = 'eve';

    for await (const again of store.read()) expect(encodeEvent(again.event)).toBe(encodeEvent(sampleEvents(1)[0]!));
  });

  it('keeps the newest 3 snapshots', async () => {
    const log = new InMemoryLog();
    const store = new InMemoryEventStore(log);
    await store.append(sampleEvents(5), 0);
    for (const position of [1, 2, 3, 4, 5]) await store.saveSnapshot({ position, state: `s${position}` });
    expect(log.snapshots.map((s) => s.position)).toEqual([5, 4, 3]);
  });

  it('opens read-only only a named log that holds events, and refuses writes on it', async () => {
    expect(() => InMemoryEventStore.open('memory:', { readOnly: true })).toThrow(
      new StoreNotFoundError('memory:', 'memory: is a new, empty log every time'),
    );
    expect(() => InMemoryEventStore.open('memory:ro-unit', { readOnly: true })).toThrow('(no log named ro-unit in this process)');
    const writer = InMemoryEventStore.open('memory:ro-unit');
    expect(() => InMemoryEventStore.open('memory:ro-unit', { readOnly: true })).toThrow('(the log is empty)');
    await writer.append(sampleEvents(2), 0);

    const reader = InMemoryEventStore.open('memory:ro-unit', { readOnly: true });

    expect(await reader.head()).toBe(2);
    await expect(reader.append(sampleEvents(1, 2), 2)).rejects.toBeInstanceOf(ReadOnlyStoreError);
    await expect(reader.beginAppend(2)).rejects.toBeInstanceOf(ReadOnlyStoreError);
    await expect(reader.saveSnapshot({ position: 2, state: 's' })).rejects.toBeInstanceOf(ReadOnlyStoreError);
    InMemoryEventStore.drop('ro-unit');
  });

  it('keeps a transaction on the log: a second store over the same log cannot append while it is open', async () => {
    const log = new InMemoryLog();
    const first = new InMemoryEventStore(log);
    const second = new InMemoryEventStore(log);
    const tx = await first.beginAppend(0);
    await tx.append(sampleEvents(2));
    await expect(second.append(sampleEvents(1), 0)).rejects.toBeInstanceOf(AppendInProgressError);
    expect(await tx.commit()).toBe(2);
    expect(await second.append(sampleEvents(1, 2), 2)).toBe(3);
  });

  it('refuses to work once closed', async () => {
    const store = new InMemoryEventStore();
    await store.close();
    await expect(store.head()).rejects.toThrow('event store memory: is closed');
    await expect(store.append(sampleEvents(1), 0)).rejects.toThrow(/is closed/);
  });
});
