import { tradeNotional } from '@clearsim/ledger';
import { parseFixed, type Fixed } from '@clearsim/money';
import { bankruptcyQuote, faceValue, feeFillPrice, fillablePrice, insuranceFundDelta, liquidatableQty, partialLiquidationCap, qtyToCoverShortage } from './venue-liquidation';

const f = (s: string): Fixed => parseFixed(s);

/*
 * The venue liquidation figures on an inverse (coin-margined) contract, worked by hand: an XBTUSD-like perpetual of
 * face 1 USD, margined in BTC, at a mark of 10,000. 1,000 contracts are worth 1,000 / 10,000 = 0.1 BTC; at a
 * maintenance rate of 5 % their maintenance margin (PMMR = TMMR) is 0.005 BTC. Amounts of money are in BTC; the
 * sizes a venue sets in USD (block and minimum notionals, the partial threshold) compare the face value, contracts × 1 USD.
 */
const inverse = (qty: string, netCollateral: string) => ({
  qty: f(qty),
  mark: f('10000'),
  multiplier: f('1'),
  netCollateral: f(netCollateral),
  totalMaintenance: f('0.005'),
  positionMaintenance: f('0.005'),
  inverse: true,
});

describe("dYdX's fillable price on an inverse contract: the coin amount ABR × SMMR × PMMR given up against the mark", () => {
  it('is the mark at full health', () => {
    // TNC 0.006 ≥ TMMR 0.005: ABR = clamp(1 − 1.2, 0, 1) = 0
    expect(fillablePrice(inverse('1000', '0.006'), f('1'), f('0.1'))).toBe(f('10000'));
    expect(fillablePrice(inverse('-1000', '0.006'), f('1'), f('0.1'))).toBe(f('10000'));
  });

  it('at half health gives up X = 0.5 × 0.1 × 0.005 = 0.00025 BTC: a long sells at 1,000 / (0.1 + 0.00025) = 9,975.06234414 (up)', () => {
    // F/p = F/mark + X: p = 10,000 × 1,000 / (1,000 + 0.00025 × 10,000) = 10,000,000 / 1,002.5 = 9,975.062344139… → up (the account's favour)
    expect(fillablePrice(inverse('1000', '0.0025'), f('1'), f('0.1'))).toBe(f('9975.06234414'));
    // a short buys back at F/p = F/mark − X: p = 10,000,000 / (1,000 − 2.5) = 10,025.062656641… → down (its favour)
    expect(fillablePrice(inverse('-1000', '0.0025'), f('1'), f('0.1'))).toBe(f('10025.06265664'));
  });

  it('at bankruptcy and beyond gives up the whole SMMR × PMMR = 0.0005 BTC', () => {
    // ABR 1: p = 10,000,000 / (1,000 + 5) = 9,950.248756218… → 9,950.24875622; TNC −0.001 clamps ABR to 1: the same
    expect(fillablePrice(inverse('1000', '0'), f('1'), f('0.1'))).toBe(f('9950.24875622'));
    expect(fillablePrice(inverse('1000', '-0.001'), f('1'), f('0.1'))).toBe(f('9950.24875622'));
    // a long's coin loss at that price: 1,000 / 9,950.24875622 − 0.1 = 0.1005 − 0.1 = 0.0005 BTC (to 10^-8)
    expect(tradeNotional(f('1000'), f('9950.24875622'), f('1'), true) - f('0.1')).toBe(f('0.0005'));
  });
});

describe("dYdX's bankruptcy value and insurance-fund delta on an inverse contract (in BTC)", () => {
  // a long pays the closed part's coin value to close it: its fill quote is −|qty| × face / price
  const longFill = (price: string): Fixed => -tradeNotional(f('1000'), f(price), f('1'), true);

  it('a bankrupt long (TNC −0.001 BTC): bankruptcy value −0.1 + 0.001 = −0.099; filled at the mark the fund pays 0.001', () => {
    // −DNNV = −1,000 / 10,000 = −0.1; TNC × |DMMR| / TMMR = −0.001 × 0.005 / 0.005 = −0.001; −0.1 − (−0.001) = −0.099
    const bankruptcy = bankruptcyQuote(f('1000'), f('1000'), f('10000'), f('1'), f('-0.001'), f('0.005'), f('0.005'), true);
    expect(bankruptcy).toBe(f('-0.099'));
    // the bankruptcy price: 1,000 / 0.099 = 10,101.01 — closing there leaves the account at zero; at the mark the fill
    // quote is −0.1: delta −0.1 − (−0.099) = −0.001, the fund pays it
    expect(insuranceFundDelta(longFill('10000'), bankruptcy, f('0.015'))).toBe(f('-0.001'));
  });

  it('a bankrupt short (TNC −0.001): bankruptcy value 0.1 + 0.001 = 0.101; at the mark the fund pays 0.001', () => {
    const bankruptcy = bankruptcyQuote(f('1000'), f('-1000'), f('10000'), f('1'), f('-0.001'), f('0.005'), f('0.005'), true);
    expect(bankruptcy).toBe(f('0.101'));
    expect(insuranceFundDelta(tradeNotional(f('1000'), f('10000'), f('1'), true), bankruptcy, f('0.015'))).toBe(f('-0.001'));
  });

  it('a long with TNC 0.002 BTC left: the surplus 0.002 is capped at maxLiquidationFee × |fill|', () => {
    // bankruptcy −0.1 − 0.002 = −0.102; filled at the mark (−0.1) the surplus is 0.002
    const bankruptcy = bankruptcyQuote(f('1000'), f('1000'), f('10000'), f('1'), f('0.002'), f('0.005'), f('0.005'), true);
    expect(bankruptcy).toBe(f('-0.102'));
    // cap 1.5 % × 0.1 = 0.0015 < 0.002: the fund keeps 0.0015
    expect(insuranceFundDelta(longFill('10000'), bankruptcy, f('0.015'))).toBe(f('0.0015'));
    // cap 5 % × 0.1 = 0.005 > 0.002: the fund takes the whole surplus
    expect(insuranceFundDelta(longFill('10000'), bankruptcy, f('0.05'))).toBe(f('0.002'));
  });
});

describe('block limits, step rounding and minimum notional on an inverse contract: sizes in USD face value', () => {
  // 1,000,000 contracts of 1 USD (100 BTC at 10,000): face value 1,000,000 USD
  const limits = { minPositionNotional: f('1000'), maxPositionPortion: f('0.1') };

  it('takes maxPositionPortion of the face value: 10 % of 1,000,000 USD = 100,000 contracts, whatever the mark', () => {
    expect(liquidatableQty(f('1000000'), f('10000'), f('1'), limits, undefined, f('100'), true)).toBe(f('100000'));
    expect(liquidatableQty(f('-1000000'), f('5000'), f('1'), limits, undefined, f('100'), true)).toBe(f('100000'));
  });

  it("the account's notional left in the block (25,555 USD → 25,555 contracts) rounded down to the step (1,000): 25,000", () => {
    expect(liquidatableQty(f('1000000'), f('10000'), f('1'), limits, f('25555'), f('1000'), true)).toBe(f('25000'));
    // below one step: at least one step
    expect(liquidatableQty(f('1000000'), f('10000'), f('1'), limits, f('500'), f('1000'), true)).toBe(f('1000'));
  });

  it('a position whose face value is under the minimum notional goes whole: 800 contracts = 800 USD < 1,000 USD', () => {
    expect(liquidatableQty(f('800'), f('10000'), f('1'), limits, undefined, f('100'), true)).toBe(f('800'));
  });

  it("Hyperliquid's partial cap compares the face value: 20 % of a 1,000,000 USD position above 100,000 USD", () => {
    expect(faceValue(f('-1000000'), f('1'))).toBe(f('1000000'));
    expect(partialLiquidationCap(f('1000000'), faceValue(f('1000000'), f('1')), { aboveNotional: f('100000'), portion: f('0.2') }, false, f('1'))).toBe(f('200000'));
    // 90,000 contracts of 1 USD: 90,000 USD ≤ 100,000 — no cap
    expect(partialLiquidationCap(f('90000'), faceValue(f('90000'), f('1')), { aboveNotional: f('100000'), portion: f('0.2') }, false, f('1'))).toBeUndefined();
  });
});

describe("Drift's shortage sizing and the liquidator's price on an inverse contract (in BTC)", () => {
  it('covers a shortage of 0.001 BTC: per contract MM 0.000005 − fees 0.02 × 0.0001 = 0.000003 → 333.33333333 contracts', () => {
    // PMMR 0.005 / 1,000 contracts = 0.000005 BTC; a contract's coin notional 1 / 10,000 = 0.0001 BTC, × (1 % + 1 %) = 0.000002;
    // 0.001 / 0.000003 = 333.333… → down at 10^-8
    expect(qtyToCoverShortage(f('0.001'), f('0.005'), f('1000'), f('10000'), f('1'), f('0.01'), f('0.01'), true)).toBe(f('333.33333333'));
    expect(qtyToCoverShortage(f('0.001'), f('0.005'), f('-1000'), f('10000'), f('1'), f('0.01'), f('0.01'), true)).toBe(f('333.33333333'));
    // fees of 5 % each: 0.0001 × 0.1 = 0.00001 > 0.000005 — a contract frees nothing net: close it all (undefined)
    expect(qtyToCoverShortage(f('0.001'), f('0.005'), f('1000'), f('10000'), f('1'), f('0.05'), f('0.05'), true)).toBeUndefined();
  });

  it('prices the liquidator fee so the coin given up is fee × notional: a long at 10,000 / 1.01, a short at 10,000 / 0.99', () => {
    // 10,000 / 1.01 = 9,900.990099009… → down; 1,000 contracts: 1,000 / 9,900.990099 − 0.1 = 0.101 − 0.1 = 0.001 = 1 % of 0.1 BTC
    expect(feeFillPrice(f('10000'), f('1000'), f('0.01'), true)).toBe(f('9900.990099'));
    expect(tradeNotional(f('1000'), f('9900.990099'), f('1'), true) - f('0.1')).toBe(f('0.001'));
    // 10,000 / 0.99 = 10,101.010101010… → up; the short pays 0.1 − 1,000 / 10,101.01010102 = 0.1 − 0.099 = 0.001
    expect(feeFillPrice(f('10000'), f('-1000'), f('0.01'), true)).toBe(f('10101.01010102'));
    expect(f('0.1') - tradeNotional(f('1000'), f('10101.01010102'), f('1'), true)).toBe(f('0.001'));
    // a linear contract keeps mark × (1 ∓ fee)
    expect(feeFillPrice(f('10000'), f('1'), f('0.01'), false)).toBe(f('9900'));
  });
});
