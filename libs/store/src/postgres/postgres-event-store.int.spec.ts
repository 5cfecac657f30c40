import { Client } from 'pg';
import { encodeEvent } from '@clearsim/events';
import { ConcurrencyError, type StoredEvent } from '../event-store.port';
import { CorruptLogError, ReadOnlyStoreError, StoreNotFoundError } from '../errors';
import { openStore } from '../open-store';
import { describeWithService, POSTGRES } from '../test-services';
import { describeEventStoreContract, sampleEvents } from '../testing';
import { PostgresEventStore, type PostgresEventStoreOptions } from './postgres-event-store';

async function readAll(store: PostgresEventStore, fromPosition?: number): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const stored of store.read(fromPosition)) out.push(stored);
  return out;
}

describeWithService(
  'PostgresEventStore',
  POSTGRES,
  (databaseUrl) => {
    // Every run of this file works in a schema of its own, dropped at the end; every test in a stream of its own.
    const schema = `clearsim_test_${process.pid}_${Date.now().toString(36)}`;
    let streams = 0;
    const freshStream = () => `test-${++streams}`;
    const open = (stream: string, options: PostgresEventStoreOptions = {}) => PostgresEventStore.open(databaseUrl, { schema, stream, ...options });
    let sql: Client;

    beforeAll(async () => {
      sql = new Client({ connectionString: databaseUrl });
      await sql.connect();
    });

    afterAll(async () => {
      await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await sql.end();
    });

    describeEventStoreContract('PostgresEventStore', async () => {
      const stream = freshStream();
      let current = await open(stream);
      return {
        store: current,
        reopen: async () => {
          await current.close();
          current = await open(stream);
          return current;
        },
        cleanup: () => current.close(),
      };
    });

    describe('PostgreSQL specifics', () => {
      let store: PostgresEventStore;
      let stream: string;
      const others: PostgresEventStore[] = [];

      beforeEach(async () => {
        stream = freshStream();
        store = await open(stream);
      });

      afterEach(async () => {
        await store.close();
        for (const other of others.splice(0)) await other.close();
      });

      const rows = async (what = 'stream_position, type, data, ts') =>
        (await sql.query(`SELECT ${what} FROM ${schema}.clearsim_events WHERE stream = $1 ORDER BY stream_position`, [stream])).rows;

      it('stores the canonical JSON text byte for byte, with its type and ts, one row per event at stream positions 1..N', async () => {
        const events = sampleEvents(4);
        await store.append(events, 0);

        const stored = await rows("stream_position::int AS position, type, data, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS ts");

        expect(stored).toEqual(events.map((event, i) => ({ position: i + 1, type: event.type, data: encodeEvent(event), ts: JSON.parse(encodeEvent(event)).ts })));
      });

      it('keeps streams apart: each shard has its own positions', async () => {
        const other = await open(freshStream());
        others.push(other);
        await store.append(sampleEvents(3), 0);
        await other.append(sampleEvents(2, 10), 0);

        expect(await store.head()).toBe(3);
        expect(await other.head()).toBe(2);
        expect((await readAll(other)).map((s) => encodeEvent(s.event))).toEqual(sampleEvents(2, 10).map(encodeEvent));
      });

      it('is what openStore returns for postgres:// URLs, with ?stream= and ?schema= taken off before connecting', async () => {
        const url = `${databaseUrl}${databaseUrl.includes('?') ? '&' : '?'}stream=${stream}&schema=${schema}`;
        await store.append(sampleEvents(2), 0);

        const opened = await openStore(url);
        try {
          expect(opened).toBeInstanceOf(PostgresEventStore);
          expect(opened.url).toBe(url);
          expect(await opened.head()).toBe(2);
        } finally {
          await opened.close();
        }
      });

      it('lets exactly one of two writers (two pools) appending at the same position win; the other gets ConcurrencyError', async () => {
        const second = await open(stream);
        others.push(second);
        await store.append(sampleEvents(1), 0);

        const results = await Promise.allSettled([store.append(sampleEvents(3, 1), 1), second.append(sampleEvents(3, 50), 1)]);

        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
        expect(lost.reason).toBeInstanceOf(ConcurrencyError);
        expect(lost.reason).toMatchObject({ expectedPosition: 1, actualPosition: 4 });
        expect((await readAll(store)).map((s) => s.position)).toEqual([1, 2, 3, 4]);
      });

      it('serializes many writers that retry on conflict: the log is gap-free and no two batches interleave', async () => {
        const writers = [store];
        for (let i = 0; i < 3; i++) {
          const writer = await open(stream);
          others.push(writer);
          writers.push(writer);
        }
        // Writer w appends 5 batches of 7 events, its events tagged by the sample index w * 1000 + k.
        await Promise.all(
          writers.map(async (writer, w) => {
            for (let batch = 0; batch < 5; batch++) {
              const events = sampleEvents(7, w * 1000 + batch * 7);
              for (;;) {
                try {
                  await writer.append(events, await writer.head());
                  break;
                } catch (error) {
                  if (!(error instanceof ConcurrencyError)) throw error;
                }
              }
            }
          }),
        );

        const stored = await readAll(store);
        expect(stored.map((s) => s.position)).toEqual(Array.from({ length: 4 * 5 * 7 }, (_, i) => i + 1));
        const encoded = stored.map((s) => encodeEvent(s.event));
        for (let start = 0; start < encoded.length; start += 7) {
          const first = encoded[start]!;
          const batch = writers.flatMap((_, w) => [0, 1, 2, 3, 4].map((b) => sampleEvents(7, w * 1000 + b * 7).map(encodeEvent))).find((b) => b[0] === first);
          expect(encoded.slice(start, start + 7)).toEqual(batch);
        }
      });

      it('reports a unique-key violation (a writer that skipped the lock took the position first) as ConcurrencyError', async () => {
        await store.append(sampleEvents(3), 0);
        const intruder = new Client({ connectionString: databaseUrl });
        await intruder.connect();
        try {
          await intruder.query('BEGIN');
          await intruder.query(`INSERT INTO ${schema}.clearsim_events (stream, stream_position, type, data, ts) VALUES ($1, 4, 'PriceUpdated', $2, now())`, [
            stream,
            encodeEvent(sampleEvents(1, 100)[0]!),
          ]);
          const appending = store.append(sampleEvents(2, 3), 3); // waits on the intruder's uncommitted row
          await new Promise((resolve) => setTimeout(resolve, 200));
          await intruder.query('COMMIT');

          await expect(appending).rejects.toBeInstanceOf(ConcurrencyError);
          await expect(appending).rejects.toMatchObject({ expectedPosition: 3, actualPosition: 4 });
        } finally {
          await intruder.end();
        }
        expect(await store.head()).toBe(4);
      });

      it('appends a batch of several INSERTs all or nothing: a conflict in a later chunk leaves nothing of the batch', async () => {
        const chunked = await open(stream, { insertRows: 100 });
        others.push(chunked);
        await chunked.append(sampleEvents(10), 0);
        // A row in the way at position 260, not yet committed: the head still reads 10, and the
        // third INSERT (positions 211..310) of the next append waits for it, then collides with it.
        const intruder = new Client({ connectionString: databaseUrl });
        await intruder.connect();
        try {
          await intruder.query('BEGIN');
          await intruder.query(`INSERT INTO ${schema}.clearsim_events (stream, stream_position, type, data, ts) VALUES ($1, 260, 'PriceUpdated', '{}', now())`, [stream]);
          const appending = chunked.append(sampleEvents(300, 10), 10);
          await new Promise((resolve) => setTimeout(resolve, 200));
          await intruder.query('COMMIT');

          await expect(appending).rejects.toMatchObject({ expectedPosition: 10, actualPosition: 260 });
        } finally {
          await intruder.end();
        }
        expect((await rows('stream_position::int AS p')).map((r: { p: number }) => r.p)).toEqual([...Array.from({ length: 10 }, (_, i) => i + 1), 260]);
      });

      it('reads in pages (keyset) and refuses a gap, naming the missing position', async () => {
        const paged = await open(stream, { pageRows: 7 });
        others.push(paged);
        await paged.append(sampleEvents(100), 0);

        expect((await readAll(paged)).map((s) => encodeEvent(s.event))).toEqual(sampleEvents(100).map(encodeEvent));
        expect((await readAll(paged, 95)).map((s) => s.position)).toEqual([95, 96, 97, 98, 99, 100]);

        await sql.query(`DELETE FROM ${schema}.clearsim_events WHERE stream = $1 AND stream_position = 50`, [stream]);
        const reading = readAll(paged);
        await expect(reading).rejects.toBeInstanceOf(CorruptLogError);
        await expect(reading).rejects.toThrow(`clearsim_events stream "${stream}":position 50: corrupt event log: position 50 is missing (the next row holds 51)`);
      });

      it('refuses a row that is not a valid event, naming the position and the field', async () => {
        await store.append(sampleEvents(3), 0);
        await sql.query(`UPDATE ${schema}.clearsim_events SET data = replace(data, '"price":"10001.25"', '"price":"-1"') WHERE stream = $1 AND stream_position = 2`, [
          stream,
        ]);
        await expect(readAll(store)).rejects.toThrow(/position 2: corrupt event log: field "price"/);
      });

      it('keeps the newest 3 snapshots of the stream', async () => {
        await store.append(sampleEvents(6), 0);
        for (const position of [1, 2, 3, 4, 5, 6]) await store.saveSnapshot({ position, state: `s${position}` });

        const kept = await sql.query(`SELECT position::int AS position FROM ${schema}.clearsim_snapshots WHERE stream = $1 ORDER BY position`, [stream]);

        expect(kept.rows.map((r: { position: number }) => r.position)).toEqual([4, 5, 6]);
      });

      it('ignores, with a warning, a snapshot taken from another log (the stream was reset and written again)', async () => {
        const warnings: string[] = [];
        const warned = await open(stream, { warn: (message) => warnings.push(message) });
        others.push(warned);
        await warned.append(sampleEvents(5), 0);
        await warned.saveSnapshot({ position: 5, state: 'of the first log' });
        await sql.query(`DELETE FROM ${schema}.clearsim_events WHERE stream = $1`, [stream]);
        await warned.append(sampleEvents(6, 100), 0);

        expect(await warned.latestSnapshot()).toBeUndefined();
        expect(warnings).toEqual([expect.stringContaining(`ignoring the snapshot of stream "${stream}" at position 5: it was taken from another log`)]);
      });

      it('runs a transaction as one SQL transaction: other writers of the stream wait for it, then see its head', async () => {
        await store.append(sampleEvents(2), 0);
        const tx = await store.beginAppend(2);
        await tx.append(sampleEvents(3, 2));
        const other = await open(stream);
        others.push(other);

        const waiting = other.append(sampleEvents(1, 50), 2); // queues on the stream's advisory lock
        await tx.append(sampleEvents(1, 5));
        expect(await tx.commit()).toBe(6);

        await expect(waiting).rejects.toMatchObject({ expectedPosition: 2, actualPosition: 6 });
        expect((await rows('stream_position::int AS p')).map((r) => r.p)).toEqual([1, 2, 3, 4, 5, 6]);
      });

      it('rolls a transaction back on abort: no row of it stays', async () => {
        await store.append(sampleEvents(1), 0);
        const tx = await store.beginAppend(1);
        await tx.append(sampleEvents(2000, 1)); // two INSERT statements
        await tx.abort();
        expect((await rows('stream_position::int AS p')).map((r) => r.p)).toEqual([1]);
      });

      describe('read-only opens', () => {
        it('of a schema without the table, or of an empty stream: StoreNotFoundError, and nothing is created', async () => {
          const emptySchema = `${schema}_none`;
          await expect(PostgresEventStore.open(databaseUrl, { schema: emptySchema, readOnly: true })).rejects.toBeInstanceOf(StoreNotFoundError);
          await expect(PostgresEventStore.open(databaseUrl, { schema: emptySchema, readOnly: true })).rejects.toThrow(`(no table "${emptySchema}".clearsim_events)`);
          const created = await sql.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [emptySchema]);
          expect(created.rows).toEqual([]);

          await expect(open(freshStream(), { readOnly: true })).rejects.toThrow(/\(stream "test-\d+" holds no event\); check --store, or create one with clearsim run$/);
        });

        it('reads what the writer committed and refuses every write', async () => {
          await store.append(sampleEvents(3), 0);
          const reader = await open(stream, { readOnly: true });
          others.push(reader);

          expect(await reader.head()).toBe(3);
          expect((await readAll(reader)).map((s) => s.position)).toEqual([1, 2, 3]);
          await expect(reader.append(sampleEvents(1, 3), 3)).rejects.toBeInstanceOf(ReadOnlyStoreError);
          await expect(reader.beginAppend(3)).rejects.toBeInstanceOf(ReadOnlyStoreError);
          await expect(reader.saveSnapshot({ position: 3, state: 'x' })).rejects.toBeInstanceOf(ReadOnlyStoreError);
          expect(await store.head()).toBe(3);
        });
      });

      it('refuses to work once closed', async () => {
        await store.close();
        await store.close();
        await expect(store.head()).rejects.toThrow(/is closed/);
        await expect(store.append(sampleEvents(1), 0)).rejects.toThrow(/is closed/);
      });
    });
  },
);
