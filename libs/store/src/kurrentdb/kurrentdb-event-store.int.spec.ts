import { encodeEvent } from '@clearsim/events';
import { openStore } from '../open-store';
import { describeWithService } from '../test-services';
import { describeEventStoreContract, sampleEvents } from '../testing';
import { KurrentDBEventStore } from './kurrentdb-event-store';

/** `?stream=` added to a connection string that may already have a query. */
const withStream = (url: string, stream: string) => `${url}${url.includes('?') ? '&' : '?'}stream=${encodeURIComponent(stream)}`;

describeWithService(
  'KurrentDBEventStore',
  {
    variable: 'KURRENTDB_URL',
    service: 'KurrentDB',
    howTo:
      'the KurrentDB server cannot be installed here (infra/ and CI do not provide one); start one (the KurrentDB quick start, ' +
      'with --insecure) and set e.g. KURRENTDB_URL=kurrentdb://localhost:2113?tls=false',
    requiredInCi: false,
  },
  (kurrentUrl) => {
    // Streams are never reused: every test writes clearsim-test-<run>-<n>.
    const run = `${process.pid}-${Date.now().toString(36)}`;
    let streams = 0;
    const freshUrl = () => withStream(kurrentUrl, `test-${run}-${++streams}`);

    describeEventStoreContract('KurrentDBEventStore', async () => {
      const url = freshUrl();
      let current = await KurrentDBEventStore.open(url);
      return {
        store: current,
        reopen: async () => {
          await current.close();
          current = await KurrentDBEventStore.open(url);
          return current;
        },
        cleanup: () => current.close(),
      };
    });

    describe('KurrentDB specifics', () => {
      it('is what openStore returns for esdb:// and kurrentdb:// URLs', async () => {
        const store = await openStore(freshUrl());
        try {
          expect(store).toBeInstanceOf(KurrentDBEventStore);
          await store.append(sampleEvents(2), 0);
          expect(await store.head()).toBe(2);
        } finally {
          await store.close();
        }
      });

      it('catch-up subscription: history from a position, then live appends, in order', async () => {
        const store = await KurrentDBEventStore.open(freshUrl());
        try {
          await store.append(sampleEvents(5), 0);
          const seen: string[] = [];
          let caughtUp!: () => void;
          const live = new Promise<void>((resolve) => (caughtUp = resolve));
          let allSeen!: () => void;
          const all = new Promise<void>((resolve) => (allSeen = resolve));
          const subscription = store.subscribe(
            3,
            ({ position, event }) => {
              seen.push(`${position} ${encodeEvent(event)}`);
              if (seen.length === 5) allSeen();
            },
            { onCaughtUp: caughtUp },
          );
          await live;
          await store.append(sampleEvents(2, 5), 5);
          await all;
          await subscription.close();

          expect(seen).toEqual(sampleEvents(5, 2).map((e, i) => `${i + 3} ${encodeEvent(e)}`));
        } finally {
          await store.close();
        }
      }, 30_000);
    });
  },
);
