import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * End-to-end: leveraged tokens (docs/rules.md §12) through the built CLI on the cascade incident —
 * `run` logs the rebalances, `verify` re-decides them, `replay` folds them back to the same hash.
 */
const ROOT = join(__dirname, '..', '..');
const SCENARIO = join(ROOT, 'examples', 'incidents', '2020-03-12-black-thursday-cascade.yaml');
jest.setTimeout(300_000);

function clearsim(...args: string[]) {
  const result = spawnSync(join(ROOT, 'bin', 'clearsim'), args, { encoding: 'utf8', cwd: ROOT, timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('leveraged tokens through the CLI', () => {
  it('run logs the rebalances (schedule and band), verify re-decides them, replay reaches the same hash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-tokens-'));
    const decisions = join(dir, 'decisions.jsonl');
    const run = clearsim('run', SCENARIO, '--store', `file:${dir}/store`, '--decisions', decisions, '--json');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.tokenRebalances).toBeGreaterThan(0);
    const logged = spawnSync('grep', ['-c', '"type":"TokenRebalanced"', decisions], { encoding: 'utf8' }).stdout.trim();
    expect(Number(logged)).toBe(summary.tokenRebalances);
    // both triggers happen on the day: the 00:02 rebalances and the intraday ones at 4×
    expect(spawnSync('grep', ['-c', '"reason":"schedule"', decisions], { encoding: 'utf8' }).stdout.trim()).not.toBe('0');
    expect(spawnSync('grep', ['-c', '"reason":"band"', decisions], { encoding: 'utf8' }).stdout.trim()).not.toBe('0');
    expect(spawnSync('grep', ['-c', '"cause":"rebalance"', decisions], { encoding: 'utf8' }).stdout.trim()).not.toBe('0');
    const verify = clearsim('verify', '--store', `file:${dir}/store`, '--json');
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout).mismatches).toEqual([]);
    expect(JSON.parse(clearsim('replay', '--store', `file:${dir}/store`, '--json').stdout).outputHash).toBe(summary.outputHash);
  });

  it('the holders created the units at the open; `account` shows them (table and --json), not as collateral', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-units-'));
    expect(clearsim('run', SCENARIO, '--store', `file:${dir}/store`, '--json').code).toBe(0);
    // eth-long-001 holds 5,000 BULL (20,000 / 4) and 5,000 ETHBULL (10,000 / 2)
    const json = JSON.parse(clearsim('account', 'eth-long-001', '--store', `file:${dir}/store`, '--json').stdout);
    expect(Object.keys(json.tokens)).toEqual(['BULL', 'ETHBULL']);
    expect(json.tokens.BULL.units).toBe('5000');
    expect(json.tokens.ETHBULL.units).toBe('5000');
    // value = units × NAV per unit (the NAV per unit truncated, the value rounded down: within units × 0.00000001 + 0.00000001)
    for (const { units, navPerUnit, value } of Object.values(json.tokens) as { units: string; navPerUnit: string; value: string }[]) {
      expect(Math.abs(Number(units) * Number(navPerUnit) - Number(value))).toBeLessThan(0.001);
    }
    const table = clearsim('account', 'eth-long-001', '--store', `file:${dir}/store`);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/value \(not collateral\)/);
    expect(table.stdout).toMatch(/ETHBULL\s*│\s*5000\s*│/);
  });
});
