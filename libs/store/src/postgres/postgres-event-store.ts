import { Pool, escapeIdentifier, type PoolClient, type PoolConfig } from 'pg';
import { decodeEvent, InputError, isInput, toCanonicalJson, type ClearingEvent } from '@clearsim/events';
import { checkExpectedPosition, checkReadRange, checkSnapshot, defaultWarn, sha256, SNAPSHOTS_KEPT, type TransactionState } from '../adapter-support';
import { ConcurrencyError, type AppendTransaction, type EventStore, type ReadOptions, type Snapshot, type StoredEvent } from '../event-store.port';
import { AppendInProgressError, CorruptLogError, ReadOnlyStoreError, StoreNotFoundError, StoreUnavailableError, StoreUrlError, TransactionFinishedError } from '../errors';
import { redactUrl, splitOwnParams } from '../store-url';

/** The stream a PostgreSQL store writes when neither the URL (`?stream=`) nor the options name one. */
export const DEFAULT_POSTGRES_STREAM = 'shard-0';
export const EVENTS_TABLE = 'clearsim_events';
export const SNAPSHOTS_TABLE = 'clearsim_snapshots';

/** PostgreSQL takes at most 65535 parameters a statement; a row takes 4 (plus the stream, once). */
const MAX_INSERT_ROWS = 16_000;

/** Query parameters of a store URL that are ours, not the driver's (removed before connecting). */
const OWN_PARAMS = ['stream', 'schema'] as const;

export interface PostgresEventStoreOptions {
  /** The shard's stream. Default: the URL's `?stream=`, else `shard-0`. */
  stream?: string;
  /** Schema of the two tables, created if missing. Default: the URL's `?schema=`, else the connection's search_path (normally `public`). */
  schema?: string;
  /** Notices (a snapshot ignored). Default: process.emitWarning. */
  warn?: (message: string) => void;
  /** Extra pool settings (`max`, timeouts…); the connection itself comes from the URL. */
  pool?: Omit<PoolConfig, 'connectionString'>;
  /** Rows per INSERT statement of an append (default 1000, at most 16000). */
  insertRows?: number;
  /** Rows per page of a read (default 5000). */
  pageRows?: number;
  /** Read only: creates nothing, refuses writes; no table or an empty stream is a StoreNotFoundError. */
  readOnly?: boolean;
}

/**
 * The PostgreSQL event store (`postgres://…`, with `pg`). One table holds the
 * events of every shard, one stream per shard:
 *
 *     clearsim_events(stream, stream_position, global_position bigserial, type, data text, ts,
 *                     PRIMARY KEY (stream, stream_position))
 *
 * `position` in the port is `stream_position`: 1-based and gap-free per
 * stream. `data` is the event's canonical JSON as text, byte for byte (jsonb
 * would reorder keys and normalise the text); `type` and `ts` are copies for
 * people querying the table. Snapshots live in `clearsim_snapshots(stream,
 * position, state text, anchor)`, the newest 3 per stream kept.
 *
 * Appending: one transaction per append. It takes a transaction-scoped
 * advisory lock on the stream (`pg_advisory_xact_lock`), reads the head,
 * checks `expectedPosition`, and inserts the batch with multi-row INSERTs
 * (`insertRows` rows per statement, a prepared statement per connection).
 * The commit makes it durable. `beginAppend` is the same SQL transaction held
 * open on a dedicated connection: BEGIN, the lock and head check, one batch of
 * INSERTs per chunk, then COMMIT (or ROLLBACK on abort). The advisory lock
 * makes other writers of the stream wait until it ends; readers go on seeing
 * the log as before until the COMMIT.
 * The unique (stream, stream_position) key is the real guard: a writer that
 * did not take the lock and raced to the same positions fails with 23505,
 * reported as ConcurrencyError; the lock only makes two writers queue rather
 * than collide, so the loser sees a clean ConcurrencyError without doing the
 * insert work.
 *
 * Why reads by stream_position never skip an event. The classic trap of
 * PostgreSQL event stores: positions from a sequence (`global_position`) are
 * handed out when a row is inserted, but transactions commit in any order, so
 * a reader can see position 11 committed while 10 is still in flight, move
 * past it, and never see 10. Here, readers never follow `global_position`:
 * they follow `stream_position`, which the appender computes as head + 1…
 * while holding the stream's lock, and a whole batch becomes visible at one
 * commit. The next append on the stream cannot start before that commit
 * (it waits for the lock) and numbers its events after it. So within a
 * stream, a committed position N + 1 implies a committed N: with one writer
 * per shard (docs/architecture.md) and the lock as a backstop, the rows a reader sees
 * are always a gap-free prefix 1..head. A read also stops at the head it saw
 * when it started, so it is a consistent prefix even while appends go on.
 *
 * What a reader of `global_position` across streams (an `$all` feed) would
 * need, and this store does not offer: either read only rows whose
 * transaction is older than every transaction still running (store
 * `pg_current_xact_id()` per row and read below `pg_snapshot_xmin(
 * pg_current_snapshot())`, as Emmett does), or make every append to the
 * table take one shared lock (a global advisory lock, or one per category
 * as Message DB does), trading write concurrency for order.
 */
export class PostgresEventStore implements EventStore {
  private closing?: Promise<void>;
  private readonly events: string;
  private readonly snapshots: string;
  private readonly lockKey: string;
  private readonly insertRows: number;
  private readonly pageRows: number;
  private readonly insertStatements = new Map<number, { text: string; name?: string }>();
  private readonly readOnly: boolean;
  /** An append transaction is open (holding a pooled connection). */
  private inTransaction = false;

  private constructor(
    readonly url: string,
    readonly stream: string,
    readonly schema: string | undefined,
    private readonly pool: Pool,
    private readonly warn: (message: string) => void,
    options: PostgresEventStoreOptions,
  ) {
    const prefix = schema === undefined ? '' : `${escapeIdentifier(schema)}.`;
    this.events = `${prefix}${EVENTS_TABLE}`;
    this.snapshots = `${prefix}${SNAPSHOTS_TABLE}`;
    this.lockKey = `${EVENTS_TABLE}:${schema ?? ''}:${stream}`;
    this.insertRows = positiveInteger(options.insertRows ?? 1000, 'insertRows');
    if (this.insertRows > MAX_INSERT_ROWS) throw new RangeError(`insertRows must be at most ${MAX_INSERT_ROWS} (4 parameters a row, 65535 a statement), got ${this.insertRows}`);
    this.pageRows = positiveInteger(options.pageRows ?? 5000, 'pageRows');
    this.readOnly = options.readOnly ?? false;
  }

  /**
   * Connects, creates the schema and tables if missing (not when read-only:
   * then a missing table or an empty stream is a StoreNotFoundError), and
   * returns the store for one stream.
   */
  static async open(url: string, options: PostgresEventStoreOptions = {}): Promise<PostgresEventStore> {
    const { connectionString, params } = splitOwnParams(url, OWN_PARAMS);
    const stream = options.stream ?? params.get('stream') ?? DEFAULT_POSTGRES_STREAM;
    const schema = options.schema ?? params.get('schema');
    if (stream === '') throw new StoreUrlError(`store URL "${redactUrl(url)}": the stream name is empty`);
    if (schema === '') throw new StoreUrlError(`store URL "${redactUrl(url)}": the schema name is empty`);
    const pool = new Pool({ max: 4, ...options.pool, connectionString });
    pool.on('error', () => undefined); // an idle client lost its connection: the next query reports it
    const store = new PostgresEventStore(url, stream, schema, pool, options.warn ?? defaultWarn, options);
    let missing: string | undefined;
    try {
      if (store.readOnly) missing = await store.whatIsMissing();
      else await store.createSchema();
    } catch (error) {
      await pool.end();
      throw new StoreUnavailableError(`${redactUrl(url)}: cannot open the PostgreSQL event store: ${(error as Error).message}`, { cause: error });
    }
    if (missing !== undefined) {
      await pool.end();
      throw new StoreNotFoundError(redactUrl(url), missing);
    }
    return store;
  }

  /** For a read-only open: what is missing for this to be a store with events (no table, an empty stream), or undefined. */
  private async whatIsMissing(): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [this.events]);
    if (rows[0]!.found === null) return `no table ${this.events}`;
    if ((await this.headOf(this.pool)) === 0) return `stream "${this.stream}" holds no event`;
    return undefined;
  }

  private async createSchema(): Promise<void> {
    await this.transaction(async (client) => {
      // Two processes creating the same tables at once can fail on the catalog's unique keys: serialize them.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`clearsim schema ${this.schema ?? ''}`]);
      if (this.schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${escapeIdentifier(this.schema)}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.events} (
        stream          text        NOT NULL,
        stream_position bigint      NOT NULL CHECK (stream_position >= 1),
        global_position bigserial   NOT NULL,
        type            text        NOT NULL,
        data            text        NOT NULL,
        ts              timestamptz NOT NULL,
        PRIMARY KEY (stream, stream_position)
      )`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${this.snapshots} (
        stream     text        NOT NULL,
        position   bigint      NOT NULL CHECK (position >= 0),
        state      text        NOT NULL,
        anchor     text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (stream, position)
      )`);
    });
  }

  async head(): Promise<number> {
    this.assertOpen();
    return this.headOf(this.pool);
  }

  private async headOf(client: Pool | PoolClient): Promise<number> {
    const { rows } = await client.query<{ head: string }>(`SELECT coalesce(max(stream_position), 0) AS head FROM ${this.events} WHERE stream = $1`, [this.stream]);
    return Number(rows[0]!.head);
  }

  async append(events: readonly ClearingEvent[], expectedPosition: number): Promise<number> {
    this.assertWritable('append');
    checkExpectedPosition(expectedPosition);
    try {
      return await this.transaction(async (client) => {
        await this.lockAndCheckHead(client, expectedPosition);
        return this.insert(client, events, expectedPosition);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConcurrencyError(expectedPosition, await this.headOf(this.pool));
      throw error;
    }
  }

  async beginAppend(expectedPosition: number): Promise<AppendTransaction> {
    this.assertWritable('beginAppend');
    checkExpectedPosition(expectedPosition);
    this.inTransaction = true;
    let client: PoolClient | undefined;
    try {
      client = await this.pool.connect();
      await client.query('BEGIN');
      await this.lockAndCheckHead(client, expectedPosition);
    } catch (error) {
      this.inTransaction = false;
      if (client) {
        const rollback = await client.query('ROLLBACK').then(
          () => undefined,
          (rollbackError: Error) => rollbackError,
        );
        client.release(rollback);
      }
      throw error;
    }
    return new PostgresAppendTransaction(this, client, expectedPosition, () => {
      this.inTransaction = false;
    });
  }

  /** Takes the stream's advisory lock (until the transaction ends) and checks the head. */
  private async lockAndCheckHead(client: PoolClient, expectedPosition: number): Promise<void> {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.lockKey]);
    const head = await this.headOf(client);
    if (head !== expectedPosition) throw new ConcurrencyError(expectedPosition, head);
  }

  /** @internal Inserts `events` at positions after `position` on `client` (inside its transaction); returns the last position. */
  async insert(client: PoolClient, events: readonly ClearingEvent[], position: number): Promise<number> {
    for (let from = 0; from < events.length; from += this.insertRows) {
      const chunk = events.slice(from, from + this.insertRows);
      const values: unknown[] = [this.stream];
      for (const event of chunk) {
        const canonical = toCanonicalJson(event);
        values.push(++position, event.type, JSON.stringify(canonical), canonical.ts);
      }
      await client.query({ ...this.insertStatement(chunk.length), values });
    }
    return position;
  }

  async *read(fromPosition = 1, options: ReadOptions = {}): AsyncGenerator<StoredEvent> {
    this.assertOpen();
    checkReadRange(fromPosition, options.toPosition);
    const last = Math.min(await this.headOf(this.pool), options.toPosition ?? Infinity);
    if (fromPosition > last) return;
    // Keyset pagination: each page starts after the last position of the one before (no OFFSET), and
    // since positions are dense it is bounded on both sides: [from, from + pageRows). The upper bound
    // matters: with only `>= from` and a LIMIT, a table not yet analyzed (right after a bulk load) gets a
    // plan that sorts the whole rest of the stream for every page. The next page is fetched while the
    // caller works through the current one.
    const fetch = (from: number) => {
      const page = this.pool.query<[string, string]>({
        text: `SELECT stream_position, data FROM ${this.events}
               WHERE stream = $1 AND stream_position >= $2 AND stream_position <= $3
               ORDER BY stream_position`,
        values: [this.stream, from, Math.min(last, from + this.pageRows - 1)],
        rowMode: 'array',
      });
      page.catch(() => undefined); // if the caller stops early, nobody awaits it
      return page;
    };
    let next = fromPosition;
    let pending = fetch(next);
    while (next <= last) {
      const { rows } = await pending;
      const pageEnd = next + rows.length;
      if (pageEnd <= last) pending = fetch(pageEnd);
      if (rows.length === 0) throw this.corrupt(next, `position ${next} is missing (the log ends at ${last})`);
      for (const [positionText, data] of rows) {
        const position = Number(positionText);
        if (position !== next) throw this.corrupt(next, `position ${next} is missing (the next row holds ${position})`);
        next++;
        const event = this.decode(data, position);
        if (options.decisionsOnly && isInput(event)) continue;
        yield { position, event };
      }
    }
  }

  private decode(data: string, position: number): ClearingEvent {
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch (error) {
      throw this.corrupt(position, `malformed JSON (${(error as Error).message})`);
    }
    try {
      return decodeEvent(raw, 'any');
    } catch (error) {
      if (error instanceof InputError) throw this.corrupt(position, InputError.describe(error.issues), error);
      throw error;
    }
  }

  private corrupt(position: number, detail: string, cause?: unknown): CorruptLogError {
    return new CorruptLogError(`${redactUrl(this.url)} ${this.events} stream "${this.stream}"`, position, detail, { cause, unit: 'position' });
  }

  /**
   * `INSERT … VALUES ($1, $2, $3, $4, $5), ($1, $6, …)`: the stream once, then
   * position, type, data, ts per row. A full chunk's statement is prepared once
   * per connection (named); a shorter last chunk is planned each time.
   */
  private insertStatement(rows: number): { text: string; name?: string } {
    const cached = this.insertStatements.get(rows);
    if (cached) return cached;
    const tuples: string[] = [];
    for (let row = 0; row < rows; row++) {
      const p = 2 + row * 4;
      tuples.push(`($1, $${p}, $${p + 1}, $${p + 2}, $${p + 3}::timestamptz)`);
    }
    const text = `INSERT INTO ${this.events} (stream, stream_position, type, data, ts) VALUES ${tuples.join(', ')}`;
    const statement = rows === this.insertRows ? { text, name: `clearsim_insert_${sha256(text).slice(0, 16)}` } : { text };
    if (rows === this.insertRows) this.insertStatements.set(rows, statement);
    return statement;
  }

  /**
   * Stores the snapshot (replacing one at the same position) with the anchor
   * of the event at its position, and prunes all but the newest 3. A
   * snapshot beyond the head gets no anchor and is never returned.
   */
  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.assertOpen();
    if (this.readOnly) throw new ReadOnlyStoreError(redactUrl(this.url), 'saveSnapshot');
    checkSnapshot(snapshot);
    await this.transaction(async (client) => {
      const { rows } = await client.query<{ data: string }>(`SELECT data FROM ${this.events} WHERE stream = $1 AND stream_position = $2`, [
        this.stream,
        snapshot.position,
      ]);
      const anchor = snapshot.position === 0 ? '' : rows[0] ? sha256(rows[0].data) : null;
      await client.query(
        `INSERT INTO ${this.snapshots} (stream, position, state, anchor) VALUES ($1, $2, $3, $4)
         ON CONFLICT (stream, position) DO UPDATE SET state = excluded.state, anchor = excluded.anchor, created_at = now()`,
        [this.stream, snapshot.position, snapshot.state, anchor],
      );
      await client.query(
        `DELETE FROM ${this.snapshots} WHERE stream = $1 AND position NOT IN
           (SELECT position FROM ${this.snapshots} WHERE stream = $1 ORDER BY position DESC LIMIT $2)`,
        [this.stream, SNAPSHOTS_KEPT],
      );
    });
  }

  async latestSnapshot(): Promise<Snapshot | undefined> {
    this.assertOpen();
    const { rows } = await this.pool.query<{ position: string; state: string; anchor: string | null; data: string | null }>(
      `SELECT s.position, s.state, s.anchor, e.data
         FROM ${this.snapshots} s
         LEFT JOIN ${this.events} e ON e.stream = s.stream AND e.stream_position = s.position
        WHERE s.stream = $1
          AND s.position <= (SELECT coalesce(max(stream_position), 0) FROM ${this.events} WHERE stream = $1)
        ORDER BY s.position DESC`,
      [this.stream],
    );
    for (const row of rows) {
      const position = Number(row.position);
      const anchor = position === 0 ? '' : row.data === null ? undefined : sha256(row.data);
      if (row.anchor === anchor) return { position, state: row.state };
      this.warn(
        `${redactUrl(this.url)}: ignoring the snapshot of stream "${this.stream}" at position ${position}: ` +
          (row.anchor === null
            ? 'it was saved when the stream did not reach that position yet'
            : 'it was taken from another log (the event at that position differs; was the stream reset?)'),
      );
    }
    return undefined;
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }

  /** Runs `work` in a transaction on one pooled connection; rolls back on any error. */
  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError; // the connection is unusable: drop it rather than return it to the pool
        });
        throw error;
      }
    } finally {
      client.release(broken);
    }
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

/** One SQL transaction on a dedicated pooled connection, from beginAppend to COMMIT / ROLLBACK. */
class PostgresAppendTransaction implements AppendTransaction {
  private state: TransactionState = 'open';
  private position: number;
  /** A failed chunk leaves the SQL transaction aborted: only abort() is left. */
  private failed?: unknown;

  constructor(
    private readonly store: PostgresEventStore,
    private readonly client: PoolClient,
    private readonly expectedPosition: number,
    private readonly finish: () => void,
  ) {
    this.position = expectedPosition;
  }

  async append(events: readonly ClearingEvent[]): Promise<number> {
    this.assertOpen('append');
    try {
      this.position = await this.store.insert(this.client, events, this.position);
    } catch (error) {
      this.failed = error;
      if (isUniqueViolation(error)) throw new ConcurrencyError(this.expectedPosition, await this.store.head());
      throw error;
    }
    return this.position;
  }

  async commit(): Promise<number> {
    this.assertOpen('commit');
    if (this.failed !== undefined) {
      await this.abort();
      throw new Error(`${redactUrl(this.store.url)}: cannot commit: a chunk of this transaction failed (${(this.failed as Error).message}); it was rolled back`, { cause: this.failed });
    }
    try {
      await this.client.query('COMMIT');
    } catch (error) {
      this.end('aborted', error as Error);
      throw error;
    }
    this.end('committed');
    return this.position;
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    const broken = await this.client.query('ROLLBACK').then(
      () => undefined,
      (error: Error) => error, // the connection is unusable: drop it rather than return it to the pool
    );
    this.end('aborted', broken);
  }

  private end(state: TransactionState, broken?: Error): void {
    this.state = state;
    this.client.release(broken);
    this.finish();
  }

  private assertOpen(operation: string): void {
    if (this.state !== 'open') throw new TransactionFinishedError(redactUrl(this.store.url), this.state, operation);
  }
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number >= 1, got ${value}`);
  return value;
}
