import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResult } from '../../bench/harness';

/**
 * End-to-end: `clearsim bench` (the harness of `npm run bench`) at --quick sizes. It checks the command and the
 * shape of the results file, never how fast anything is (no timing assertion): the figures of a --quick run
 * mean nothing. Generated logs and results go to a temp dir, not to bench/.cache and bench/results.
 */
const ROOT = join(__dirname, '..', '..');

function clearsim(...args: string[]) {
  const result = spawnSync(join(ROOT, 'bin', 'clearsim'), args, { encoding: 'utf8', cwd: ROOT });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A row of latest.json, as the harness declares it. */
type Row = BenchResult;

const KEYS = ['id', 'group', 'workload', 'figure', 'unit', 'baseline', 'baselineWorkload', 'ratio', 'target', 'targetMet', 'completed', 'failure', 'peakRssMiB', 'runs', 'min', 'median', 'max', 'extra', 'loadAverage', 'node', 'date', 'quick'];

describe('clearsim bench --quick', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clearsim-e2e-bench-'));
  const results = join(dir, 'latest.json');
  const cache = join(dir, 'cache');
  let out: ReturnType<typeof clearsim>;
  let rows: Row[];
  const row = (id: string) => rows.find((r) => r.id === id)!;

  beforeAll(() => {
    out = clearsim('bench', '--quick', '--only', 'B1,B3,B9', '--results', results, '--cache', cache);
    rows = existsSync(results) ? (JSON.parse(readFileSync(results, 'utf8')) as Row[]) : [];
  }, 300_000);

  it('runs B1, B3 and B9 and writes one row per measured figure', () => {
    expect(out.stderr).not.toMatch(/Error|did not finish/);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`results: ${results}`);
    expect(out.stdout).toMatch(/load average \d+\.\d\d \d+\.\d\d \d+\.\d\d/);
    // --quick sizes: B3 at 100 and 1,000 holders, B9 at 200 and 1,000 accounts (bench/config.ts)
    expect(rows.map((r) => r.id).sort()).toEqual(['B1', 'B1.baseline', 'B1.decode', 'B1.readline', 'B3.1e2', 'B3.1e3', 'B9.adl.1e3', 'B9.adl.200', 'B9.socialize.1e3', 'B9.socialize.200']);
    expect(new Set(rows.map((r) => r.group))).toEqual(new Set(['B1', 'B3', 'B9']));
  });

  it('gives every row its figure, spread, peak RSS, load, Node and date', () => {
    for (const r of rows) {
      for (const key of KEYS) expect(r).toHaveProperty(key);
      expect(r.completed).toBe(true);
      expect(r.failure).toBeNull();
      expect(r.quick).toBe(true);
      expect(r.runs.length).toBeGreaterThan(0);
      for (const v of r.runs) expect(Number.isFinite(v) && v > 0).toBe(true);
      expect(r.min).toBe(Math.min(...r.runs));
      expect(r.max).toBe(Math.max(...r.runs));
      expect(r.figure).toBe(r.median);
      expect(r.min! <= r.median! && r.median! <= r.max!).toBe(true);
      expect(r.peakRssMiB).toBeGreaterThan(0);
      expect(r.loadAverage).toHaveLength(3);
      expect(r.node).toBe(process.version);
      expect(new Date(r.date).toISOString()).toBe(r.date);
    }
  });

  it('makes every ratio figure / baseline, with the baseline measured in the same run', () => {
    for (const r of rows) {
      expect(r.baseline).not.toBeNull();
      expect(r.ratio).toBeCloseTo(r.figure! / r.baseline!, 9);
    }
    // B1 and its extra stages are compared with the bare chunked JSON.parse loop over the same file
    for (const id of ['B1', 'B1.readline', 'B1.decode']) expect(row(id).baseline).toBe(row('B1.baseline').figure);
    expect(row('B1.baseline').ratio).toBe(1);
    expect(row('B1').unit).toBe('events/s');
    expect(row('B1').extra).toMatchObject({ events: 20_000, outputHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // B3 and B9 against their smallest size (per bankruptcy mode for B9)
    expect(row('B3.1e3').baseline).toBe(row('B3.1e2').figure);
    expect(row('B9.adl.1e3').baseline).toBe(row('B9.adl.200').figure);
    expect(row('B9.socialize.1e3').baseline).toBe(row('B9.socialize.200').figure);
  });

  it('B9 crashes bankrupt exactly the accounts set up to go bankrupt, under each mode', () => {
    for (const id of ['B9.adl.200', 'B9.adl.1e3', 'B9.socialize.200', 'B9.socialize.1e3']) {
      const r = row(id);
      expect(r.unit).toBe('ms/bankruptcy');
      expect(r.extra.bankruptcies).toBe(20);
      expect(JSON.parse(String(r.extra.decisionsByType))).toMatchObject({ AccountBankrupted: 20, LiquidationStarted: 20 });
    }
    expect(JSON.parse(String(row('B9.adl.1e3').extra.decisionsByType))).toHaveProperty('PositionAutoDeleveraged');
    // the 20 losses of the crash tick are shared once, together (docs/rules.md §6)
    expect(JSON.parse(String(row('B9.socialize.1e3').extra.decisionsByType))).toMatchObject({ LossSocialized: 1 });
  });

  it('a later run of one benchmark replaces its rows and keeps the others', () => {
    const again = clearsim('bench', '--quick', '--only', 'B3', '--results', results, '--cache', cache);
    expect(again.code).toBe(0);
    const merged = JSON.parse(readFileSync(results, 'utf8')) as Row[];
    expect(merged.map((r) => r.id).sort()).toEqual(rows.map((r) => r.id).sort());
    for (const r of merged.filter((m) => m.group !== 'B3')) expect(r.date).toBe(row(r.id).date);
    for (const r of merged.filter((m) => m.group === 'B3')) expect(r.date > row(r.id).date).toBe(true);
  }, 120_000);

  it('refuses an unknown benchmark or a bad size (exit 2, nothing run, nothing written)', () => {
    const unknownDir = mkdtempSync(join(tmpdir(), 'clearsim-e2e-bench-'));
    const unknown = clearsim('bench', '--only', 'B1,B2', '--results', join(unknownDir, 'latest.json'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--only: "B2" is not one of B1, B1-scale, B3, B5, B6, B7, B8, B9, portfolio');
    expect(existsSync(join(unknownDir, 'latest.json'))).toBe(false);
    const size = clearsim('bench', '--events', '1e6');
    expect(size.code).toBe(2);
    expect(size.stderr).toContain('--events: "1e6" is not a whole number > 0');
    expect(size.stdout).toBe('');
  });
});
