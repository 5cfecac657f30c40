import { join } from 'node:path';

/**
 * The options of `npm run bench` / `clearsim bench`, parsed from argv
 * (`--only B1,B3 --quick …`). One parser for both entry points: the CLI
 * command validates with it before starting the harness.
 */

/** The benchmark groups, in the order a full run takes them (ids as in docs/performance.md). */
export const BENCHMARK_IDS = ['B1', 'B1-scale', 'B3', 'B5', 'B6', 'B7', 'B8', 'B9', 'portfolio'] as const;
export type BenchmarkId = (typeof BENCHMARK_IDS)[number];

/** The repository root, from bench/ (ts) or dist/bench/ (compiled). */
export const REPO_ROOT = __dirname.includes(`${join('dist', 'bench')}`) ? join(__dirname, '..', '..') : join(__dirname, '..');

export interface BenchConfig {
  only: BenchmarkId[];
  quick: boolean;
  /** Runs of each figure measured by repeated children (B1's stages, B1-scale, B7, B8's opens, B9); undefined: each benchmark's default. */
  runs?: number;
  /** Seconds a child may take before it is killed and recorded as not finished; undefined: each benchmark's default. */
  timeoutSeconds?: number;
  /** A child whose resident set exceeds this is killed and recorded as not finished (the machine is shared). */
  rssLimitMiB: number;
  /** The V8 heap limit given to each child (--max-old-space-size). */
  heapMiB: number;
  results: string;
  cacheDir: string;
  /** B1: the day's events and accounts. */
  events: number;
  accounts: number;
  /** B1-scale: events of each run (accounts fixed at `scaleAccounts`). */
  scale: number[];
  scaleAccounts: number;
  /** B5: client connections of each measurement, seconds per route, accounts holding positions. */
  b5Connections: number[];
  b5Seconds: number;
  b5Accounts: number;
  /** B6: price updates on the inputs topic after the setup of `b6Accounts` accounts holding positions (needs KAFKA_BROKERS). */
  b6Events: number;
  b6Accounts: number;
  /** B7: accounts with one position each, then `b7Ticks` price updates. */
  b7Accounts: number;
  b7Ticks: number;
  /** B3: holders of the ticked instrument, and ticks timed per size. */
  holders: number[];
  ticks: number;
  /** B8: events of the restarted log (falls back to 10^6 when the B1-scale run of that size did not finish). */
  restartEvents: number;
  /** B9: accounts of each crash, bankruptcies per crash. */
  crashAccounts: number[];
  bankruptcies: number;
  /** portfolio: accounts of the book. */
  portfolioAccounts?: number;
}

export class BenchUsageError extends Error {}

const DEFAULTS = {
  events: 1_000_000,
  accounts: 10_000,
  scale: [100_000, 1_000_000, 10_000_000],
  scaleAccounts: 10_000,
  b5Connections: [10, 50],
  b5Seconds: 10,
  b5Accounts: 1_000,
  b6Events: 200_000,
  b6Accounts: 1_000,
  b7Accounts: 1_000_000,
  b7Ticks: 345_600, // a day of a price every 250 ms
  holders: [10_000, 100_000, 1_000_000],
  ticks: 201,
  restartEvents: 10_000_000,
  crashAccounts: [10_000, 100_000],
  bankruptcies: 1_000,
};

/** --quick: sizes that finish in seconds (the e2e test of the command); the figures mean nothing. */
const QUICK = {
  events: 20_000,
  accounts: 500,
  scale: [5_000, 10_000, 20_000],
  scaleAccounts: 500,
  b5Connections: [10, 50],
  b5Seconds: 2,
  b5Accounts: 100,
  b6Events: 5_000,
  b6Accounts: 100,
  b7Accounts: 2_000,
  b7Ticks: 2_000,
  holders: [100, 1_000],
  ticks: 21,
  restartEvents: 10_000,
  crashAccounts: [200, 1_000],
  bankruptcies: 20,
  portfolioAccounts: 1_000,
  runs: 2,
};

const FLAGS = ['only', 'quick', 'runs', 'timeout', 'rss-limit', 'heap', 'results', 'cache', 'events', 'accounts', 'scale', 'scale-accounts', 'b5-connections', 'b5-seconds', 'b5-accounts', 'b6-events', 'b6-accounts', 'b7-accounts', 'b7-ticks', 'holders', 'ticks', 'restart-events', 'crash-accounts', 'bankruptcies', 'portfolio-accounts'] as const;
const BOOLEAN_FLAGS = new Set(['quick']);

/** `label`: where the value came from (`--events` or `BENCH_EVENTS`), for the message. */
function wholeNumber(label: string, value: string): number {
  if (!/^[1-9][0-9]*$/.test(value.replace(/_/g, ''))) throw new BenchUsageError(`${label}: "${value}" is not a whole number > 0`);
  return Number(value.replace(/_/g, ''));
}

function numberList(label: string, value: string): number[] {
  return value.split(',').map((part) => wholeNumber(label, part.trim()));
}

/** Which groups `--only` selects: ids separated by commas, case-insensitive; `run` is B1 (its old name). */
export function parseOnly(value: string, label = '--only'): BenchmarkId[] {
  const wanted = value.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (wanted.length === 0) throw new BenchUsageError(`${label}: no benchmark named`);
  return wanted.map((name) => {
    const id = name.toLowerCase() === 'run' ? 'B1' : BENCHMARK_IDS.find((known) => known.toLowerCase() === name.toLowerCase());
    if (!id) throw new BenchUsageError(`${label}: "${name}" is not one of ${BENCHMARK_IDS.join(', ')}`);
    return id;
  });
}

/** The environment variable of a flag: --b7-accounts → BENCH_B7_ACCOUNTS. */
export const envName = (flag: string): string => `BENCH_${flag.toUpperCase().replace(/-/g, '_')}`;

/**
 * Parses the harness's options: each flag from argv (`--flag value` or `--flag=value`), else from its
 * environment variable (`BENCH_EVENTS=100000`, `BENCH_ONLY=B1,B3`, `BENCH_QUICK=1`), else the default.
 */
export function parseBenchArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const given = new Map<string, string>();
  const label = new Map<string, string>();
  for (const flag of FLAGS) {
    const value = env[envName(flag)];
    if (value === undefined || value === '') continue;
    if (BOOLEAN_FLAGS.has(flag)) {
      if (value !== '0' && value !== 'false') given.set(flag, 'true');
    } else {
      given.set(flag, value);
      label.set(flag, envName(flag));
    }
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    if (!match || !(FLAGS as readonly string[]).includes(match[1]!)) throw new BenchUsageError(`unknown option "${arg}" (options: ${FLAGS.map((f) => `--${f}`).join(' ')})`);
    const flag = match[1]!;
    if (BOOLEAN_FLAGS.has(flag)) {
      given.set(flag, 'true');
      continue;
    }
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new BenchUsageError(`--${flag} needs a value`);
    given.set(flag, value);
    label.set(flag, `--${flag}`);
  }
  const quick = given.has('quick');
  const sizes = quick ? QUICK : DEFAULTS;
  const num = (flag: string, fallback: number) => (given.has(flag) ? wholeNumber(label.get(flag)!, given.get(flag)!) : fallback);
  const list = (flag: string, fallback: number[]) => (given.has(flag) ? numberList(label.get(flag)!, given.get(flag)!) : fallback);
  const optional = (flag: string, fallback: number | undefined) => (given.has(flag) ? wholeNumber(label.get(flag)!, given.get(flag)!) : fallback);
  const only = given.has('only') ? parseOnly(given.get('only')!, label.get('only')) : [...BENCHMARK_IDS];
  return {
    only: BENCHMARK_IDS.filter((id) => only.includes(id)),
    quick,
    runs: optional('runs', quick ? QUICK.runs : undefined),
    timeoutSeconds: optional('timeout', undefined),
    rssLimitMiB: num('rss-limit', 6_144),
    heapMiB: num('heap', 8_192),
    results: given.get('results') ?? join(REPO_ROOT, 'bench', 'results', 'latest.json'),
    cacheDir: given.get('cache') ?? join(REPO_ROOT, 'bench', '.cache'),
    events: num('events', sizes.events),
    accounts: num('accounts', sizes.accounts),
    scale: list('scale', sizes.scale),
    scaleAccounts: num('scale-accounts', sizes.scaleAccounts),
    b5Connections: list('b5-connections', sizes.b5Connections),
    b5Seconds: num('b5-seconds', sizes.b5Seconds),
    b5Accounts: num('b5-accounts', sizes.b5Accounts),
    b6Events: num('b6-events', sizes.b6Events),
    b6Accounts: num('b6-accounts', sizes.b6Accounts),
    b7Accounts: num('b7-accounts', sizes.b7Accounts),
    b7Ticks: num('b7-ticks', sizes.b7Ticks),
    holders: list('holders', sizes.holders),
    ticks: num('ticks', sizes.ticks),
    restartEvents: num('restart-events', sizes.restartEvents),
    crashAccounts: list('crash-accounts', sizes.crashAccounts),
    bankruptcies: num('bankruptcies', sizes.bankruptcies),
    portfolioAccounts: optional('portfolio-accounts', quick ? QUICK.portfolioAccounts : undefined),
  };
}
