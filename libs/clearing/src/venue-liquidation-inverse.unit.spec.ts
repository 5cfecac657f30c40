import { at, Given, rulesFor } from './testing/given';

/**
 * dYdX's liquidation on an inverse (coin-margined) contract, end to end: XBTUSD of face 1 USD margined in BTC, grace 0,
 * IM 20 %, MM 10 % of the coin notional |qty| / mark, no fee or slippage, an insurance fund of 10 BTC. The fillable
 * price gives up ABR × SMMR × PMMR BTC against the mark (a coin amount moves 1/price); the bankruptcy value and the
 * fund's take or draw are in BTC (docs/rules.md, "Venue mechanics on inverse instruments").
 */
const XBTUSD = { instrument: 'XBTUSD', kind: 'perpetual', underlying: 'BTC', settlementAsset: 'BTC', multiplier: '1', payoff: 'inverse' };

function book(venueLiquidation: Record<string, unknown>): Given {
  const g = new Given(
    rulesFor({
      marginCall: { graceSeconds: 0 },
      liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' },
      instruments: { '*': { tiers: [{ initialRate: '0.2', maintenanceRate: '0.1' }] } },
      venueLiquidation,
    }),
    XBTUSD,
  );
  g.deposit('mm', '1000').deposit('insurance', '10').deposit('alice', '0.021');
  g.price('10000', 'XBTUSD');
  return g;
}

const DYDX = { fillablePrice: { bankruptcyAdjustment: '1', spreadToMaintenanceMarginRatio: '0.1' }, maxLiquidationFee: '0.015' };

describe("dYdX's liquidation of an inverse position (rules venueLiquidation, in BTC)", () => {
  it('a bankrupt long: filled at the fillable price, the fund pays the fill short of the bankruptcy value', () => {
    const g = book(DYDX);
    g.trade('alice', 'mm', '1000', '10000', 'XBTUSD'); // long 1,000 contracts = 0.1 BTC at 10,000
    // mark 8,000: the position is worth −1,000 / 8,000 = −0.125 against its cost −0.1: TNC = 0.021 − 0.025 = −0.004;
    // TMMR = PMMR = 10 % × 0.125 = 0.0125. ABR 1 (TNC < 0): the long gives up X = 0.1 × 0.0125 = 0.00125 BTC:
    // 1,000 / p = 0.125 + 0.00125 → p = 8,000,000 / 1,010 = 7,920.792079207… → 7,920.79207921 (up, the account's favour);
    // the fill pays 1,000 / 7,920.79207921 = 0.12625 BTC. Bankruptcy value −0.125 − (−0.004 × 0.0125 / 0.0125) = −0.121;
    // the fill quote −0.12625 is 0.00525 short of it: the fund pays 0.00525
    expect(g.at(60).price('8000', 'XBTUSD')).toEqual([
      { type: 'LiquidationStarted', ts: at(60), account: 'alice', reason: 'below-maintenance', equity: '-0.004', maintenanceMargin: '0.0125' },
      { type: 'PositionLiquidated', ts: at(60), account: 'alice', instrument: 'XBTUSD', qty: '-1000', price: '7920.79207921', counterparty: 'backstop', fee: '0' },
      { type: 'InsuranceFundDrawn', ts: at(60), account: 'alice', fund: 'insurance', amount: '0.00525' },
    ]);
    // alice: 0.021 + realized (0.1 − 0.12625 = −0.02625) + 0.00525 = 0; the fund 10 − 0.00525
    expect(g.cash('alice')).toBe('0');
    expect(g.cash('insurance')).toBe('9.99475');
  });

  it('a short above bankruptcy: bought back a little above the mark, the fund keeps the surplus capped at 1.5 % of the fill', () => {
    const g = book(DYDX);
    g.trade('mm', 'alice', '1000', '10000', 'XBTUSD'); // short 1,000 contracts at 10,000: worth +0.1 BTC, cost 0.1
    // mark 12,000: value 1,000 / 12,000 = 0.08333333 (down): TNC = 0.021 − 0.01666667 = 0.00433333; notional 0.08333334 (up),
    // TMMR = PMMR = 0.00833334. ABR = (0.00833334 − 0.00433333) / 0.00833334 = 0.48000082…; X = ABR × 0.1 × 0.00833334
    // = 0.000400001 BTC; 1,000 / p = 0.08333333… − X → p = 12,057.87795889 (down, the account's favour); the fill
    // receives 1,000 / p = 0.08293333. Bankruptcy value 0.08333333 − 0.00433333 × 0.00833334 / 0.00833334 = 0.079;
    // surplus 0.08293333 − 0.079 = 0.00393333 > cap 1.5 % × 0.08293333 = 0.00124399995 → 0.00124399 (down)
    expect(g.at(60).price('12000', 'XBTUSD')).toEqual([
      { type: 'LiquidationStarted', ts: at(60), account: 'alice', reason: 'below-maintenance', equity: '0.00433333', maintenanceMargin: '0.00833334' },
      { type: 'PositionLiquidated', ts: at(60), account: 'alice', instrument: 'XBTUSD', qty: '1000', price: '12057.87795889', counterparty: 'backstop', fee: '0.00124399' },
    ]);
    // alice: 0.021 + realized (0.08293333 − 0.1 = −0.01706667) − 0.00124399 = 0.00268934; the fund 10.00124399
    expect(g.cash('alice')).toBe('0.00268934');
    expect(g.cash('insurance')).toBe('10.00124399');
  });
});
