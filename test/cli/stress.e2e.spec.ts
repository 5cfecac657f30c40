import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `clearsim stress` on the small fixture scenario: figures that depend on (seed, path index) only. */
const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'stress-small.yaml');
jest.setTimeout(120_000);

function clearsim(...args: string[]) {
  const result = spawnSync(join(ROOT, 'bin', 'clearsim'), args, { encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const stress = (...extra: string[]) => clearsim('stress', FIXTURE, '--paths', '2', '--seed', '3', '--rules', 'crypto-cross', '--rules', 'crypto-isolated', '--json', ...extra);

describe('clearsim stress', () => {
  it('2 paths give the same figures run twice, and with 1 or 2 workers', () => {
    const one = stress('--workers', '1');
    expect(one.code).toBe(0);
    const again = stress('--workers', '1');
    const two = stress('--workers', '2');
    expect(again.stdout).toBe(one.stdout);
    expect(two.stdout).toBe(one.stdout);

    const out = JSON.parse(one.stdout);
    expect(out.paths).toBe(2);
    expect(out.seed).toBe('3');
    expect(out.ruleSets.map((r: { rules: string }) => r.rules)).toEqual(['crypto-cross', 'crypto-isolated']);
    expect(out.byPath.map((p: { index: number }) => p.index)).toEqual([0, 1]);
    // the two paths are different draws: at least one figure differs between them
    expect(JSON.stringify(out.byPath[0].figures)).not.toBe(JSON.stringify(out.byPath[1].figures));
    // nearest rank over 2 paths: p50 is rank ⌈0.5 × 2⌉ = 1 (the better path), p95, p99 and worst rank 2 (the worse)
    for (const [r, set] of (out.ruleSets as Record<string, { p50: unknown; p95: unknown; worst: unknown }>[]).entries()) {
      const counts = out.byPath.map((p: { figures: { bankruptcies: number }[] }) => p.figures[r]!.bankruptcies);
      expect(set.bankruptcies!.p50).toBe(Math.min(...counts));
      expect(set.bankruptcies!.worst).toBe(Math.max(...counts));
      expect(set.bankruptcies!.p95).toBe(Math.max(...counts));
      const lows = out.byPath.map((p: { figures: { insuranceFundLow: string }[] }) => Number(p.figures[r]!.insuranceFundLow));
      expect(Number(set.insuranceFundLow!.p50)).toBe(Math.max(...lows)); // lower is worse: the best path first
      expect(Number(set.insuranceFundLow!.worst)).toBe(Math.min(...lows));
      // the fund never goes above its deposit (2000) nor below 0
      for (const low of lows) expect(low >= 0 && low <= 2000).toBe(true);
    }
  });

  it('prints a table that fits 100 columns', () => {
    const table = clearsim('stress', 'test/fixtures/stress-small.yaml', '--paths', '2', '--seed', '3', '--workers', '1');
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('rules: crypto-cross');
    expect(table.stdout).toContain('insurance fund low');
    for (const line of table.stdout.split('\n')) expect([...line].length).toBeLessThanOrEqual(100);
  });

  it('refuses bad parameters naming the field, and bad flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-stress-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, readFileSync(FIXTURE, 'utf8').replace('alpha: 0.08, beta: 0.9', 'alpha: 0.2, beta: 0.9'));
    const refused = clearsim('stress', bad, '--paths', '2');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('stress.garch.beta: alpha + beta must be < 1');

    writeFileSync(bad, readFileSync(FIXTURE, 'utf8').replace('omega: 0.000001', 'omega: -0.000001'));
    expect(clearsim('stress', bad, '--paths', '2').stderr).toContain('stress.garch.omega: must be >= 0');

    // each path's inputs are held at once: one-second marks over 40 days are refused at prices.every before any path
    // (`run` streams the same scenario: docs/scenarios.md, Limits)
    writeFileSync(bad, readFileSync(FIXTURE, 'utf8').replace('every: 60', 'every: 1').replace('at: 2024-01-01T02:00:00Z, price: "39000"', 'at: 2024-02-10T00:00:00Z, price: "39000"').replace(/^end: .*$/m, 'end: 2024-02-10T00:00:00Z'));
    const held = clearsim('stress', bad, '--paths', '2');
    expect(held.code).toBe(2);
    // BTC: 40 days of seconds (3,456,000); ETH: 2 h (7,200)
    expect(held.stderr).toContain('prices.every: the scenario would generate 3,463,200 price marks');
    expect(held.stderr).toContain('at most 3,000,000 generated inputs when they are all held at once');

    // a jump of mean log-size 800 (a factor e^800) takes any price out of the range a path can hold: refused before
    // any path, by stress and by run (the same scenario schema), naming the field and its range
    writeFileSync(bad, readFileSync(FIXTURE, 'utf8').replace('intensity: 0.02, mean: -0.03', 'intensity: 0.5, mean: 800'));
    for (const refusedJump of [clearsim('stress', bad, '--paths', '2', '--workers', '1'), clearsim('run', bad, '--store', 'memory:')]) {
      expect(refusedJump.code).toBe(2);
      expect(refusedJump.stderr).toContain('stress.jumps.mean: must be from -36.7368 to 36.7368 (the mean log-size of one jump; 36.7368 = ln(2^53 − 1)');
    }

    const noPaths = clearsim('stress', FIXTURE, '--paths', '0');
    expect(noPaths.code).toBe(2);
    expect(noPaths.stderr).toContain('--paths: "0" is not a whole number from 1 to 1000000');
  });
});

describe('clearsim stress on a path that cannot be priced', () => {
  it('stops every worker and says which instrument and when (exit 2: the scenario\'s settings cannot price it, the same way every time)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-stress-'));
    const file = join(dir, 'overflow.yaml');
    // jumps of mean log-size 30, one every other step: within the bounds of the stress block, but two of them take
    // BTC (4,000,000 steps of 0.01) past 2^53 − 1 steps
    writeFileSync(file, readFileSync(FIXTURE, 'utf8').replace('intensity: 0.02, mean: -0.03', 'intensity: 0.5, mean: 30'));
    const failed = clearsim('stress', file, '--paths', '3', '--workers', '2');
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/stress: the path of (BTC|ETH)-PERP overflows at 2024-01-01T\d\d:\d\d:00Z .*\(path \d\)/);
    expect(failed.stderr).toMatch(/lower the scenario's stress: jumps/);
    expect(failed.stdout).toBe('');
  });
});
