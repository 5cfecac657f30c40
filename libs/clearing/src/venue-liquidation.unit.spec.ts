import { at, Given, rulesFor } from './testing/given';

/** grace 0, IM 20 %, MM 10 % (dYdX's test BTC perpetual), no fee, no slippage; the insurance fund holds `fund`. */
function book(venueLiquidation: Record<string, unknown>, fund = '1000'): Given {
  const g = new Given(
    rulesFor({
      marginCall: { graceSeconds: 0 },
      liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' },
      instruments: { '*': { tiers: [{ initialRate: '0.2', maintenanceRate: '0.1' }] } },
      venueLiquidation,
    }),
  );
  g.deposit('mm', '10000000').deposit('insurance', fund);
  return g;
}

const DYDX = { fillablePrice: { bankruptcyAdjustment: '1', spreadToMaintenanceMarginRatio: '0.1' }, maxLiquidationFee: '0.005' };

/** alice: 600 deposited, long 0.1 BTC bought at 51,010. */
function aliceLong(g: Given): Given {
  g.deposit('alice', '600');
  g.price('51010');
  g.trade('alice', 'mm', '0.1', '51010');
  return g;
}

describe('dYdX liquidation: fillable price, bankruptcy value, insurance fund (rules venueLiquidation)', () => {
  it('slightly below maintenance: filled just under the mark, the fund keeps the capped fee', () => {
    const g = aliceLong(book(DYDX));
    // mark 50,000: TNC = 600 − 0.1 × 1,010 = 499 < TMMR 10 % × 5,000 = 500 (dYdX's own example, liquidations_test.go);
    // fillable price 49,999 (ABR 0.002 × SMMR 0.1 × PMMR 500 = 0.1 over 0.1 BTC); bankruptcy value 5,000 − 499 = 4,501;
    // fill 4,999.9: surplus 498.9 > 0.5 % × 4,999.9 = 24.9995 → the fee is 24.9995
    expect(g.at(60).price('50000')).toEqual([
      { type: 'LiquidationStarted', ts: at(60), account: 'alice', reason: 'below-maintenance', equity: '499', maintenanceMargin: '500' },
      { type: 'PositionLiquidated', ts: at(60), account: 'alice', instrument: 'BTC-PERP', qty: '-0.1', price: '49999', counterparty: 'backstop', fee: '24.9995' },
    ]);
    // 600 + 0.1 × (49,999 − 51,010) − 24.9995 = 600 − 101.1 − 24.9995 = 473.9005; the fund 1,000 + 24.9995
    expect(g.cash('alice')).toBe('473.9005');
    expect(g.cash('insurance')).toBe('1024.9995');
  });

  it('below bankruptcy: the fund pays the fill short of the bankruptcy value', () => {
    const g = aliceLong(book(DYDX));
    // mark 44,000: TNC = 600 − 701 = −101, TMMR 440 → ABR 1 → 0.1 × 440 = 44 over 0.1 BTC → filled at 43,560;
    // bankruptcy value 4,400 + 101 = 4,501; fill 4,356 → the fund pays 145 and alice ends at 600 − 745 + 145 = 0
    expect(g.at(60).price('44000')).toEqual([
      { type: 'LiquidationStarted', ts: at(60), account: 'alice', reason: 'below-maintenance', equity: '-101', maintenanceMargin: '440' },
      { type: 'PositionLiquidated', ts: at(60), account: 'alice', instrument: 'BTC-PERP', qty: '-0.1', price: '43560', counterparty: 'backstop', fee: '0' },
      { type: 'InsuranceFundDrawn', ts: at(60), account: 'alice', fund: 'insurance', amount: '145' },
    ]);
    expect(g.cash('alice')).toBe('0');
    expect(g.cash('insurance')).toBe('855');
  });

  it('a shortfall the fund cannot pay (its cash, or maxInsuranceLost) goes through the bankruptcy waterfall', () => {
    const poor = aliceLong(book(DYDX, '100'));
    expect(poor.at(60).price('44000').map((d) => d.type)).toEqual(['LiquidationStarted', 'AccountBankrupted', 'InsuranceFundDrawn', 'PositionLiquidated', 'LossSocialized']);
    const limited = aliceLong(book({ ...DYDX, accountBlockLimits: { maxInsuranceLost: '100' } }));
    expect(limited.at(60).price('44000').map((d) => d.type)).toContain('AccountBankrupted');
  });

  it('a fill the fund may not pay for, on a unit still above zero, waits for the next input (no order, as dYdX)', () => {
    const g = aliceLong(book({ fillablePrice: { spreadToMaintenanceMarginRatio: '1.5' }, maxLiquidationFee: '0.005', accountBlockLimits: { maxInsuranceLost: '0' } }));
    // mark 46,010: TNC = 600 − 500 = 100 ≥ 0, TMMR 460.1; ABR = 1 − 100 / 460.1 → spread ≈ 0.7827 × 1.5 × 460.1 ≈ 540.15 > 100:
    // the fill is below the bankruptcy value (4,601 − 100 = 4,501) and the fund may lose nothing in the block
    expect(g.at(60).price('46010').map((d) => d.type)).toEqual(['LiquidationStarted']);
    expect(g.account('alice').positions).toMatchObject({ 'BTC-PERP': { qty: '0.1' } });
    // the next input tries again (and waits again)
    expect(g.at(61).price('46010').map((d) => d.type)).toEqual(['LiquidationStarted']);
  });
});

describe('how much to liquidate: block limits and step size (dYdX), the margin shortage (Drift)', () => {
  /** alice: 5,400 deposited, long 1 BTC bought at 50,000. */
  const aliceOne = (venue: Record<string, unknown>): Given => {
    const g = book(venue);
    g.deposit('alice', '5400');
    g.price('50000');
    g.trade('alice', 'mm', '1', '50000');
    return g;
  };

  it('at most maxPositionPortion of a position per input: the rest waits for the next input', () => {
    const g = aliceOne({ positionBlockLimits: { maxPositionPortion: '0.5' }, stepSizes: { '*': '0.01' } });
    // mark 45,000: equity 5,400 − 5,000 = 400 < MM 4,500; half the notional (22,500) = 0.5 BTC; after it MM 2,250 > 400,
    // but the position was liquidated once in this input: the unit waits
    expect(g.at(60).price('45000')).toEqual([
      { type: 'LiquidationStarted', ts: at(60), account: 'alice', reason: 'below-maintenance', equity: '400', maintenanceMargin: '4500' },
      { type: 'PositionLiquidated', ts: at(60), account: 'alice', instrument: 'BTC-PERP', qty: '-0.5', price: '45000', counterparty: 'backstop', fee: '0' },
    ]);
    // the next input: half of the 0.5 left (notional 22,500 → 11,250 = 0.25 BTC)
    expect(g.at(61).price('45000')).toEqual([
      { type: 'LiquidationStarted', ts: at(61), account: 'alice', reason: 'below-maintenance', equity: '400', maintenanceMargin: '2250' },
      { type: 'PositionLiquidated', ts: at(61), account: 'alice', instrument: 'BTC-PERP', qty: '-0.25', price: '45000', counterparty: 'backstop', fee: '0' },
    ]);
  });

  it("the account's notional per input, rounded down to the step", () => {
    const g = aliceOne({ accountBlockLimits: { maxNotionalLiquidated: '10000' }, stepSizes: { '*': '0.01' } });
    // 10,000 / 45,000 = 0.2222… BTC → 0.22 (22 steps of 0.01)
    expect(g.at(60).price('45000').filter((d) => d.type === 'PositionLiquidated').map((d) => d.qty)).toEqual(['-0.22']);
  });

  it('Drift: the size covering the shortage net of the liquidator and insurance fees', () => {
    const g = book({ marginShortage: { liquidatorFee: '0.01', insuranceFee: '0.01' } });
    g.deposit('alice', '190');
    g.price('110');
    g.trade('alice', 'mm', '10', '110');
    // Drift's example (liquidation/tests.rs, one_percent_liquidation_fee_and_one_percent_if_liquidation_fee): mark 100,
    // equity 190 − 100 = 90, MM 10 % × 1,000 = 100: shortage 10 → 10 / (100 × 0.1 − 100 × 0.02) = 1.25, sold at
    // 100 × (1 − 1 %) = 99 (the liquidator's fee); the fund's fee 1 % × 123.75 = 1.2375;
    // after: equity 90 − 1.25 − 1.2375 = 87.5125 ≥ MM 8.75 × 100 × 10 % = 87.5
    expect(g.at(60).price('100')).toEqual([
      { type: 'LiquidationStarted', ts: at(60), account: 'alice', reason: 'below-maintenance', equity: '90', maintenanceMargin: '100' },
      { type: 'PositionLiquidated', ts: at(60), account: 'alice', instrument: 'BTC-PERP', qty: '-1.25', price: '99', counterparty: 'backstop', fee: '1.2375' },
    ]);
  });

  it("Drift: the insurance fee implied by the shortage (impliedInsuranceFee), here below the maximum", () => {
    const g = book({ marginShortage: { liquidatorFee: '0.01', insuranceFee: '0.05', impliedInsuranceFee: true } });
    g.deposit('alice', '150');
    g.price('110');
    g.trade('alice', 'mm', '10', '110');
    // mark 100: equity 150 − 100 = 50, MM 100 → shortage 50; implied fee ((100 − 50) / 1,000 − 1 %) × 0.95 = 3.8 % < 5 %;
    // qty = 50 / (100 / 10 − 100 × (1 % + 3.8 %)) = 50 / 5.2 = 9.61538461 (down); sold at 99: notional 951.92307639;
    // fee 3.8 % × 951.92307639 = 36.1730769028… → 36.17307691 (up)
    expect(g.at(60).price('100').filter((d) => d.type === 'PositionLiquidated')).toEqual([
      { type: 'PositionLiquidated', ts: at(60), account: 'alice', instrument: 'BTC-PERP', qty: '-9.61538461', price: '99', counterparty: 'backstop', fee: '36.17307691' },
    ]);
  });

  it('Drift: a shortage below fullBelowShortage closes the whole position', () => {
    const g = book({ marginShortage: { liquidatorFee: '0.01', insuranceFee: '0.01', fullBelowShortage: '50' } });
    g.deposit('alice', '190');
    g.price('110');
    g.trade('alice', 'mm', '10', '110');
    expect(g.at(60).price('100').filter((d) => d.type === 'PositionLiquidated').map((d) => d.qty)).toEqual(['-10']);
  });

  it('the fast paths change no decision under venue mechanics (a unit waiting below MM is checked by an input that moves no mark)', () => {
    const run = (fastPaths: boolean) => {
      const g = aliceOne({ ...DYDX, positionBlockLimits: { maxPositionPortion: '0.5' }, stepSizes: { '*': '0.01' } });
      g.engine.state.fastPaths = fastPaths;
      // after the first input the unit waits below MM; the second input leaves the mark where it is (no band is left),
      // yet it must be checked and liquidated further, as the exact path does
      return [g.at(60).price('45000'), g.at(61).price('45000'), g.at(62).price('44000'), g.engine.outputHash];
    };
    expect(run(true)).toEqual(run(false));
  });
});
