import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Table from 'cli-table3';
import { decodeLine } from '@clearsim/events';
import { ShardRunner } from '@clearsim/shard';
import { FileEventStore } from '@clearsim/store';
import { openInput } from '../apps/cli/src/io/input-source';
import { generateLog } from './generate-log';
import { runPortfolioBench } from './portfolio-bench';

/**
 * `npm run bench`: throughput of `clearsim run` on a generated 1,000,000-event
 * log (10,000 accounts, 20 instruments, mostly price updates), reported as a
 * ratio to a baseline measured in the same run over the same file: a bare
 * read-lines-and-JSON.parse loop. Set BENCH_EVENTS to change the size.
 */
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000);
const INSTRUMENTS = 20;

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  global.gc?.();
  const start = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - start) / 1000, value };
}

async function* lines(file: string): AsyncIterable<string> {
  yield* createInterface({ input: createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 }), crlfDelay: Infinity });
}

async function main(): Promise<void> {
  const dir = process.env.BENCH_DIR ?? join(tmpdir(), 'clearsim-bench');
  const input = join(dir, `log-${EVENTS}-${ACCOUNTS}.jsonl`);
  if (!existsSync(input)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    process.stderr.write(`generating ${EVENTS} events (${ACCOUNTS} accounts, ${INSTRUMENTS} instruments) → ${input}\n`);
    await generateLog(input, { events: EVENTS, accounts: ACCOUNTS, instruments: INSTRUMENTS, seed: 1 });
  }
  const size = statSync(input).size;

  const baseline = await timed(async () => {
    let n = 0;
    for await (const line of lines(input)) if (JSON.parse(line)) n++;
    return n;
  });
  const decode = await timed(async () => {
    let n = 0;
    let line = 0;
    for await (const text of lines(input)) if (decodeLine(text, 'input', input, ++line)) n++;
    return n;
  });
  const storeDir = mkdtempSync(join(tmpdir(), 'clearsim-bench-store-'));
  let decisions = 0;
  let summary: Record<string, unknown> = {};
  const run = await timed(async () => {
    const store = await FileEventStore.open(storeDir);
    const runner = await ShardRunner.open(store, { fullReplay: true });
    const result = await runner.run(openInput(input).inputs);
    decisions = result.decisionCount;
    const s = runner.engine.summary({ accounts: false });
    summary = { liquidations: s.liquidations, bankruptcies: s.bankruptcies, autoDeleverages: s.autoDeleverages, outputHash: s.outputHash };
    await store.close();
    return result.inputsAccepted;
  });
  rmSync(storeDir, { recursive: true, force: true });

  const rate = (n: number, s: number) => `${Math.round(n / s).toLocaleString('en-US')} events/s`;
  const table = new Table({ head: ['', 'events', 'seconds', 'throughput', 'ratio to baseline'] });
  table.push(
    ['baseline: read lines + JSON.parse', baseline.value, baseline.seconds.toFixed(2), rate(baseline.value, baseline.seconds), '1.00'],
    ['decode: + schema validation (codec)', decode.value, decode.seconds.toFixed(2), rate(decode.value, decode.seconds), (baseline.seconds / decode.seconds).toFixed(2)],
    ['clearsim run (decode, decide, append + fsync)', run.value, run.seconds.toFixed(2), rate(run.value, run.seconds), (baseline.seconds / run.seconds).toFixed(2)],
  );
  process.stdout.write(`clearsim bench — ${EVENTS.toLocaleString('en-US')} events, ${ACCOUNTS.toLocaleString('en-US')} accounts, ${INSTRUMENTS} instruments, ${(size / 1e6).toFixed(0)} MB, Node ${process.version}\n`);
  process.stdout.write(table.toString() + '\n');
  process.stdout.write(`run decided ${decisions} decisions: ${JSON.stringify(summary)}\n`);
  process.stdout.write('ratio = baseline seconds / seconds (1.00 = as fast as just parsing the JSON)\n');
  if (process.env.BENCH_PORTFOLIO !== '0') runPortfolioBench();
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
