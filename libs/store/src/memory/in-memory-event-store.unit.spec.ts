import { encodeEvent } from '@clearsim/events';
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

  it('refuses to work once closed', async () => {
    const store = new InMemoryEventStore();
    await store.close();
    await expect(store.head()).rejects.toThrow('event store memory: is closed');
    await expect(store.append(sampleEvents(1), 0)).rejects.toThrow(/is closed/);
  });
});
