import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { emptyLedger, ensureAccount, trade, type Instrument, type LedgerState } from '@clearsim/ledger';
import { parseFixed, toNumber, type Fixed } from '@clearsim/money';
import { parseRulesYaml, type Rules } from '@clearsim/rules';
import { computeRisk, positionRisk } from '../risk';
import { liquidationPrice } from '../liquidation-price';

/**
 * The venue margin presets on inverse (coin-margined) contracts: a position's size is its coin value
 * |qty| × face / mark — Deribit's "position size in BTC", Drift's base asset amount, Coinbase's size in the
 * underlying — and the requirements are in the coin; dYdX's open-interest caps (USD) compare the face value OI × face.
 */
const load = (preset: string): Rules => parseRulesYaml(readFileSync(join(__dirname, `../../../rules/presets/${preset}.yaml`), 'utf8'), `${preset}.yaml`);
const f = parseFixed;

function listInverse(ledger: LedgerState, id: string, face: string, mark: string): Instrument {
  const instrument: Instrument = { id, kind: 'perpetual', settlementAsset: 'BTC', multiplier: f(face), premiumStyle: false, settled: false, mark: f(mark), openInterest: 0n, inverse: true };
  ledger.instruments.set(id, instrument);
  return instrument;
}

const margins = (ledger: LedgerState, rules: Rules, instrument: string, qty: string) => {
  const risk = positionRisk(ledger, rules, { instrument, qty: f(qty), cost: 0n, isolatedMargin: 0n }, 'alice');
  return { im: risk.initialMargin, mm: risk.maintenanceMargin };
};

describe('deribit preset on the inverse BTC-PERPETUAL (face 10 USD, margined in BTC)', () => {
  // Deribit, "Futures" (test.deribit.com/pages/docs/futures, as stored; read 2026-12-06), the BTC inverse futures of
  // contract size 10 USD: "Initial margin: Starting with 2.0% (50x leverage trading), linearly increasing 0.5% per
  // 100BTC increase in position size. Examples: … Your position is 25 BTC in size: initial margin is 2% + 25/100 *0.5%
  // = 2.125% (= 0.53125 BTC) … 350 BTC in size: … 2% + 350/100 *0.5% = 3.75% (= 13.125 BTC)". 0.5 % per 100 BTC is the
  // preset's 0.005 % per BTC. Maintenance: the preset's 1 % + 0.005 % per BTC (Deribit support, "Linear Perpetual",
  // 2026-12-06: "25 * 1.125% = 0.28125 BTC"); the older futures page starts it at 1.5 %.
  const rules = load('deribit');
  const ledger = emptyLedger();
  listInverse(ledger, 'BTC-PERPETUAL', '10', '100000');

  it.each([
    // 25 BTC at 100,000 = 2,500,000 USD = 250,000 contracts of 10 USD; IM 25 × 2.125 % = 0.53125; MM 25 × 1.125 % = 0.28125
    ['250000', '0.53125', '0.28125'],
    // 350 BTC = 3,500,000 contracts (short): IM 350 × 3.75 % = 13.125; MM 350 × (1 % + 1.75 %) = 9.625
    ['-3500000', '13.125', '9.625'],
  ])('%s contracts: IM %s BTC, MM %s BTC', (qty, im, mm) => {
    expect(margins(ledger, rules, 'BTC-PERPETUAL', qty)).toEqual({ im: f(im), mm: f(mm) });
  });

  it('the size is the coin value at the mark: the same 250,000 contracts at 50,000 are 50 BTC', () => {
    // 2,500,000 / 50,000 = 50 BTC: IM 50 × (2 % + 0.25 %) = 1.125; MM 50 × (1 % + 0.25 %) = 0.625
    const low = emptyLedger();
    listInverse(low, 'BTC-PERPETUAL', '10', '50000');
    expect(margins(low, rules, 'BTC-PERPETUAL', '250000')).toEqual({ im: f('1.125'), mm: f('0.625') });
  });

  it("the liquidation price solves equity = MM with the size-scaled rate at that price (iterated), not at today's mark", () => {
    // alice: 2 BTC, long 250,000 contracts bought at 100,000 (25 BTC). At m, with x = 2,500,000 / m BTC:
    // equity 2 + 25 − x; MM x × (1 % + 0.005 % × x). 0.00005x² + 1.01x − 27 = 0 → x = (−1.01 + √1.0255) / 0.0001
    // = 26.69087… → m ≈ 93,665. The rate at today's size (1.125 %) would put it at 2,500,000 / 26.6977 ≈ 93,641.
    const l = emptyLedger();
    const perp = listInverse(l, 'BTC-PERPETUAL', '10', '100000');
    const alice = ensureAccount(l, 'alice', false)!;
    const mm = ensureAccount(l, 'mm', false)!;
    alice.cash = f('2');
    mm.cash = f('1000');
    trade(l, alice, mm, perp, f('250000'), f('100000'));
    const price = liquidationPrice(l, rules, alice, { account: 'alice' }, 'BTC-PERPETUAL')!;
    const x = (-1.01 + Math.sqrt(1.0255)) / 0.0001;
    expect(Math.abs(toNumber(price) - 2_500_000 / x)).toBeLessThan(0.01);
    const riskAt = (mark: Fixed) => {
      perp.mark = mark;
      return computeRisk(l, rules, alice);
    };
    // at the price (rounded up for a long) the account still meets MM; a dollar lower it does not
    const at = riskAt(price);
    expect(at.equity >= at.maintenanceMargin).toBe(true);
    const below = riskAt(price - f('1'));
    expect(below.equity < below.maintenanceMargin).toBe(true);
  });
});

describe('drift-v2 preset on an inverse contract: the size premium on the coin size (Drift sizes in the base asset)', () => {
  it('1,000,000 BTC of coin value pays the ratios of 1,000,000 base: IM 13 %, MM 9 %', () => {
    // 100,000,000 contracts of 1 USD at 100: 1,000,000 BTC. size 10^15 at 10^-9; premium ⌊√(10^16 + 1)⌋ × 50 / 10^7 = 500;
    // IM ratio 1,000 − 200 + 500 = 1,300 → 130,000 BTC; MM 500 − 100 + 500 = 900 → 90,000 BTC
    // (the linear SOL-PERP of libs/margin/src/venues/drift-v2.unit.spec.ts at 1,000,000 base: the same ratios)
    const ledger = emptyLedger();
    listInverse(ledger, 'BTCUSD', '1', '100');
    expect(margins(ledger, load('drift-v2'), 'BTCUSD', '100000000')).toEqual({ im: f('130000'), mm: f('90000') });
  });
});

describe('coinbase-intl preset on an inverse contract: √(size / ADTV) with both in the underlying (the coin)', () => {
  const ledger = emptyLedger();
  listInverse(ledger, 'BTCUSD', '100', '50000');

  it('100 BTC (50,000 contracts of 100 USD at 50,000) is 1 % of ADTV 10,000: √0.01 = 10 % < BIM 20 %', () => {
    // IM 100 × 20 % = 20 BTC; MM ⌈20 × 2 / 3⌉ = 13.33333334
    expect(margins(ledger, load('coinbase-intl'), 'BTCUSD', '50000')).toEqual({ im: f('20'), mm: f('13.33333334') });
  });

  it('1,000 BTC (500,000 contracts) is 10 % of ADTV: √0.1 → 0.31622777 (up), IM 316.22777, MM ⌈210.818513333…⌉', () => {
    expect(margins(ledger, load('coinbase-intl'), 'BTCUSD', '-500000')).toEqual({ im: f('316.22777'), mm: f('210.81851334') });
  });
});

describe('dydx-v4 preset on an inverse contract: the open-interest caps (USD) against the face value OI × face', () => {
  it('70,000,000 contracts of 1 USD open (70 M USD, whatever the mark) scale the Mid-Cap IMF to 525,000 ppm', () => {
    // IMF = 50,000 + ⌊950,000 × (70 M − 40 M) / (100 M − 40 M)⌋ = 525,000 ppm. alice: 700,000 contracts at 70,000 =
    // 10 BTC: IM 10 × 52.5 % = 5.25 BTC; MM 3 % = 0.3 BTC. Below the lower cap (OI 10 M USD): IM 5 % = 0.5 BTC.
    const rules = load('dydx-v4');
    const ledger = emptyLedger();
    const perp = listInverse(ledger, 'BTCUSD', '1', '70000');
    perp.openInterest = f('10000000');
    expect(margins(ledger, rules, 'BTCUSD', '700000')).toEqual({ im: f('0.5'), mm: f('0.3') });
    perp.openInterest = f('70000000');
    expect(margins(ledger, rules, 'BTCUSD', '700000')).toEqual({ im: f('5.25'), mm: f('0.3') });
    // the same open interest at half the mark: still 70 M USD of face, still 52.5 % — of 20 BTC now
    perp.mark = f('35000');
    expect(margins(ledger, rules, 'BTCUSD', '700000')).toEqual({ im: f('10.5'), mm: f('0.6') });
  });
});
