import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Table from 'cli-table3';

/**
 * B5 (docs/performance.md): HTTP input throughput of `clearsim serve` on
 * loopback. POST /v1/inputs with one PriceUpdated input per request (each
 * decided and durably appended before the answer), as a ratio to GET /healthz
 * on the same server in the same run (the HTTP stack alone). The server runs
 * in its own process (dist/apps/server/src/main.js, a free port) on a temp-dir
 * file store, with `accounts` accounts holding positions so each price update
 * goes through the margin checks. `npm run bench -- --only B5` runs it at 10
 * and 50 connections through bench/run-all.ts; on its own:
 *
 *   npm run build && node dist/bench/http-bench.js
 *
 * Env: BENCH_HTTP_SECONDS (default 10), BENCH_HTTP_CONNECTIONS (default 10),
 * BENCH_HTTP_ACCOUNTS (default 1000), BENCH_HTTP_CPU_PROF (a directory: the
 * server runs with `node --cpu-prof` and writes its profile there on exit),
 * BENCH_HTTP_CPU_PROF_INTERVAL_US (its sampling interval; node's default is
 * 1,000 µs), BENCH_HTTP_SERVER (another build's dist/apps/server/src/main.js, to compare
 * it with this one under the same client).
 */

const KEY = 'bench-admin-key';
const TS = '2026-01-01T00:00:00Z';
const HEADERS = { 'content-type': 'application/json', 'x-api-key': KEY };

export interface HttpBenchOptions {
  connections: number;
  /** Seconds of each measured route (after 2 s of warm-up each). */
  seconds: number;
  accounts: number;
  /** A directory for the server's `--cpu-prof` profile (none without it). */
  cpuProfileDir?: string;
}

export interface RouteFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  total: number;
}

export interface HttpBenchResult {
  healthz: RouteFigures;
  inputs: RouteFigures;
  /** Mean time of a submission in the shard loop (decide + append + fsync, queueing included), from /metrics. */
  shardLoopMs: number | null;
  /** The server's peak RSS (VmHWM before it stops; null off Linux). */
  serverPeakRssMiB: number | null;
  /**
   * The server's CPU time (user + system, all its threads: the fsyncs' pool
   * threads too) while POST /v1/inputs ran, per answered input, in µs (null
   * off Linux). A CPU profile's busy time is wall time not idle, which a
   * loaded machine inflates with the time the process waited for a core.
   */
  serverCpuUsPerInput: number | null;
  /**
   * The server's main thread alone (the event loop: HTTP, the core, the
   * store's writes), per answered input, in µs (from
   * /proc/PID/task/PID/schedstat; null off Linux). Under load that thread is
   * at 100 % of a core, so this is what bounds the requests/s.
   */
  serverMainThreadUsPerInput: number | null;
  /** The same for GET /healthz, per answered request: the HTTP stack's share of the POST's figure (null off Linux). */
  serverMainThreadUsPerHealthz: number | null;
  /** Inputs per durable append (one fsync) during POST /v1/inputs: the group commit's mean group, counted in the log. */
  inputsPerAppend: number | null;
}

/** One measurement: a fresh server and store, set up, both routes warmed up, then /healthz and POST /v1/inputs in turn. */
export async function measureHttp(options: HttpBenchOptions): Promise<HttpBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'clearsim-http-bench-'));
  const { child: server, url } = await startServer(dir, options.cpuProfileDir).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true }); // a server that never listened leaves no store behind
    throw error;
  });
  try {
    await waitUntilReady(url);
    await setUp(url, options.accounts);
    const { connections, seconds } = options;
    await autocannon({ url: `${url}/healthz`, connections, duration: 2 });
    await autocannon({ url, connections, duration: 2, requests: priceRequests() });
    const healthzMainBefore = mainThreadSeconds(server.pid);
    const healthz = await autocannon({ url: `${url}/healthz`, connections, duration: seconds });
    const healthzMainAfter = mainThreadSeconds(server.pid);
    const logBytesBefore = logBytes(dir);
    const cpuBefore = cpuSeconds(server.pid);
    const mainBefore = mainThreadSeconds(server.pid);
    const inputs = await autocannon({ url, connections, duration: seconds, requests: priceRequests() });
    const cpuAfter = cpuSeconds(server.pid);
    const mainAfter = mainThreadSeconds(server.pid);
    const metrics = await (await fetch(`${url}/metrics`, { headers: HEADERS })).text();
    const groups = appendsSince(dir, logBytesBefore);
    const count = /clearsim_append_latency_seconds_count (\d+)/.exec(metrics)?.[1];
    const sum = /clearsim_append_latency_seconds_sum ([\d.e+-]+)/.exec(metrics)?.[1];
    const perInput = (before: number | null, after: number | null) => (before !== null && after !== null && inputs.requests.total > 0 ? ((after - before) * 1e6) / inputs.requests.total : null);
    return {
      healthz: figures(healthz),
      inputs: figures(inputs),
      shardLoopMs: count && sum ? (Number(sum) / Number(count)) * 1000 : null,
      serverPeakRssMiB: peakRssMiB(server.pid),
      serverCpuUsPerInput: perInput(cpuBefore, cpuAfter),
      serverMainThreadUsPerInput: perInput(mainBefore, mainAfter),
      serverMainThreadUsPerHealthz: healthzMainBefore !== null && healthzMainAfter !== null && healthz.requests.total > 0 ? ((healthzMainAfter - healthzMainBefore) * 1e6) / healthz.requests.total : null,
      inputsPerAppend: groups.appends > 0 ? groups.inputs / groups.appends : null,
    };
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

function figures(result: autocannon.Result): RouteFigures {
  return { requestsPerSecond: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99, non2xx: result.non2xx, errors: result.errors, total: result.requests.total };
}

function peakRssMiB(pid: number | undefined): number | null {
  try {
    const kib = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib ? Number(kib) / 1024 : null;
  } catch {
    return null;
  }
}

/** User + system CPU seconds of process `pid` so far (fields 14 and 15 of /proc/PID/stat, in clock ticks of 1/100 s), null off Linux. */
function cpuSeconds(pid: number | undefined): number | null {
  try {
    // the command name (field 2) is in parentheses and may hold spaces: count the fields after its closing one
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** The CPU seconds of process `pid`'s main thread so far (the first field of /proc/PID/task/PID/schedstat, in ns), null off Linux. */
function mainThreadSeconds(pid: number | undefined): number | null {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
  } catch {
    return null;
  }
}

function logBytes(dir: string): number {
  return statSync(join(dir, 'events.jsonl')).size;
}

/**
 * The durable appends (commit records: a line starting with a TAB, see
 * libs/store/src/file/file-event-store.ts) and the bench's inputs
 * (`PriceUpdated` lines) in the log after byte `from`: read from the file, so
 * any build of the server can be measured alike.
 */
function appendsSince(dir: string, from: number): { appends: number; inputs: number } {
  const tail = readFileSync(join(dir, 'events.jsonl')).subarray(from).toString('latin1');
  return { appends: tail.match(/^\t/gm)?.length ?? 0, inputs: tail.match(/"type":"PriceUpdated"/g)?.length ?? 0 };
}

/** Starts the server on a free port; resolves with its URL once it says where it listens. */
function startServer(dir: string, cpuProfileDir?: string): Promise<{ child: ChildProcess; url: string }> {
  const interval = process.env.BENCH_HTTP_CPU_PROF_INTERVAL_US;
  const execArgs = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`, ...(interval ? [`--cpu-prof-interval=${interval}`] : [])] : [];
  const main = process.env.BENCH_HTTP_SERVER || join(__dirname, '..', 'apps', 'server', 'src', 'main.js');
  const child = spawn(process.execPath, [...execArgs, main], {
    env: { ...process.env, CLEARSIM_STORE: `file:${dir}`, CLEARSIM_PORT: '0', CLEARSIM_API_KEYS: `${KEY}:admin`, CLEARSIM_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const url = /clearsim serving on (http:\/\/\S+)/.exec(out)?.[1];
      if (url) {
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // the JSON log (warn and up) goes nowhere
        resolve({ child, url });
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the server exited with ${code} before listening: ${out.slice(-500)}`)));
  });
}

async function waitUntilReady(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await fetch(`${url}/readyz`)).ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the server did not become ready');
}

/** Rules (IM 10%, MM 5%), one perpetual, and `accounts` accounts long or short against a market maker. */
async function setUp(url: string, accounts: number): Promise<void> {
  const rules = {
    name: 'bench',
    model: 'cross',
    marginCall: { graceSeconds: 3600 },
    accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' },
    instruments: { '*': { tiers: [{ initialRate: '0.1', maintenanceRate: '0.05' }] } },
  };
  await post(url, '/v1/inputs/batch', [
    { type: 'RulesActivated', ts: TS, rules },
    { type: 'InstrumentListed', ts: TS, instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC', multiplier: '1' },
    { type: 'PriceUpdated', ts: TS, instrument: 'BTC-PERP', price: '10000' },
    { type: 'Deposited', ts: TS, account: 'mm', asset: 'USD', amount: '100000000' },
  ]);
  const setup: unknown[] = [];
  for (let i = 0; i < accounts; i++) {
    const id = `acct-${String(i).padStart(5, '0')}`;
    const long = i % 2 === 0;
    setup.push({ type: 'Deposited', ts: TS, account: id, asset: 'USD', amount: '5000' });
    setup.push({ type: 'TradeExecuted', ts: TS, tradeId: `setup-${i}`, instrument: 'BTC-PERP', buyer: long ? id : 'mm', seller: long ? 'mm' : id, qty: '1', price: '10000' });
  }
  await post(url, '/v1/inputs/batch', setup);
}

async function post(url: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: HEADERS, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
}

/**
 * PriceUpdated inputs wandering ±0.5% around 10,000 (far from any margin call), all at one ts: 100 requests
 * built once, which each connection sends in turn. Built once, as autocannon builds the GET /healthz request
 * once: a per-request `setupRequest` made the client re-serialise every POST (its body and its whole request
 * head) in the one process that also measures both routes, so the client spent more per POST than per GET.
 */
function priceRequests(): autocannon.Request[] {
  return Array.from({ length: 100 }, (_, i) => ({
    method: 'POST',
    path: '/v1/inputs',
    headers: HEADERS,
    body: JSON.stringify({ type: 'PriceUpdated', ts: TS, instrument: 'BTC-PERP', price: String(9950 + i) }),
  }));
}

async function main(): Promise<void> {
  const options: HttpBenchOptions = {
    connections: Number(process.env.BENCH_HTTP_CONNECTIONS ?? 10),
    seconds: Number(process.env.BENCH_HTTP_SECONDS ?? 10),
    accounts: Number(process.env.BENCH_HTTP_ACCOUNTS ?? 1000),
    cpuProfileDir: process.env.BENCH_HTTP_CPU_PROF || undefined,
  };
  const result = await measureHttp(options);
  const table = new Table({ head: ['route', 'requests/s', 'ratio', 'p50 ms', 'p99 ms', 'non-2xx'], style: { head: [], border: [] } });
  for (const [name, route] of [
    ['GET /healthz (baseline)', result.healthz],
    ['POST /v1/inputs PriceUpdated', result.inputs],
  ] as const) {
    table.push([name, Math.round(route.requestsPerSecond), (route.requestsPerSecond / result.healthz.requestsPerSecond).toFixed(3), route.p50Ms, route.p99Ms, route.non2xx]);
  }
  process.stdout.write(`clearsim serve on loopback: ${options.connections} connections, ${options.seconds} s per route, ${options.accounts} accounts with positions\n${table.toString()}\n`);
  if (result.shardLoopMs !== null) process.stdout.write(`shard loop (decide + append + fsync, queueing included): ${result.shardLoopMs.toFixed(3)} ms mean per submission\n`);
  if (result.serverCpuUsPerInput !== null) process.stdout.write(`the server's CPU (user + system) during POST /v1/inputs: ${Math.round(result.serverCpuUsPerInput)} µs per input\n`);
  if (result.serverMainThreadUsPerInput !== null) process.stdout.write(`the server's main thread during POST /v1/inputs: ${result.serverMainThreadUsPerInput.toFixed(1)} µs per input\n`);
  if (result.serverMainThreadUsPerHealthz !== null) process.stdout.write(`the server's main thread during GET /healthz: ${result.serverMainThreadUsPerHealthz.toFixed(1)} µs per request\n`);
  if (result.inputsPerAppend !== null) process.stdout.write(`inputs per durable append (group commit) during POST /v1/inputs: ${result.inputsPerAppend.toFixed(2)}\n`);
  if (options.cpuProfileDir) process.stdout.write(`the server's CPU profile: ${options.cpuProfileDir} (answered: ${result.healthz.total} GET /healthz, then ${result.inputs.total} POST /v1/inputs, ${options.seconds} s each)\n`);
}

if (require.main === module) {
  main().catch((error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  });
}
