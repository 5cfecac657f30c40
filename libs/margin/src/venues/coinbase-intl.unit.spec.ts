import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { emptyLedger, type Instrument } from '@clearsim/ledger';
import { parseFixed } from '@clearsim/money';
import { parseRulesYaml, type Rules } from '@clearsim/rules';
import { positionRisk } from '../risk';

/** The coinbase-intl preset, as `--rules coinbase-intl` loads it. */
const load = (): Rules => parseRulesYaml(readFileSync(join(__dirname, '../../../rules/presets/coinbase-intl.yaml'), 'utf8'), 'coinbase-intl.yaml');
const f = parseFixed;

describe('coinbase-intl preset', () => {
  // Coinbase International Exchange Leverage and Margin Trading Policy: "Initial Margin is calculated as the max (BIM,
  // RP * √ CoH)"; "Maintenance Margin is calculated as (IM * ⅔)". The venue publishes no worked example and no RP or
  // ADTV: these are hand-computed from the formula with the preset's BIM 20 % (BTC-PERP's published default initial
  // margin) and its illustrative RP 1 and ADTV 10,000 BTC.
  const rules = load();
  const ledger = emptyLedger();
  const btc: Instrument = { id: 'BTC-PERP', kind: 'perpetual', settlementAsset: 'USDC', multiplier: f('1'), premiumStyle: false, settled: false, mark: f('50000'), openInterest: 0n };
  ledger.instruments.set(btc.id, btc);
  const margins = (qty: string) => {
    const risk = positionRisk(ledger, rules, { instrument: 'BTC-PERP', qty: f(qty), cost: 0n, isolatedMargin: 0n }, 'alice');
    return { im: risk.initialMargin, mm: risk.maintenanceMargin };
  };

  it('below the base: 100 BTC is 1 % of ADTV, 1 × √0.01 = 10 % < 20 %; IM 5,000,000 × 20 % = 1,000,000; MM ⌈⅔ × 1,000,000⌉', () => {
    expect(margins('100')).toEqual({ im: f('1000000'), mm: f('666666.66666667') });
  });

  it('above it: 1,000 BTC is 10 % of ADTV, √0.1 = 0.316227766… rounded up to 0.31622777; IM 50,000,000 × 0.31622777 = 15,811,388.5', () => {
    // MM = ⌈15,811,388.5 × 2 / 3⌉ = ⌈10,540,925.666…⌉ = 10,540,925.66666667
    expect(margins('-1000')).toEqual({ im: f('15811388.5'), mm: f('10540925.66666667') });
  });

  it('at 4 % of ADTV the size term reaches the base exactly: 400 BTC, √0.04 = 0.2', () => {
    // IM 20,000,000 × 20 % = 4,000,000; MM 2,666,666.66666667
    expect(margins('400')).toEqual({ im: f('4000000'), mm: f('2666666.66666667') });
  });
});
