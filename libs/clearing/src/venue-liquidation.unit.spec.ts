import fc from 'fast-check';
import { ClearingEngine } from './clearing-engine';
import { at, Given, rulesFor } from './testing/given';

/** Drift's liquidation tests' account: alice deposits 190 and buys 10 at 110 (MM 10 %), under `marginShortage`. */
function driftAlice(marginShortage: Record<string, unknown>): Given {
  const g = book({ marginShortage });
  g.deposit('alice', '190');
  g.price('110');
  g.trade('alice', 'mm', '10', '110');
  return g;
}

/** The Hyperliquid tests' book: no grace, whole positions below half the MM, no fee, one tier for every instrument. */
function hyperliquidBook(tier: { initialRate: string; maintenanceRate: string }, slippage: string, venueLiquidation: Record<string, unknown>): Given {
  return new Given(
    rulesFor({
      marginCall: { graceSeconds: 0 },
      liquidation: { immediateBelow: '0.5', step: '1', slippage, feeRate: '0' },
      instruments: { '*': { tiers: [tier] } },
      venueLiquidation,
    }),
  );
}

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
    const g = driftAlice({ liquidatorFee: '0.01', insuranceFee: '0.01' });
    // Drift's example (liquidation/tests.rs, one_percent_liquidation_fee_and_one_percent_if_liquidation_fee): mark 100,
    // equity 190 − 100 = 90, MM 10 % × 1,000 = 100: shortage 10 → 10 / (100 × 0.1 − 100 × 0.02) = 1.25, sold at
    // 100 × (1 − 1 %) = 99 (the liquidator's fee); the fund's fee 1 % × 123.75 = 1.2375;
    // after: equity 90 − 1.25 − 1.2375 = 87.5125 ≥ MM 8.75 × 100 × 10 % = 87.5
    expect(g.at(60).price('100')).toEqual([
      { type: 'LiquidationStarted', ts: at(60), account: 'alice', reason: 'below-maintenance', equity: '90', maintenanceMargin: '100' },
      { type: 'PositionLiquidated', ts: at(60), account: 'alice', instrument: 'BTC-PERP', qty: '-1.25', price: '99', counterparty: 'backstop', fee: '1.2375' },
    ]);
  });

  it("Drift: with the liquidation margin buffer (2 %, Drift's default) the shortage is measured to MM + buffer", () => {
    const g = driftAlice({ liquidatorFee: '0.01', insuranceFee: '0.01', liquidationBuffer: '0.02' });
    // drift-labs/protocol-v2 margin_calculation.rs: margin_requirement_plus_buffer = MR + liability × buffer;
    // liquidation.rs: margin_ratio_with_buffer = margin_ratio + buffer. Mark 100: equity 90 < MM 100 (the trigger is
    // unchanged); shortage (100 + 2 % × 1,000) − 90 = 30; each unit frees 100 × (10 % + 2 %) − 100 × 2 % = 10 → 3;
    // sold at 99, the fund's fee 1 % × 297 = 2.97. After: equity 90 − 3 − 2.97 = 84.03 ≥ MM 70 + buffer 14 = 84
    expect(g.at(60).price('100')).toEqual([
      { type: 'LiquidationStarted', ts: at(60), account: 'alice', reason: 'below-maintenance', equity: '90', maintenanceMargin: '100' },
      { type: 'PositionLiquidated', ts: at(60), account: 'alice', instrument: 'BTC-PERP', qty: '-3', price: '99', counterparty: 'backstop', fee: '2.97' },
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
    const g = driftAlice({ liquidatorFee: '0.01', insuranceFee: '0.01', fullBelowShortage: '50' });
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

/** Drift's escalating fee in the drift-v2 preset's units: base 1 %, +0.0000025 per second after 600 s, at most 3 %. */
const DRIFT_ESCALATING = { marginShortage: { liquidatorFee: '0.01' }, escalatingFee: { maxFee: '0.03', graceSeconds: 600, increasePerSecond: '0.0000025' } };

/** alice: 190 deposited, long 10 BTC bought at 110; at t = 60 the mark 100 starts her liquidation (her clock). */
function aliceDrift(venue: Record<string, unknown>): Given {
  const g = book(venue);
  g.deposit('alice', '190');
  g.price('110');
  g.trade('alice', 'mm', '10', '110');
  // equity 190 − 100 = 90 < MM 100: shortage 10 → 10 / (100 × 10 % − 100 × 1 %) = 1.11111111, sold at 99 (the base 1 %)
  // (then one more 10^-8: the floor of the size leaves the unit a hair under MM)
  expect(g.at(60).price('100').filter((d) => d.type === 'PositionLiquidated').map((d) => [d.qty, d.price])).toEqual([
    ['-1.11111111', '99'],
    ['-0.00000001', '99'],
  ]);
  return g;
}

describe("Drift's escalating liquidator fee, from the account's liquidation clock (rules venueLiquidation.escalatingFee)", () => {
  it('40 minutes after her liquidation began, the liquidator takes 1.6 % instead of 1 %', () => {
    const g = aliceDrift(DRIFT_ESCALATING);
    // t = 2,460: elapsed 2,400 s > 600 s grace → fee 1 % + 2,400 × 0.00025 % = 1.6 %: sold at 95 × (1 − 1.6 %) = 93.48;
    // equity 44.44444448 < MM 84.44444436: shortage 39.99999988 / (9.5 − 95 × 1.6 %) = 39.99999988 / 7.98 = 5.01253131
    // (without the escalation: 95 × 0.99 = 94.05 and 39.99999988 / 8.55 = 4.67836255)
    expect(g.at(2460).price('95').filter((d) => d.type === 'PositionLiquidated')[0]).toMatchObject({ qty: '-5.01253131', price: '93.48' });
    // t = 9,000: elapsed 8,940 s → 1 % + 2.235 % = 3.235 %, capped at 3 %: sold at 90 × 0.97 = 87.3
    expect(g.at(9000).price('90').filter((d) => d.type === 'PositionLiquidated')[0]).toMatchObject({ price: '87.3' });
  });

  it('within the grace the fee is the base, and without the block nothing escalates', () => {
    expect(aliceDrift(DRIFT_ESCALATING).at(659).price('95').filter((d) => d.type === 'PositionLiquidated')[0]).toMatchObject({ price: '94.05' }); // 599 s
    expect(aliceDrift({ marginShortage: { liquidatorFee: '0.01' } }).at(2460).price('95').filter((d) => d.type === 'PositionLiquidated')[0]).toMatchObject({ qty: '-4.67836255', price: '94.05' });
  });

  it("the account's own action stops the clock (Drift's last active slot): the next liquidation starts at the base fee", () => {
    const g = aliceDrift(DRIFT_ESCALATING);
    expect(g.engine.state.saga.liquidatingSince.get('alice')).toBe(Date.parse(at(60)));
    g.at(1000).deposit('alice', '1');
    expect(g.engine.state.saga.liquidatingSince.has('alice')).toBe(false);
    // 95 × 0.99 = 94.05: the base fee again, the clock restarting at 2,460
    expect(g.at(2460).price('95').filter((d) => d.type === 'PositionLiquidated')[0]).toMatchObject({ price: '94.05' });
    expect(g.engine.state.saga.liquidatingSince.get('alice')).toBe(Date.parse(at(2460)));
  });

  it('a snapshot taken mid-liquidation resumes with the same clock and the same decisions (property)', () => {
    const step = fc.record({ dt: fc.integer({ min: 1, max: 3000 }), price: fc.integer({ min: 60, max: 110 }) });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 8 }), fc.array(step, { minLength: 1, maxLength: 8 }), (before, after) => {
        const live = aliceDrift(DRIFT_ESCALATING);
        let t = 60;
        for (const s of before) live.at((t += s.dt)).price(String(s.price));
        const restored = ClearingEngine.fromSnapshot(live.engine.snapshot())!;
        expect(restored.state.saga.liquidatingSince).toEqual(live.engine.state.saga.liquidatingSince);
        const resumed = Object.create(Given.prototype) as Given;
        Object.assign(resumed, live, { engine: restored });
        for (const s of after) {
          t += s.dt;
          expect(resumed.at(t).price(String(s.price))).toEqual(live.at(t).price(String(s.price)));
        }
        expect(restored.outputHash).toBe(live.engine.outputHash);
      }),
      { numRuns: 40 },
    );
  });
});

describe("Hyperliquid's partial liquidation (rules venueLiquidation.partial)", () => {
  /** IM 2 %, MM 1 %; alice: 2,100 deposited, long 3 BTC at 50,000 ($150,000, above the $100,000 line). */
  const aliceLarge = (): Given => {
    const g = hyperliquidBook({ initialRate: '0.02', maintenanceRate: '0.01' }, '0', { partial: { aboveNotional: '100000', portion: '0.2', cooldownSeconds: 30 } });
    g.deposit('mm', '10000000').deposit('alice', '2100');
    g.price('50000');
    g.trade('alice', 'mm', '3', '50000');
    return g;
  };
  const fills = (decisions: Record<string, unknown>[]) => decisions.filter((d) => d.type === 'PositionLiquidated').map((d) => d.qty);

  it('20 % of a position above the notional; during the 30 s cooldown the whole rest; after it 20 % again', () => {
    const g = aliceLarge();
    // mark 49,700: equity 2,100 − 900 = 1,200 < MM 1 % × 149,100 = 1,491 → 20 % × 3 = 0.6 sold at the mark;
    // then MM 1 % × 2.4 × 49,700 = 1,192.8 ≤ 1,200: healthy, the liquidation stops
    expect(fills(g.at(60).price('49700'))).toEqual(['-0.6']);
    // 10 s later, mark 49,650: equity 2,100 − 180 − 2.4 × 350 = 1,080 < MM 1,191.6, within the cooldown: all 2.4 go
    expect(fills(g.at(70).price('49650'))).toEqual(['-2.4']);
  });

  it('after the cooldown a large position is partially liquidated again', () => {
    const g = aliceLarge();
    expect(fills(g.at(60).price('49700'))).toEqual(['-0.6']);
    // 40 s later (the cooldown is over): 2.4 × 49,650 = $119,160 > $100,000 → 20 % × 2.4 = 0.48, then 1,080 − 0 vs
    // MM 1 % × 1.92 × 49,650 = 953.28 ≤ 1,080: healthy again
    expect(fills(g.at(100).price('49650'))).toEqual(['-0.48']);
  });

  it('below the notional the whole position goes at once', () => {
    const g = aliceLarge();
    g.at(10).trade('mm', 'alice', '1.5', '50000'); // alice sells 1.5: 1.5 × 50,000 = $75,000
    // mark 48,900: equity 2,100 − 1.5 × 1,100 = 450 < MM 1 % × 73,350 = 733.5; the position is $73,350 ≤ $100,000: all 1.5
    expect(fills(g.at(60).price('48900'))).toEqual(['-1.5']);
  });
});

describe("dYdX's choice of the position to liquidate (rules venueLiquidation.positionOrder: pseudo-random-rotation)", () => {
  /** alice: 1,000 deposited, long 0.1 BTC at 50,000 (MM 500) and long 1 ETH at 3,000 (MM 300); BTC-PERP listed first. */
  const aliceTwo = (venue: Record<string, unknown>): Given => {
    const g = book(venue);
    g.input({ type: 'InstrumentListed', instrument: 'ETH-PERP', kind: 'perpetual', underlying: 'ETH' });
    g.deposit('alice', '1000');
    g.price('50000');
    g.price('3000', 'ETH-PERP');
    g.trade('alice', 'mm', '0.1', '50000');
    g.trade('alice', 'mm', '1', '3000', 'ETH-PERP');
    return g;
  };
  const liquidated = (g: Given, seconds: number) => g.at(seconds).price('2500', 'ETH-PERP').filter((d) => d.type === 'PositionLiquidated').map((d) => d.instrument);

  // ETH at 2,500: equity 1,000 − 500 = 500 < MM 500 + 250 = 750. Closing either position at its mark leaves equity 500 ≥ the
  // other's MM (250 or 500): one fill restores the account, so the order decides which position goes.
  it('starts from the offset drawn from the time in seconds, in listing order', () => {
    // rotationOffset(2026-01-01T00:01:01Z, 2) = 1: from the second listed position, ETH-PERP
    expect(liquidated(aliceTwo({ positionOrder: 'pseudo-random-rotation' }), 61)).toEqual(['ETH-PERP']);
    // rotationOffset(2026-01-01T00:01:00Z, 2) = 0: BTC-PERP first
    expect(liquidated(aliceTwo({ positionOrder: 'pseudo-random-rotation' }), 60)).toEqual(['BTC-PERP']);
  });

  it('absent, the largest maintenance margin goes first whatever the time', () => {
    expect(liquidated(aliceTwo({}), 61)).toEqual(['BTC-PERP']);
    expect(liquidated(aliceTwo({ positionOrder: 'largest-maintenance' }), 61)).toEqual(['BTC-PERP']);
  });

  it('skips a position already liquidated in the input (dYdX: once per position per block)', () => {
    // at most 50 % of a position per input; fills at the mark leave equity at 500. t = 61 (offset 1): ETH's 0.5 first →
    // MM 500 + 0.5 × 2,500 × 10 % = 625 > 500; ETH is done for the input, the rotation wraps to BTC: 0.05 → MM 250 + 125 = 375 ≤ 500
    const g = aliceTwo({ positionOrder: 'pseudo-random-rotation', positionBlockLimits: { maxPositionPortion: '0.5' } });
    expect(g.at(61).price('2500', 'ETH-PERP').filter((d) => d.type === 'PositionLiquidated').map((d) => [d.instrument, d.qty])).toEqual([
      ['ETH-PERP', '-0.5'],
      ['BTC-PERP', '-0.05'],
    ]);
  });
});

describe("Hyperliquid's backstop liquidation below ⅔ of the maintenance margin (rules venueLiquidation.backstopBelow)", () => {
  // Hyperliquid Docs, Trading → Liquidations: "If the account equity drops below 2/3 of the maintenance margin without
  // successful liquidation through the book, a backstop liquidation happens through the liquidator vault … the trader's
  // cross positions and cross margin are all transferred to the liquidator … the maintenance margin is not returned".
  // BTC 40x: MM 1.25 % (as the hyperliquid preset); alice: 10,000 deposited, long 1 BTC at 100,000.
  const hl = (): Given => {
    const g = hyperliquidBook({ initialRate: '0.025', maintenanceRate: '0.0125' }, '0.001', { backstopBelow: '0.66666667' });
    g.deposit('mm', '10000000').deposit('insurance', '1000').deposit('alice', '10000');
    g.price('100000');
    g.trade('alice', 'mm', '1', '100000');
    return g;
  };

  it('below ⅔ MM: the position goes to the backstop at the mark and the margin left to the fund; alice ends at zero', () => {
    const g = hl();
    // mark 90,500: equity 10,000 − 9,500 = 500 < ⅔ × MM (1.25 % × 90,500 = 1,131.25) = 754.17: taken over at 90,500;
    // realized −9,500, the fee the 500 left
    expect(g.at(60).price('90500')).toEqual([
      { type: 'LiquidationStarted', ts: at(60), account: 'alice', reason: 'below-maintenance', equity: '500', maintenanceMargin: '1131.25' },
      { type: 'PositionLiquidated', ts: at(60), account: 'alice', instrument: 'BTC-PERP', qty: '-1', price: '90500', counterparty: 'backstop', fee: '500' },
    ]);
    expect(g.cash('alice')).toBe('0');
    expect(g.cash('insurance')).toBe('1500');
  });

  it('between ⅔ MM and MM: liquidated through the book (mark ∓ slippage), alice keeps what is left', () => {
    const g = hl();
    // mark 91,000: equity 1,000 ≥ ⅔ × 1,137.5 = 758.33: sold at 91,000 × 0.999 = 90,909; alice keeps 10,000 − 9,091 = 909
    expect(g.at(60).price('91000').filter((d) => d.type === 'PositionLiquidated')).toEqual([
      { type: 'PositionLiquidated', ts: at(60), account: 'alice', instrument: 'BTC-PERP', qty: '-1', price: '90909', counterparty: 'backstop', fee: '0' },
    ]);
    expect(g.cash('alice')).toBe('909');
  });
});
