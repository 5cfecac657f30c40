import { parseFixed, type Fixed } from '@clearsim/money';
import { bankruptcyQuote, escalatedLiquidationFee, fillablePrice, impliedInsuranceFee, insuranceFundDelta, liquidatableQty, partialLiquidationCap, qtyToCoverShortage, rotationOffset } from './venue-liquidation';

const f = (s: string): Fixed => parseFixed(s);

/*
 * dYdX v4 worked examples: dydxprotocol/v4-chain protocol/x/clob/keeper/liquidations_test.go
 * (TestGetFillablePrice, TestGetLiquidationInsuranceFundDelta, TestGetMaxAndMinPositionNotionalLiquidatable),
 * on their BTC-USD perpetual with 20 % initial and 10 % maintenance margin and an oracle price of $50,000.
 * Their quantities are in base quantums (10^-10 BTC) and quote quantums (10^-6 USDC); here in BTC and USD.
 */
describe('dYdX fillable price: mark ∓ ABR × SMMR × PMMR / |PS|, ABR = clamp(BA × (1 − TNC/TMMR), 0, 1)', () => {
  // 0.1 BTC at $50,000: notional 5,000, PMMR = TMMR = 10 % × 5,000 = 500
  const long = (usdc: string) => ({ qty: f('0.1'), mark: f('50000'), multiplier: f('1'), netCollateral: f('5000') + f(usdc), totalMaintenance: f('500'), positionMaintenance: f('500') });
  const short = (usdc: string) => ({ ...long(usdc), qty: f('-0.1'), netCollateral: f(usdc) - f('5000') });

  it("reproduces dYdX's examples: a long slightly below maintenance", () => {
    // "one long position that is slightly below maintenance margin requirements": USDC −4,501 → TNC = 5,000 − 4,501 = 499;
    // ABR = 1 × (1 − 499/500) = 0.002; spread = 0.002 × 0.1 × 500 = 0.1 → (5,000 − 0.1) / 0.1 = 49,999 (expectedFillablePrice 49_999/100 subticks)
    expect(fillablePrice(long('-4501'), f('1'), f('0.1'))).toBe(f('49999'));
    // bankruptcyAdjustmentPpm 2,000,000: ABR 0.004 → spread 0.2 → 49,998
    expect(fillablePrice(long('-4501'), f('2'), f('0.1'))).toBe(f('49998'));
    // spreadToMaintenanceMarginRatioPpm 200,000: 0.002 × 0.2 × 500 = 0.2 → 49,998
    expect(fillablePrice(long('-4501'), f('1'), f('0.2'))).toBe(f('49998'));
  });

  it("reproduces dYdX's examples: a short slightly below maintenance", () => {
    // USDC 5,499 short 0.1: TNC = 5,499 − 5,000 = 499 → bought back at 50,000 + 0.1/0.1 = 50,001; BA 2 → 50,002
    expect(fillablePrice(short('5499'), f('1'), f('0.1'))).toBe(f('50001'));
    expect(fillablePrice(short('5499'), f('2'), f('0.1'))).toBe(f('50002'));
    expect(fillablePrice(short('5499'), f('1'), f('0.2'))).toBe(f('50002'));
  });

  it('is the mark at full health, halfway at half health, the whole spread at bankruptcy and beyond', () => {
    // full health: TNC 600 ≥ TMMR 500 → ABR = clamp(1 − 1.2) = 0 → 50,000
    expect(fillablePrice(long('-4400'), f('1'), f('0.1'))).toBe(f('50000'));
    // half: TNC 250 → ABR 0.5 → spread 0.5 × 0.1 × 500 = 25 → (5,000 − 25) / 0.1 = 49,750
    expect(fillablePrice(long('-4750'), f('1'), f('0.1'))).toBe(f('49750'));
    // at bankruptcy: TNC 0 → ABR 1 → spread 50 → 49,500; below it (TNC −100) ABR is clamped to 1: still 49,500
    expect(fillablePrice(long('-5000'), f('1'), f('0.1'))).toBe(f('49500'));
    expect(fillablePrice(long('-5100'), f('1'), f('0.1'))).toBe(f('49500'));
  });

  it("rounds in the account's favour, as dYdX rounds subticks (a long's sell up, a short's buy down)", () => {
    // PMMR 1: spread = 0.002 × 0.1 × 1 = 0.0002 → per BTC 0.002 → 49,999.998 (exact)
    expect(fillablePrice({ ...long('-4501'), positionMaintenance: f('1') }, f('1'), f('0.1'))).toBe(f('49999.998'));
    // 0.3 BTC, PMMR 500, ABR 0.002: 0.1 / 0.3 = 0.333333333… → the offset 0.33333333 (down): long 49,999.66666667, short 50,000.33333333
    const third = { ...long('-4501'), qty: f('0.3') };
    expect(fillablePrice(third, f('1'), f('0.1'))).toBe(f('49999.66666667'));
    expect(fillablePrice({ ...third, qty: f('-0.3') }, f('1'), f('0.1'))).toBe(f('50000.33333333'));
  });
});

describe("dYdX bankruptcy value and the insurance fund's delta (max liquidation fee)", () => {
  // TestGetLiquidationInsuranceFundDelta: 0.1 BTC long with USDC −5,100 (TNC −100), or short with USDC 4,900 (TNC −100);
  // TMMR = PMMR = 500; closing all of it releases 500 of MMR
  const longBankruptcy = bankruptcyQuote(f('0.1'), f('0.1'), f('50000'), f('1'), f('-100'), f('500'), f('500'));
  const shortBankruptcy = bankruptcyQuote(f('0.1'), f('-0.1'), f('50000'), f('1'), f('-100'), f('500'), f('500'));

  it('the bankruptcy value: −DNNV − TNC × |DMMR| / TMMR', () => {
    // long: 5,000 − (−100 × 500 / 500) = 5,100 ("Bankruptcy price in quote quantums is 5,100,000,000"); short: −5,000 + 100 = −4,900
    expect(longBankruptcy).toBe(f('5100'));
    expect(shortBankruptcy).toBe(f('-4900'));
  });

  it("apportions one position's bankruptcy value in a cross account by its share of the total maintenance margin", () => {
    // two positions, TMMR 1,000 (this one 400), TNC 150: closing 0.04 of 0.1 BTC at 50,000 (notional 2,000) releases
    // 160 of MMR: 2,000 − 150 × 160 / 1,000 = 2,000 − 24 = 1,976
    expect(bankruptcyQuote(f('0.04'), f('0.1'), f('50000'), f('1'), f('150'), f('1000'), f('160'))).toBe(f('1976'));
    // rounded up: TNC 1e-8 × 1 / 3 = 0.0000000033… floored to 0 → 2,000 exactly (a rounded-up bankruptcy value never needs the fund)
    expect(bankruptcyQuote(f('0.04'), f('0.1'), f('50000'), f('1'), f('0.00000001'), f('3'), f('1'))).toBe(f('2000'));
    // a negative TNC is floored too (towards −∞), so the value still rounds up: −1e-8 / 3 → −1e-8 → 2,000.00000001
    expect(bankruptcyQuote(f('0.04'), f('0.1'), f('50000'), f('1'), f('-0.00000001'), f('3'), f('1'))).toBe(f('2000.00000001'));
  });

  it('above the fee cap the fund keeps maxLiquidationFee × |fill|', () => {
    // sold at 56,100 (10 % above bankruptcy): fill 5,610; surplus 510; 0.5 % × 5,610 = 28.05 < 510 → 28.05 ("28_050_000")
    expect(insuranceFundDelta(f('5610'), longBankruptcy, f('0.005'))).toBe(f('28.05'));
    // MaxLiquidationFeePpm 25,000: 2.5 % × 5,610 = 140.25 ("140_250_000")
    expect(insuranceFundDelta(f('5610'), longBankruptcy, f('0.025'))).toBe(f('140.25'));
    // short bought back at 44,100: fill −4,410 vs −4,900: surplus 490; 0.5 % × 4,410 = 22.05 ("22_050_000"); 2.5 % → 110.25
    expect(insuranceFundDelta(f('-4410'), shortBankruptcy, f('0.005'))).toBe(f('22.05'));
    expect(insuranceFundDelta(f('-4410'), shortBankruptcy, f('0.025'))).toBe(f('110.25'));
  });

  it('between bankruptcy and the cap the fund takes the whole surplus', () => {
    // MaxLiquidationFeePpm 1,000,000: min(5,610, 510) = 510 ("510_000_000"); short: 490 ("490_000_000")
    expect(insuranceFundDelta(f('5610'), longBankruptcy, f('1'))).toBe(f('510'));
    expect(insuranceFundDelta(f('-4410'), shortBankruptcy, f('1'))).toBe(f('490'));
    // sold at 51,051 (0.1 % above): surplus 5.1 < 0.5 % × 5,105.1 = 25.5255 → 5.1 ("5_100_000"); short at 48,951 → 4.9 ("4_900_000")
    expect(insuranceFundDelta(f('5105.1'), longBankruptcy, f('0.005'))).toBe(f('5.1'));
    expect(insuranceFundDelta(f('-4895.1'), shortBankruptcy, f('0.005'))).toBe(f('4.9'));
    // at the bankruptcy price: 0
    expect(insuranceFundDelta(f('5100'), longBankruptcy, f('0.005'))).toBe(0n);
  });

  it('below bankruptcy the fund pays the difference', () => {
    // sold at 50,490 (1 % below): 5,049 − 5,100 = −51 ("-51_000_000"); short bought at 49,490: −4,949 + 4,900 = −49
    expect(insuranceFundDelta(f('5049'), longBankruptcy, f('0.005'))).toBe(f('-51'));
    expect(insuranceFundDelta(f('-4949'), shortBankruptcy, f('0.005'))).toBe(f('-49'));
  });
});

describe('dYdX liquidation size: position and account block limits, step size', () => {
  const btc = (qty: string, limits: { min: string; portion: string }, accountLeft: string | undefined, step: string) =>
    liquidatableQty(f(qty), f('50000'), f('1'), { minPositionNotional: f(limits.min), maxPositionPortion: f(limits.portion) }, accountLeft === undefined ? undefined : f(accountLeft), f(step));

  it("reproduces dYdX's position limits", () => {
    // TestGetMaxAndMinPositionNotionalLiquidatable: 1 BTC ($50,000), portion 100 % → all of it; portion 50 % → $25,000 = 0.5 BTC
    expect(btc('1', { min: '0.0001', portion: '1' }, undefined, '0.00000001')).toBe(f('1'));
    expect(btc('1', { min: '0.0001', portion: '0.5' }, undefined, '0.00000001')).toBe(f('0.5'));
    // "min and max notional liquidatable can be overridden": a $5 position with a $10 minimum goes whole
    expect(btc('0.0001', { min: '10', portion: '0.5' }, undefined, '0.00000001')).toBe(f('0.0001'));
  });

  it('the account limit of the block, step rounding down, and at least one step', () => {
    // portion 50 % → 0.5 BTC; step 0.03 → ⌊0.5 / 0.03⌋ = 16 steps = 0.48
    expect(btc('1', { min: '0', portion: '0.5' }, undefined, '0.03')).toBe(f('0.48'));
    // account has $10,000 left in the block: 0.2 BTC, a multiple of 0.01
    expect(btc('1', { min: '0', portion: '0.5' }, '10000', '0.01')).toBe(f('0.2'));
    // $1 left: 0.00002 BTC rounds down to 0 steps → one step, 0.01
    expect(btc('1', { min: '0', portion: '0.5' }, '1', '0.01')).toBe(f('0.01'));
    // a position of at most one step goes whole
    expect(btc('0.01', { min: '0', portion: '0.5' }, undefined, '0.01')).toBe(f('0.01'));
  });
});

/*
 * Drift v2 worked examples: drift-labs/protocol-v2 programs/drift/src/math/liquidation/tests.rs
 * (calculate_base_asset_amount_to_cover_margin_shortage, get_liquidation_fee).
 */
describe('Drift: the size that covers the margin shortage, and the escalating liquidator fee', () => {
  // $10 shortage, margin ratio 10 % ("10x leverage"), oracle $100; the position's MM is 10 % × 100 × qty (here qty 5: MM 50)
  const cover = (lf: string, iff: string) => qtyToCoverShortage(f('10'), f('50'), f('5'), f('100'), f('1'), f(lf), f(iff));

  it("reproduces Drift's examples", () => {
    // zero_percent_liquidation_fee: 10 / (100 × 0.1) = 1 base ("must lose 1 base")
    expect(cover('0', '0')).toBe(f('1'));
    // one_percent_liquidation_fee: 10 / (100 × (0.1 − 0.01)) = 10/9 = 1.11111111 (rounded down; Drift: BASE_PRECISION × 10 / 9)
    expect(cover('0.01', '0')).toBe(f('1.11111111'));
    // one_percent_liquidation_fee_and_one_percent_if_liquidation_fee: 10 / (100 × 0.09 − 100 × 0.01) = 1.25 ("1250000000")
    expect(cover('0.01', '0.01')).toBe(f('1.25'));
  });

  it('a unit that frees nothing net of fees is closed whole (Drift returns u64::MAX)', () => {
    expect(cover('0.1', '0')).toBeUndefined();
  });

  it("reproduces Drift's implied insurance fee (calculate_perp_if_fee)", () => {
    // 10 base at $100 (notional 1,000), margin ratio 5 % (MM 50), liquidator fee 1 %, max IF fee 5 %
    const fee = (shortage: string, liquidatorFee = '0.01') => impliedInsuranceFee(f(shortage), f('50'), f('1000'), f(liquidatorFee), f('0.05'));
    expect(fee('20')).toBe(f('0.019')); // (50 − 20) / 1,000 − 1 % = 2 %, × 0.95 ("19000 // 2% * .95")
    expect(fee('1')).toBe(f('0.03705')); // 4.9 % − 1 % = 3.9 %, × 0.95 ("37050 // 3.9% * .95")
    expect(fee('1000')).toBe(0n); // the shortage exceeds the margin: nothing left ("0")
    expect(fee('20', '0.1')).toBe(0n); // a 10 % liquidator fee leaves nothing ("large_liquidator_fee" → 0)
    expect(impliedInsuranceFee(f('0'), f('50'), f('1000'), f('0'), f('0.01'))).toBe(f('0.01')); // at most the max fee
  });

  it("reproduces Drift's escalating fee (one second here for one slot there)", () => {
    // get_liquidation_fee: base 2 %, max 5 %, grace 1,500 slots, +0.000001 per slot
    const fee = (elapsed: number) => escalatedLiquidationFee(f('0.02'), f('0.05'), elapsed, 1500, f('0.000001'));
    expect(fee(10)).toBe(f('0.02')); // within the grace
    expect(fee(10_000)).toBe(f('0.03')); // 2 % + 10,000 × 0.0001 % = 3 %
    expect(fee(100_000)).toBe(f('0.05')); // 2 % + 10 % capped at 5 %
    expect(fee(1500)).toBe(f('0.0215')); // the grace ends: 2 % + 1,500 × 0.0001 % (the whole elapsed time counts, as Drift's)
  });
});

describe("Drift's escalating fee in the preset's units: 1,500 slots ≈ 600 s, +0.000001 per slot ≈ +0.0000025 per second", () => {
  // drift-v2: base (liquidator_fee) 1 %, max = min(3 × 1 %, maintenance ratio 5 %) = 3 % (PerpMarket.get_max_liquidation_fee)
  const fee = (elapsed: number) => escalatedLiquidationFee(f('0.01'), f('0.03'), elapsed, 600, f('0.0000025'));
  it('the base before the grace, base + elapsed × rate after it, the cap at last', () => {
    expect(fee(599)).toBe(f('0.01')); // still within the 600 s grace
    expect(fee(600)).toBe(f('0.0115')); // 1 % + 600 × 0.00025 % = 1.15 % (Drift: 1 % + 1,500 slots × 0.0001 %)
    expect(fee(2400)).toBe(f('0.016')); // 1 % + 2,400 × 0.00025 % = 1.6 % (40 min)
    expect(fee(8000)).toBe(f('0.03')); // 1 % + 2 % = 3 %: the cap, reached at 8,000 s
    expect(fee(50_000)).toBe(f('0.03'));
  });
});

describe("Hyperliquid's partial liquidation: 20 % of a position above $100,000, the whole one during the 30 s cooldown", () => {
  const partial = { aboveNotional: f('100000'), portion: f('0.2') };
  it('caps a large position at the portion, rounded down to the step, at least one step', () => {
    // 3 BTC at $50,000 = $150,000 > $100,000: 20 % × 3 = 0.6 BTC
    expect(partialLiquidationCap(f('3'), f('150000'), partial, false, 1n)).toBe(f('0.6'));
    // 2.99999 BTC, step 0.001: 0.599998 → 0.599
    expect(partialLiquidationCap(f('2.99999'), f('149999.5'), partial, false, f('0.001'))).toBe(f('0.599'));
    // a portion below one step is one step
    expect(partialLiquidationCap(f('0.0001'), f('100001'), partial, false, f('0.001'))).toBe(f('0.0001'));
  });
  it('no cap at or below the notional, nor during the cooldown', () => {
    expect(partialLiquidationCap(f('2'), f('100000'), partial, false, 1n)).toBeUndefined(); // $100,000 is not above
    expect(partialLiquidationCap(f('3'), f('150000'), partial, true, 1n)).toBeUndefined();
  });
});

describe("dYdX's choice of the position: a pseudo-random rotation seeded by the time in seconds", () => {
  it('is the same within one second and for the same n, within [0, n), and varies across seconds', () => {
    expect(rotationOffset(1_000_000, 5)).toBe(rotationOffset(1_000_999, 5));
    const offsets = Array.from({ length: 200 }, (_, s) => rotationOffset(s * 1000, 3));
    expect(offsets.every((o) => o >= 0 && o < 3)).toBe(true);
    // each of the three offsets is drawn (a generator stuck on one would fail)
    expect(new Set(offsets).size).toBe(3);
    expect(rotationOffset(123_000, 1)).toBe(0);
  });
});
