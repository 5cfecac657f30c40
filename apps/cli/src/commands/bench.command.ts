import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { BENCHMARK_IDS, BenchUsageError, parseBenchArgs } from '../../../../bench/config';
import { UsageError } from '../cli-error';

/** The compiled benchmarks (bench/ → dist/bench/), next to this command in dist/. */
const BENCH_DIR = join(__dirname, '..', '..', '..', '..', 'bench');

/** Flags that take a value, in the order --help lists them (bench/config.ts parses them). */
const VALUE_OPTIONS: [flag: string, key: string, help: string][] = [
  ['--only <ids>', 'only', `benchmarks to run, comma-separated: ${BENCHMARK_IDS.join(', ')} (default: all)`],
  ['--runs <n>', 'runs', 'runs (children) per figure: default 3 for B1, B5, B8 and B9, 1 for B1-scale and B7; the portfolio bench\'s runs and ticks'],
  ['--timeout <seconds>', 'timeout', 'kill a child after this long and record it as not finished (default 600; B5 120 per measurement, B7 480, B9 180, portfolio 1200)'],
  ['--rss-limit <MiB>', 'rssLimit', 'kill a child whose resident set passes this (default 6144)'],
  ['--heap <MiB>', 'heap', "each child's V8 heap limit, --max-old-space-size (default 8192)"],
  ['--results <file>', 'results', 'where to write the results (default bench/results/latest.json)'],
  ['--cache <dir>', 'cache', 'where generated logs are kept between runs (default bench/.cache)'],
  ['--events <n>', 'events', 'B1: events of the generated day (default 1000000)'],
  ['--accounts <n>', 'accounts', 'B1: accounts of the generated day (default 10000)'],
  ['--scale <n,n,…>', 'scale', 'B1-scale: events of each run (default 100000,1000000,10000000)'],
  ['--scale-accounts <n>', 'scaleAccounts', 'B1-scale and B8: accounts of the generated days (default 10000)'],
  ['--b5-connections <n,n,…>', 'b5Connections', 'B5: client connections of each HTTP measurement (default 10,50)'],
  ['--b5-seconds <n>', 'b5Seconds', 'B5: seconds per measured route (default 10)'],
  ['--b5-accounts <n>', 'b5Accounts', 'B5: accounts holding positions on the server (default 1000)'],
  ['--b6-events <n>', 'b6Events', 'B6: price updates on the Kafka inputs topic (default 200000; needs KAFKA_BROKERS)'],
  ['--b6-accounts <n>', 'b6Accounts', 'B6: accounts holding positions, set up through the topic first (default 1000)'],
  ['--b7-accounts <n>', 'b7Accounts', 'B7: accounts with one position each (default 1000000)'],
  ['--b7-ticks <n>', 'b7Ticks', 'B7: price updates after the trades (default 345600: a day at 4 a second)'],
  ['--holders <n,n,…>', 'holders', 'B3: holders of the ticked instrument (default 10000,100000,1000000)'],
  ['--ticks <n>', 'ticks', 'B3: ticks timed per size (default 201)'],
  ['--restart-events <n>', 'restartEvents', 'B8: events of the restarted log (default 10000000; 1000000 when that log cannot be written)'],
  ['--crash-accounts <n,n,…>', 'crashAccounts', 'B9: accounts of each crash (default 10000,100000)'],
  ['--bankruptcies <n>', 'bankruptcies', 'B9: bankruptcies per crash (default 1000)'],
  ['--portfolio-accounts <n>', 'portfolioAccounts', 'portfolio: accounts of the book (default 100000; the target is for 100,000)'],
];

/**
 * `clearsim bench`: the harness of `npm run bench` (bench/run-all.ts) in a child Node — every benchmark in
 * children of its own, min/median/max of its runs, peak RSS, the load average, bench/results/latest.json.
 * The options are checked here (bad usage exits 2 before anything runs) and passed through. Exit 1 if the
 * harness fails; a benchmark that does not finish in its limits is a result, not a failure.
 */
export function benchCommand(): Command {
  const command = new Command('bench').description(
    'the benchmarks of docs/performance.md (B1 the 1M-event day against a parse baseline, B1-scale, B3 price tick, B5 HTTP inputs against /healthz, B6 Kafka inputs against a raw consume, B7 a million accounts, B8 restart, B9 crash tick, portfolio margin), each in a child process; writes bench/results/latest.json. Every option can also come from BENCH_<OPTION> (BENCH_ONLY=B1,B3, BENCH_QUICK=1)',
  );
  for (const [flags, , help] of VALUE_OPTIONS) command.option(flags, help);
  command.option('--quick', 'tiny sizes (seconds; for tests — the figures mean nothing)');
  command.action(async (options: Record<string, string | boolean | undefined>) => {
    const argv: string[] = [];
    for (const [flags, key] of VALUE_OPTIONS) {
      const value = options[key];
      if (typeof value === 'string') argv.push(flags.split(' ')[0]!, value);
    }
    if (options.quick) argv.push('--quick');
    try {
      parseBenchArgs(argv);
    } catch (error) {
      if (error instanceof BenchUsageError) throw new UsageError(error.message);
      throw error;
    }
    process.exitCode = await runHarness(argv);
  });
  return command;
}

async function runHarness(argv: string[]): Promise<number> {
  const script = join(BENCH_DIR, 'run-all.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: build first (npm run build)`);
  const child = spawn(process.execPath, [script, ...argv], { stdio: 'inherit' });
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
  });
  return code === 0 ? 0 : 1;
}
