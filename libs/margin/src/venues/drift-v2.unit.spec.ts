import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { emptyLedger, type Instrument } from '@clearsim/ledger';
import { parseFixed } from '@clearsim/money';
import { parseRulesYaml, type Rules } from '@clearsim/rules';
import { positionRisk } from '../risk';

/** The drift-v2 preset, as `--rules drift-v2` loads it. */
const load = (): Rules => parseRulesYaml(readFileSync(join(__dirname, '../../../rules/presets/drift-v2.yaml'), 'utf8'), 'drift-v2.yaml');
const f = parseFixed;

describe('drift-v2 preset', () => {
  // drift-labs/protocol-v2 programs/drift/src/state/perp_market/tests.rs new_hlm_imf_size: margin_ratio_initial
  // MARGIN_PRECISION/10, _maintenance /20, high_leverage 1/100 and 1/200, imf_factor 50 — the preset's ratios. Its
  // asserts: normal initial ratio at 1,000,000 base = 1,300; high-leverage initial at 0.1 and 1 base = 100, at 10 base = 104
  // ("slightly under 100x at 10 base"), at 3,000 base = 221; high-leverage maintenance at 3,000 = 67 ("hardly changed"),
  // at 300,000 = 313 ("changed more at large size"). The arithmetic is in libs/margin/src/venue-margin.unit.spec.ts.
  const rules = load();
  const hl: Rules = { ...rules, venueMargin: { ...rules.venueMargin!, highLeverageAccounts: ['hl'] } };
  const ledger = emptyLedger();
  const sol: Instrument = { id: 'SOL-PERP', kind: 'perpetual', settlementAsset: 'USDC', multiplier: f('1'), premiumStyle: false, settled: false, mark: f('100'), openInterest: 0n };
  ledger.instruments.set(sol.id, sol);
  const margins = (r: Rules, qty: string, account: string) => {
    const risk = positionRisk(ledger, r, { instrument: 'SOL-PERP', qty: f(qty), cost: 0n, isolatedMargin: 0n }, account);
    return { im: risk.initialMargin, mm: risk.maintenanceMargin };
  };

  it.each([
    // size (SOL), account, IM = notional × ratio, MM = notional × ratio (notional = size × 100)
    ['1000000', 'alice', '13000000', '9000000'], // 13 % (1,300); MM 500 − 100 + 500 = 900 → 9 %
    ['0.1', 'hl', '0.1', '0.05'], // 1 % of 10; MM max(50, 40 + 0) = 0.5 %
    ['1', 'hl', '1', '0.5'], // 1 % of 100
    ['10', 'hl', '10.4', '5'], // 1.04 % of 1,000; MM max(50, 41) = 0.5 %
    ['3000', 'hl', '6630', '2010'], // 2.21 % and 0.67 % of 300,000
    // at 300,000 SOL the size premium ⌊54,772,255 × 50 / 10^7⌋ = 273 lifts the normal ratio above its 1,000: high-leverage
    // pays the size-adjusted normal ratio 1,000 − 200 + 273 = 1,073 (10.73 % of 30,000,000); MM 313 → 3.13 %
    ['300000', 'hl', '3219000', '939000'],
  ])('size %s (%s)', (qty, account, im, mm) => {
    const r = account === 'hl' ? hl : rules;
    expect(margins(r, qty, account)).toEqual({ im: f(im), mm: f(mm) });
  });

  it('an account not in high-leverage mode pays the normal ratios at every size', () => {
    // 10 SOL: normal initial max(1,000, 800 + 1) = 1,000 → 10 % of 1,000 = 100; maintenance max(500, 400 + 1) = 5 % = 50
    expect(margins(hl, '10', 'alice')).toEqual({ im: f('100'), mm: f('50') });
  });
});
