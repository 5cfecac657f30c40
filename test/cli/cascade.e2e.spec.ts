import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * End-to-end: the cascade of docs/rules.md §11 through the built CLI — `run` logs the impacts and counts the
 * wave, `verify` re-decides them, `replay` folds them back; without `impact` the same inputs liquidate one account.
 */
const ROOT = join(__dirname, '..', '..');

function clearsim(...args: string[]) {
  const result = spawnSync(join(ROOT, 'bin', 'clearsim'), args, { encoding: 'utf8', cwd: ROOT });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const rules = (impact: boolean) => ({
  name: impact ? 'cascade' : 'no-impact',
  model: 'cross',
  marginCall: { graceSeconds: 0 },
  liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' },
  accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' },
  instruments: { '*': { tiers: [{ initialRate: '0.1', maintenanceRate: '0.05' }] } },
  ...(impact ? { impact: { instruments: { '*': { law: 'linear', k: '1', depth: '1000000', halfLifeSeconds: 600 } } } } : {}),
});

function inputsFile(impact: boolean): string {
  const ts = (s: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + s * 1000).toISOString();
  const lines = [
    { type: 'RulesActivated', ts: ts(0), rules: rules(impact) },
    { type: 'InstrumentListed', ts: ts(0), instrument: 'BTC-PERP', kind: 'perpetual' },
    ...[['mm', '1000000'], ['insurance', '1000'], ['alice', '1000'], ['bob', '1100']].map(([account, amount]) => ({ type: 'Deposited', ts: ts(0), account, asset: 'USD', amount })),
    { type: 'PriceUpdated', ts: ts(0), instrument: 'BTC-PERP', price: '10000' },
    { type: 'TradeExecuted', ts: ts(0), tradeId: 't1', instrument: 'BTC-PERP', buyer: 'alice', seller: 'mm', qty: '1', price: '10000' },
    { type: 'TradeExecuted', ts: ts(0), tradeId: 't2', instrument: 'BTC-PERP', buyer: 'bob', seller: 'mm', qty: '1', price: '10000' },
    { type: 'PriceUpdated', ts: ts(60), instrument: 'BTC-PERP', price: '9450' },
    { type: 'PriceUpdated', ts: ts(660), instrument: 'BTC-PERP', price: '9450' },
  ];
  const file = join(mkdtempSync(join(tmpdir(), 'clearsim-cascade-')), 'in.jsonl');
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return file;
}

describe('a liquidation cascade through the CLI', () => {
  it('run counts the wave, verify and replay prove it; without impact bob survives', () => {
    const store = `file:${mkdtempSync(join(tmpdir(), 'clearsim-cascade-store-'))}`;
    const run = clearsim('run', inputsFile(true), '--store', store, '--json');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    // alice's close-out moves the mark to 9,360.6975 and closes bob (one wave); the second price decays the residual
    expect(summary).toMatchObject({ liquidations: 2, markImpacts: 3, cascadeWaves: 1 });
    expect(summary.accounts.bob.status).toBe('liquidated');
    const verify = clearsim('verify', '--store', store, '--json');
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout).mismatches).toEqual([]);
    const replay = JSON.parse(clearsim('replay', '--store', store, '--json').stdout);
    expect(replay.outputHash).toBe(summary.outputHash);
    expect(clearsim('run', inputsFile(true), '--store', `file:${mkdtempSync(join(tmpdir(), 'clearsim-cascade-store-'))}`).stdout).toContain('impacts (cascade waves)');

    const without = JSON.parse(clearsim('run', inputsFile(false), '--store', `file:${mkdtempSync(join(tmpdir(), 'clearsim-cascade-store-'))}`, '--json').stdout);
    expect(without).toMatchObject({ liquidations: 1 });
    expect(without).not.toHaveProperty('cascadeWaves');
    expect(without.accounts.bob.status).not.toBe('liquidated');
  });
});
