import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../cli-error';

export interface BenchOptions {
  only?: string;
  events?: string;
  accounts?: string;
  portfolioAccounts?: string;
  runs?: string;
}

/** The compiled benchmarks (bench/ → dist/bench/), next to this command in dist/. */
const BENCH_DIR = join(__dirname, '..', '..', '..', '..', 'bench');

function positiveInteger(option: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(value)) throw new UsageError(`${option}: "${value}" is not a whole number > 0`);
  return value;
}

/**
 * `clearsim bench`: the benchmarks of `npm run bench` — `clearsim run` on a
 * generated 1,000,000-event day against a read-and-parse baseline, then the
 * portfolio (scenario) margin recompute and ticks against a bare-loop
 * baseline (bench/). They run in a child Node with `--expose-gc`: they settle
 * the collector before every timed run. Exit 1 if a benchmark fails.
 */
export async function benchCommand(options: BenchOptions): Promise<number> {
  const only = options.only;
  if (only !== undefined && only !== 'run' && only !== 'portfolio') throw new UsageError(`--only: "${only}" is not run or portfolio`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) env[name] = value;
  };
  set('BENCH_EVENTS', positiveInteger('--events', options.events));
  set('BENCH_ACCOUNTS', positiveInteger('--accounts', options.accounts));
  set('PORTFOLIO_ACCOUNTS', positiveInteger('--portfolio-accounts', options.portfolioAccounts));
  const runs = positiveInteger('--runs', options.runs);
  set('PORTFOLIO_RUNS', runs);
  set('PORTFOLIO_TICKS', runs);
  if (only === 'run') env.BENCH_PORTFOLIO = '0';
  const script = join(BENCH_DIR, only === 'portfolio' ? 'portfolio-bench.js' : 'run-all.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: build first (npm run build)`);
  const child = spawn(process.execPath, ['--expose-gc', script], { env, stdio: 'inherit' });
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
  });
  return code === 0 ? 0 : 1;
}
