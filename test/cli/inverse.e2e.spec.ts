import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * An inverse shard through the CLI: the XBTUSD incident (examples/incidents/2020-03-12-black-thursday-xbtusd.yaml,
 * its counts and outputHash pinned in incidents.e2e.spec.ts) run into a store, then `account` and `margin` label
 * every amount with the coin it is in.
 */
const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'clearsim');
jest.setTimeout(300_000);

function clearsim(args: string[]): string {
  const result = spawnSync(CLI, args, { encoding: 'utf8', timeout: 300_000 });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

describe('an inverse XBTUSD shard margined in XBT', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clearsim-inverse-'));
  const store = `file:${dir}/store`;
  beforeAll(() => clearsim(['run', join(ROOT, 'examples', 'incidents', '2020-03-12-black-thursday-xbtusd.yaml'), '--store', store, '--json']));

  it('account shows cash, margins and PnL in XBT, and the harmonic entry of the market maker', () => {
    const text = clearsim(['account', 'mm', '--store', store]);
    for (const label of ['cash (XBT)', 'equity (XBT)', 'initial margin (XBT)', 'maintenance margin (XBT)', 'unrealized PnL (XBT)']) expect(text).toContain(label);
    const json = JSON.parse(clearsim(['account', 'mm', '--store', store, '--json']));
    // mm sold every opening at 7,934.57: its entry is that price but for the rounding of the coin notionals it booked
    expect(Number(json.positions.XBTUSD.entryPrice)).toBeCloseTo(7934.57, 4);
    expect(Number(json.positions.XBTUSD.qty)).toBeLessThan(0);
  });

  it('margin prices a what-if trade in XBT: 10,000 contracts bought at the mark 5,622.74 need 1 % of 10000/5622.74 XBT of IM', () => {
    const json = JSON.parse(clearsim(['margin', 'xbt-short-01', '--trade', 'buy 10000 XBTUSD', '--store', store, '--json']));
    // xbt-short-01 is flat: notional 10000 / 5622.74 = 1.778492336… → 1.77849234 (up); IM 1 % of it = 0.0177849234 → 0.01778493 (up)
    expect(json.before.initialMargin).toBe('0');
    expect(json.after.initialMargin).toBe('0.01778493');
    expect(clearsim(['margin', 'xbt-short-01', '--trade', 'buy 10000 XBTUSD', '--store', store])).toContain('free collateral (XBT)');
  });
});
