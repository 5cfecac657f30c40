import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Issue #11's "done when": `clearsim diff` across the eight venue presets runs on every bundled incident —
 * the linear ones and the inverse XBTUSD (coin-margined: the venue mechanics measure it in XBT) — and gives one
 * table with a column per preset and the ADL overshoot row. Every incident against all eight presets (two
 * diffs at a time: a diff runs its rule sets one after the other).
 */
const ROOT = join(__dirname, '..', '..');
const INCIDENTS = join(ROOT, 'examples', 'incidents');
const PRESETS = ['binance-usdm', 'bybit-linear', 'okx-swap', 'hyperliquid', 'dydx-v4', 'drift-v2', 'deribit', 'coinbase-intl'];
const incidents = readdirSync(INCIDENTS)
  .filter((name) => name.endsWith('.yaml'))
  .sort();
jest.setTimeout(600_000);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function diff(incident: string): Promise<Outcome> {
  const args = ['diff', join(INCIDENTS, incident), ...PRESETS.flatMap((preset) => ['--rules', preset])];
  return new Promise((resolve) => {
    execFile(join(ROOT, 'bin', 'clearsim'), args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 600_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The cells of the table rows whose first cell is `metric`, across the tables the output is split into. */
function row(table: string, metric: string): string[] {
  return table
    .split('\n')
    .filter((line) => line.startsWith('│'))
    .map((line) =>
      line
        .split('│')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    )
    .filter((cells) => cells[0] === metric)
    .flatMap((cells) => cells.slice(1));
}

const outcomes = new Map<string, Promise<Outcome>>();

beforeAll(() => {
  // two at a time, in name order
  const queue = [...incidents];
  const next = (): Promise<void> => {
    const incident = queue.shift();
    if (incident === undefined) return Promise.resolve();
    const run = diff(incident);
    outcomes.set(incident, run);
    return run.then(next);
  };
  void next();
  void next();
});

const outcome = async (incident: string): Promise<Outcome> => {
  // the pool registers each incident when it starts it: wait for its turn
  while (!outcomes.has(incident)) await new Promise((resolve) => setTimeout(resolve, 50));
  return outcomes.get(incident)!;
};

describe('clearsim diff across the eight venue presets, on every bundled incident', () => {
  it('bundles the incidents, the inverse XBTUSD among them', () => {
    expect(incidents.length).toBeGreaterThanOrEqual(9);
    expect(incidents).toContain('2020-03-12-black-thursday-xbtusd.yaml');
  });

  it.each(incidents)('%s: a column per preset and the ADL overshoot row', async (incident) => {
    const { code, stdout, stderr } = await outcome(incident);
    // nothing on stderr but the notice of a token kept from the incident's own rules (the cascade's products)
    for (const line of stderr.split('\n').filter((l) => l !== '')) expect(line).toMatch(/define no token .*: kept from the scenario's own rules/);
    expect(code).toBe(0);
    expect(row(stdout, 'metric')).toEqual(PRESETS);
    const overshoot = row(stdout, 'ADL overshoot');
    expect(overshoot).toHaveLength(PRESETS.length);
    for (const cell of overshoot) expect(cell).toMatch(/^-?\d+(\.\d+)?$/);
    const liquidations = row(stdout, 'liquidations');
    expect(liquidations).toHaveLength(PRESETS.length);
    for (const cell of liquidations) expect(cell).toMatch(/^\d+$/);
  });

  it('on the inverse XBTUSD every preset liquidates (the venue mechanics run in XBT, none refused)', async () => {
    const { stdout } = await outcome('2020-03-12-black-thursday-xbtusd.yaml');
    const liquidations = row(stdout, 'liquidations').map(Number);
    expect(liquidations).toHaveLength(PRESETS.length);
    for (const count of liquidations) expect(count).toBeGreaterThan(0);
  });
});
