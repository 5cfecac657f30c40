import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import type { LocatedInput } from '@clearsim/shard';
import { ShardRunner } from '@clearsim/shard';
import { FileEventStore, openStore, redactUrl, type EventStore } from '@clearsim/store';
import { openInput } from '../apps/cli/src/io/input-source';
import { generateLog } from './generate-log';

/**
 * Restart time of a shard: how long `ShardRunner.open` takes to rebuild the
 * state of a log of RESTART_EVENTS (1,000,000) inputs (plus the decisions they
 * cause) — by folding the whole log (`fullReplay`), from a snapshot saved at
 * the head (empty tail), and from that snapshot with a tail of RESTART_TAIL
 * (100,000) more inputs appended after it. Not part of `npm run bench`:
 *
 *   npm run build && node --expose-gc dist/bench/restart-bench.js
 *
 * The log is bench/generate-log.ts's synthetic day (10,000 accounts, 20
 * perpetuals, mostly price updates), appended 100,000 inputs per run (one
 * durable append each) into a fresh file store; with DATABASE_URL set, the
 * same again into PostgreSQL (a schema of its own, dropped at the end).
 * Every open is timed RESTART_RUNS (3) times, a GC before each, median shown;
 * each must end at the head with the writer's outputHash.
 */
const EVENTS = Number(process.env.RESTART_EVENTS ?? 1_000_000);
const TAIL = Number(process.env.RESTART_TAIL ?? 100_000);
const RUNS = Number(process.env.RESTART_RUNS ?? 3);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000);
const INSTRUMENTS = 20;
const PER_APPEND = 100_000;

interface Row {
  label: string;
  events: number;
  seconds: number;
  /** Seconds of the full replay of the same log (the ratio's denominator). */
  base: number;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  global.gc?.();
  const start = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - start) / 1000, value };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The next `n` inputs of a shared iterator (without closing it). */
async function* take(iterator: AsyncIterator<LocatedInput>, n: number): AsyncIterable<LocatedInput> {
  for (let i = 0; i < n; i++) {
    const next = await iterator.next();
    if (next.done) return;
    yield next.value;
  }
}

/** Appends `n` inputs from the iterator, PER_APPEND per durable append. */
async function append(runner: ShardRunner, iterator: AsyncIterator<LocatedInput>, n: number): Promise<number> {
  let done = 0;
  while (done < n) {
    const result = await runner.run(take(iterator, Math.min(PER_APPEND, n - done)));
    if (result.inputsAccepted + result.duplicates === 0) break;
    done += result.inputsAccepted + result.duplicates;
  }
  return done;
}

/** Median time of RUNS opens; each must restore the writer's state exactly (head and outputHash). */
async function measureOpen(store: EventStore, fullReplay: boolean, head: number, outputHash: string): Promise<{ seconds: number; restoredFrom: number }> {
  const seconds: number[] = [];
  let restoredFrom = 0;
  for (let i = 0; i < RUNS; i++) {
    const { seconds: s, value: runner } = await timed(() => ShardRunner.open(store, { fullReplay }));
    if (runner.head !== head || runner.engine.outputHash !== outputHash) {
      throw new Error(`open(${fullReplay ? 'fullReplay' : 'snapshot'}) ended at ${runner.head} with outputHash ${runner.engine.outputHash}, not ${head} / ${outputHash}`);
    }
    restoredFrom = runner.restoredFrom;
    seconds.push(s);
  }
  return { seconds: median(seconds), restoredFrom };
}

async function benchStore(name: string, open: () => Promise<EventStore>, input: string): Promise<Row[]> {
  const store = await open();
  try {
    const iterator = openInput(input).inputs[Symbol.asyncIterator]();
    const writer = await ShardRunner.open(store, { snapshotEvery: 0 });
    process.stderr.write(`[${name}] appending ${EVENTS.toLocaleString('en-US')} inputs…\n`);
    const write = await timed(() => append(writer, iterator, EVENTS));
    const head = writer.head;
    process.stderr.write(`[${name}] ${write.value.toLocaleString('en-US')} inputs → ${head.toLocaleString('en-US')} events in ${write.seconds.toFixed(1)} s; snapshot at the head…\n`);
    const snap = await timed(() => writer.snapshot());
    const size = (await store.latestSnapshot())?.state.length ?? 0;
    const hash = writer.engine.outputHash;

    const full = await measureOpen(store, true, head, hash);
    const fromSnapshot = await measureOpen(store, false, head, hash);
    if (fromSnapshot.restoredFrom !== head) throw new Error(`expected a restore from the snapshot at ${head}, got ${fromSnapshot.restoredFrom}`);

    process.stderr.write(`[${name}] appending a tail of ${TAIL.toLocaleString('en-US')} inputs…\n`);
    await append(writer, iterator, TAIL);
    const tailHead = writer.head;
    const tailHash = writer.engine.outputHash;
    const withTail = await measureOpen(store, false, tailHead, tailHash);
    if (withTail.restoredFrom !== head) throw new Error(`expected a restore from the snapshot at ${head}, got ${withTail.restoredFrom}`);
    const fullTail = await measureOpen(store, true, tailHead, tailHash);
    process.stderr.write(`[${name}] snapshot: ${(size / 1e6).toFixed(1)} MB, saved in ${snap.seconds.toFixed(2)} s\n`);
    return [
      { label: `${name}: full replay (fullReplay: true)`, events: head, seconds: full.seconds, base: full.seconds },
      { label: `${name}: snapshot at the head, empty tail`, events: 0, seconds: fromSnapshot.seconds, base: full.seconds },
      { label: `${name}: full replay, log + tail of ${TAIL.toLocaleString('en-US')} inputs`, events: tailHead, seconds: fullTail.seconds, base: fullTail.seconds },
      { label: `${name}: snapshot + tail of ${TAIL.toLocaleString('en-US')} inputs`, events: tailHead - head, seconds: withTail.seconds, base: fullTail.seconds },
    ];
  } finally {
    await store.close();
  }
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const dir = process.env.BENCH_DIR ?? join(tmpdir(), 'clearsim-bench');
  const input = join(dir, `restart-${EVENTS + TAIL}-${ACCOUNTS}.jsonl`);
  if (!existsSync(input)) {
    mkdirSync(dir, { recursive: true });
    process.stderr.write(`generating ${(EVENTS + TAIL).toLocaleString('en-US')} inputs (${ACCOUNTS} accounts, ${INSTRUMENTS} instruments) → ${input}\n`);
    await generateLog(input, { events: EVENTS + TAIL, accounts: ACCOUNTS, instruments: INSTRUMENTS, seed: 1 });
  }

  const rows: Row[][] = [];
  const storeDir = mkdtempSync(join(tmpdir(), 'clearsim-restart-'));
  try {
    rows.push(await benchStore('file', () => FileEventStore.open(storeDir), input));
  } finally {
    rmSync(storeDir, { recursive: true, force: true });
  }
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    const schema = `clearsim_restart_${process.pid}`;
    const url = new URL(databaseUrl);
    url.searchParams.set('schema', schema);
    try {
      rows.push(await benchStore('postgres', () => openStore(url.toString()), input));
    } finally {
      await dropSchema(databaseUrl, schema);
    }
  } else {
    process.stderr.write('DATABASE_URL is not set: PostgreSQL skipped (eval "$(infra/services.sh up --no-kafka)" to include it)\n');
  }

  const table = new Table({ style: { head: [], border: [] }, head: ['restore', 'events folded', 'seconds (median)', 'ratio to full replay', 'events/s'] });
  for (const group of rows) {
    for (const row of group) {
      table.push([
        row.label,
        row.events.toLocaleString('en-US'),
        row.seconds.toFixed(3),
        (row.seconds / row.base).toFixed(3),
        row.events > 0 ? Math.round(row.events / row.seconds).toLocaleString('en-US') : '—',
      ]);
    }
  }
  process.stdout.write(
    `clearsim restart bench — ${EVENTS.toLocaleString('en-US')} inputs (+ ${TAIL.toLocaleString('en-US')} tail), ${ACCOUNTS.toLocaleString('en-US')} accounts, ` +
      `${INSTRUMENTS} instruments, ${RUNS} runs each, Node ${process.version}${databaseUrl ? `, PostgreSQL ${redactUrl(databaseUrl)}` : ''}\n`,
  );
  process.stdout.write(table.toString() + '\n');
  process.stdout.write('ratio = seconds / seconds of the full replay of the same log (lower is faster); events folded: after the snapshot (inputs and decisions)\n');
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
