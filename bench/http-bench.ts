import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Table from 'cli-table3';

/**
 * HTTP input throughput of `clearsim serve` on loopback: POST /v1/inputs with
 * PriceUpdated inputs (each one decided and durably appended — one fsync per
 * request — before the answer), as a ratio to GET /healthz on the same
 * server in the same run (the HTTP stack alone). The server runs in its own
 * process (dist/apps/server/src/main.js) on a temp-dir file store, with
 * BENCH_HTTP_ACCOUNTS accounts holding positions so each price update goes
 * through the margin checks.
 *
 *   npm run build && node dist/bench/http-bench.js
 *
 * Env: BENCH_HTTP_SECONDS (default 10), BENCH_HTTP_CONNECTIONS (default 10),
 * BENCH_HTTP_ACCOUNTS (default 1000), BENCH_HTTP_PORT (default 18181).
 */
const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_HTTP_CONNECTIONS ?? 10);
const ACCOUNTS = Number(process.env.BENCH_HTTP_ACCOUNTS ?? 1000);
const PORT = Number(process.env.BENCH_HTTP_PORT ?? 18181);
const KEY = 'bench-admin-key';
const URL = `http://127.0.0.1:${PORT}`;
const TS = '2026-01-01T00:00:00Z';
const HEADERS = { 'content-type': 'application/json', 'x-api-key': KEY };

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'clearsim-http-bench-'));
  const server = startServer(dir);
  try {
    await waitUntilReady();
    await setUp();
    // warm up both routes, then measure
    await autocannon({ url: `${URL}/healthz`, connections: CONNECTIONS, duration: 2 });
    await autocannon({ url: URL, connections: CONNECTIONS, duration: 2, requests: [priceRequest()] });
    const baseline = await autocannon({ url: `${URL}/healthz`, connections: CONNECTIONS, duration: SECONDS });
    const inputs = await autocannon({ url: URL, connections: CONNECTIONS, duration: SECONDS, requests: [priceRequest()] });
    const table = new Table({ head: ['route', 'requests/s', 'ratio', 'p50 ms', 'p99 ms', 'non-2xx'], style: { head: [], border: [] } });
    for (const [name, result] of [
      ['GET /healthz (baseline)', baseline],
      ['POST /v1/inputs PriceUpdated', inputs],
    ] as const) {
      table.push([name, Math.round(result.requests.average), (result.requests.average / baseline.requests.average).toFixed(3), result.latency.p50, result.latency.p99, result.non2xx]);
    }
    process.stdout.write(`clearsim serve on loopback: ${CONNECTIONS} connections, ${SECONDS} s per route, ${ACCOUNTS} accounts with positions, file store in ${dir}\n${table.toString()}\n`);
    const metrics = await (await fetch(`${URL}/metrics`, { headers: HEADERS })).text();
    const count = /clearsim_append_latency_seconds_count (\d+)/.exec(metrics)?.[1];
    const sum = /clearsim_append_latency_seconds_sum ([\d.e+-]+)/.exec(metrics)?.[1];
    if (count && sum) process.stdout.write(`shard loop (decide + append + fsync, queueing included): ${((Number(sum) / Number(count)) * 1000).toFixed(3)} ms mean over ${count} submissions\n`);
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

function startServer(dir: string): ChildProcess {
  const child = spawn(process.execPath, [join(__dirname, '..', 'apps', 'server', 'src', 'main.js')], {
    env: { ...process.env, CLEARSIM_STORE: `file:${dir}`, CLEARSIM_PORT: String(PORT), CLEARSIM_API_KEYS: `${KEY}:admin`, CLEARSIM_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.once('exit', (code) => {
    if (code) process.stderr.write(`server exited with ${code}\n`);
  });
  return child;
}

async function waitUntilReady(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${URL}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the server did not become ready');
}

/** Rules (IM 10%, MM 5%), one perpetual, and ACCOUNTS accounts long or short against a market maker. */
async function setUp(): Promise<void> {
  const rules = {
    name: 'bench',
    model: 'cross',
    marginCall: { graceSeconds: 3600 },
    accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' },
    instruments: { '*': { tiers: [{ initialRate: '0.1', maintenanceRate: '0.05' }] } },
  };
  await post('/v1/inputs/batch', [
    { type: 'RulesActivated', ts: TS, rules },
    { type: 'InstrumentListed', ts: TS, instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC', multiplier: '1' },
    { type: 'PriceUpdated', ts: TS, instrument: 'BTC-PERP', price: '10000' },
    { type: 'Deposited', ts: TS, account: 'mm', asset: 'USD', amount: '100000000' },
  ]);
  const setup: unknown[] = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const id = `acct-${String(i).padStart(5, '0')}`;
    const long = i % 2 === 0;
    setup.push({ type: 'Deposited', ts: TS, account: id, asset: 'USD', amount: '5000' });
    setup.push({ type: 'TradeExecuted', ts: TS, tradeId: `setup-${i}`, instrument: 'BTC-PERP', buyer: long ? id : 'mm', seller: long ? 'mm' : id, qty: '1', price: '10000' });
  }
  await post('/v1/inputs/batch', setup);
}

async function post(path: string, body: unknown): Promise<void> {
  const response = await fetch(`${URL}${path}`, { method: 'POST', headers: HEADERS, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
}

/** PriceUpdated inputs wandering ±0.5% around 10,000 (far from any margin call), all at one ts. */
function priceRequest(): autocannon.Request {
  let n = 0;
  return {
    method: 'POST',
    path: '/v1/inputs',
    headers: HEADERS,
    setupRequest: (request) => ({ ...request, body: JSON.stringify({ type: 'PriceUpdated', ts: TS, instrument: 'BTC-PERP', price: String(9950 + (n++ % 100)) }) }),
  };
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exitCode = 1;
});
