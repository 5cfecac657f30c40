import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The harness side of a benchmark: every measurement runs in a child Node
 * process of its own (bench/worker.ts), so its peak RSS is its own and one
 * benchmark's heap cannot slow the next. A child that outlives its timeout or
 * its RSS limit is killed and recorded as not finished, with its RSS at the kill.
 */

/** What a worker is asked to do (see worker.ts for the kinds). */
export interface Job {
  kind: string;
  [param: string]: unknown;
}

/** What a worker reports when it finishes: its figures and its own peak RSS. */
export interface WorkerReport {
  values: Record<string, number | string | number[]>;
  maxRssKiB: number;
}

export type ChildStatus = 'ok' | 'timeout' | 'rss-limit' | 'failed';

export interface ChildOutcome {
  status: ChildStatus;
  report?: WorkerReport;
  /** Peak RSS: the worker's own count when it finished, else the last VmHWM read before the kill. */
  peakRssMiB: number | null;
  wallSeconds: number;
  /** Why it did not finish, in words ("timeout after 600 s, RSS 1,234 MiB at the kill"). */
  failure?: string;
  stdout: string;
}

export interface ChildLimits {
  timeoutSeconds: number;
  rssLimitMiB: number;
  heapMiB: number;
}

const WORKER = join(__dirname, 'worker.js');
const KEEP_OUTPUT = 256 * 1024;

/** VmHWM and VmRSS of a live process, MiB (Linux /proc; null elsewhere). */
function procMemory(pid: number): { hwm: number; rss: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { hwm: kib('VmHWM') / 1024, rss: kib('VmRSS') / 1024 };
  } catch {
    return null;
  }
}

const mib = (x: number) => `${Math.round(x).toLocaleString('en-US')} MiB`;

/** Runs one job in a fresh child (`--expose-gc`), watching its time and memory. */
export function runChild(job: Job, limits: ChildLimits, echo = false): Promise<ChildOutcome> {
  if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: build first (npm run build)`);
  const started = performance.now();
  const child = fork(WORKER, [JSON.stringify(job)], {
    execArgv: ['--expose-gc', `--max-old-space-size=${limits.heapMiB}`],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    if (echo) process.stdout.write(chunk);
    stdout = (stdout + chunk.toString('utf8')).slice(-KEEP_OUTPUT);
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-KEEP_OUTPUT);
  });
  let report: WorkerReport | undefined;
  let workerError: string | undefined;
  child.on('message', (message: { report?: WorkerReport; error?: string }) => {
    if (message.report) report = message.report;
    if (message.error) workerError = message.error;
  });
  let killed: { status: ChildStatus; failure: string; hwm: number | null } | undefined;
  let lastHwm: number | null = null;
  const kill = (status: ChildStatus, why: string) => {
    if (killed) return;
    const memory = child.pid === undefined ? null : procMemory(child.pid);
    const hwm = memory?.hwm ?? lastHwm;
    killed = { status, failure: `${why}${memory ? `, RSS ${mib(memory.rss)} at the kill (peak ${mib(memory.hwm)})` : ''}`, hwm };
    child.kill('SIGKILL');
  };
  const watch = setInterval(() => {
    if (child.pid === undefined) return;
    const memory = procMemory(child.pid);
    if (memory) lastHwm = memory.hwm;
    if (memory && memory.rss > limits.rssLimitMiB) kill('rss-limit', `did not finish: RSS passed the limit of ${mib(limits.rssLimitMiB)} after ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }, 250);
  const timer = setTimeout(() => kill('timeout', `did not finish: timeout after ${limits.timeoutSeconds} s`), limits.timeoutSeconds * 1000);
  return new Promise<ChildOutcome>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(watch);
      clearTimeout(timer);
      const wallSeconds = (performance.now() - started) / 1000;
      if (killed) {
        resolve({ status: killed.status, peakRssMiB: killed.hwm, wallSeconds, failure: killed.failure, stdout });
      } else if (code === 0 && report) {
        resolve({ status: 'ok', report, peakRssMiB: report.maxRssKiB / 1024, wallSeconds, stdout });
      } else {
        const why = workerError ?? (stderr.trim().split('\n').slice(-3).join(' | ') || `exit ${code ?? signal}`);
        resolve({ status: 'failed', peakRssMiB: lastHwm, wallSeconds, failure: `did not finish: ${why}`, stdout });
      }
    });
  });
}

/** Called by the worker: reports its figures and its own peak RSS (process.resourceUsage().maxRSS, KiB). */
export function reportToHarness(values: WorkerReport['values']): Promise<void> {
  const report: WorkerReport = { values, maxRssKiB: process.resourceUsage().maxRSS };
  return new Promise((resolve, reject) => process.send!({ report }, (error: Error | null) => (error ? reject(error) : resolve())));
}

export interface Stats {
  min: number;
  median: number;
  max: number;
}

export function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const m = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]! };
}

/** One row of bench/results/latest.json (bench/results/README.md describes the fields). */
export interface BenchResult {
  id: string;
  group: string;
  workload: string;
  /** The median of `runs` (null when nothing finished). */
  figure: number | null;
  unit: string;
  /** The figure this one is compared with, in the same unit, measured in the same harness run (null: none). */
  baseline: number | null;
  baselineWorkload: string | null;
  /** figure / baseline (null without a baseline or a figure). */
  ratio: number | null;
  target: string | null;
  /** true / false when the row has a target that can be judged from it, else null. */
  targetMet: boolean | null;
  completed: boolean;
  failure: string | null;
  peakRssMiB: number | null;
  runs: number[];
  min: number | null;
  median: number | null;
  max: number | null;
  /** Further figures of the row (events, decisions, seconds, …). */
  extra: Record<string, number | string | null>;
  loadAverage: number[];
  node: string;
  date: string;
  quick: boolean;
}

export interface RowInput {
  id: string;
  group: string;
  workload: string;
  unit: string;
  runs: number[];
  baseline?: number | null;
  baselineWorkload?: string | null;
  target?: string | null;
  targetMet?: (figure: number, ratio: number | null) => boolean;
  failure?: string | null;
  peakRssMiB: number | null;
  extra?: Record<string, number | string | null>;
  quick: boolean;
}

export function makeRow(input: RowInput): BenchResult {
  const s = input.runs.length > 0 ? stats(input.runs) : null;
  const figure = s ? s.median : null;
  const baseline = input.baseline ?? null;
  const ratio = figure !== null && baseline !== null && baseline !== 0 ? figure / baseline : null;
  return {
    id: input.id,
    group: input.group,
    workload: input.workload,
    figure,
    unit: input.unit,
    baseline,
    baselineWorkload: input.baselineWorkload ?? null,
    ratio,
    target: input.target ?? null,
    targetMet: input.failure ? (input.target ? false : null) : figure !== null && input.targetMet ? input.targetMet(figure, ratio) : null,
    completed: !input.failure,
    failure: input.failure ?? null,
    peakRssMiB: input.peakRssMiB === null ? null : Math.round(input.peakRssMiB),
    runs: input.runs,
    min: s?.min ?? null,
    median: s?.median ?? null,
    max: s?.max ?? null,
    extra: input.extra ?? {},
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    date: new Date().toISOString(),
    quick: input.quick,
  };
}

/**
 * Writes the rows of this run into the results file: rows of the groups this run measured replace
 * that group's rows of an earlier run, the other groups' rows are kept (each row carries its own date and load).
 */
export function writeResults(file: string, rows: readonly BenchResult[], measuredGroups: readonly string[]): BenchResult[] {
  let previous: BenchResult[] = [];
  if (existsSync(file)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (Array.isArray(parsed)) previous = parsed as BenchResult[];
    } catch {
      previous = [];
    }
  }
  const kept = previous.filter((row) => !measuredGroups.includes(row.group));
  const merged = [...kept, ...rows];
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(merged, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
  return merged;
}

