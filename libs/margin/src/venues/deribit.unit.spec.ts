import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { emptyLedger, type Instrument } from '@clearsim/ledger';
import { parseFixed } from '@clearsim/money';
import { parseRulesYaml, type Rules } from '@clearsim/rules';
import { positionRisk } from '../risk';

/** The deribit preset, as `--rules deribit` loads it. */
const load = (): Rules => parseRulesYaml(readFileSync(join(__dirname, '../../../rules/presets/deribit.yaml'), 'utf8'), 'deribit.yaml');
const f = parseFixed;

describe('deribit preset', () => {
  // Deribit support, "Linear Perpetual" (support.deribit.com/hc/en-us/articles/25944738177565), "Margin calculation
  // examples", BTC_USDC at 100,000 and SOL_USDC at 200, quoted per row.
  const rules = load();
  const ledger = emptyLedger();
  const listed = (id: string, mark: string): void => {
    const instrument: Instrument = { id, kind: 'perpetual', settlementAsset: 'USDC', multiplier: f('1'), premiumStyle: false, settled: false, mark: f(mark), openInterest: 0n };
    ledger.instruments.set(id, instrument);
  };
  listed('BTC_USDC', '100000');
  listed('SOL_USDC', '200');
  const margins = (instrument: string, qty: string) => {
    const risk = positionRisk(ledger, rules, { instrument, qty: f(qty), cost: 0n, isolatedMargin: 0n }, 'alice');
    return { im: risk.initialMargin, mm: risk.maintenanceMargin };
  };

  it.each([
    // "2% + 25 * 0.005% = 2.125% (position 25 BTC = 2,500,000 USDC) | 25 * 2.125% = 0.53125 BTC 0.53125 * 100,000 = 53,125 USDC";
    // "1% + 25 * 0.005% = 1.125% … 0.28125 BTC * 100,000 = 28,125 USDC"
    ['BTC_USDC', '25', '53125', '28125'],
    // "2% + 350 * 0.005% = 3.75% … 13.125 BTC * 100,000 = 1,312,500 USDC"; MM 1 % + 1.75 % = 2.75 % × 35,000,000 = 962,500
    ['BTC_USDC', '-350', '1312500', '962500'],
    // "4% + 25 * 0.0005% = 4.0125% … 1.003125 SOL * 200 = 200.625 USDC"; "2.0125% … 0.503125 SOL * 200 = 100.625 USDC"
    ['SOL_USDC', '25', '200.625', '100.625'],
    // "4% + 6000 * 0.0005% = 7% … 420 SOL * 200 = 84,000 USDC"; MM 2 % + 3 % = 5 % × 1,200,000 = 60,000
    ['SOL_USDC', '6000', '84000', '60000'],
  ])('%s %s', (instrument, qty, im, mm) => {
    expect(margins(instrument, qty)).toEqual({ im: f(im), mm: f(mm) });
  });

  it('a position of 0.001 BTC pays the base rates plus its size term: 2 % + 0.00000005 → 2.000005 (rate rounded up at 10^-8)', () => {
    // size 0.001 × 0.00005 = 0.00000005: IM rate 0.02000005 × notional 100 = 2.000005; MM rate 0.01000005 × 100 = 1.000005
    expect(margins('BTC_USDC', '0.001')).toEqual({ im: f('2.000005'), mm: f('1.000005') });
  });
});
