import fc from 'fast-check';
import { expectReplayEqualsLive, expectFastPathsChangeNothing, expectSnapshotResumesLive, runLive } from './testing/run-live';
import { at, rulesFor } from './testing/given';

/**
 * The clearing properties on random streams of inverse (coin-margined) instruments, in a BTC shard: an XBTUSD-like
 * perpetual (face 1 USD) and a future (face 100 USD, settled at some point), traders and a market maker depositing
 * BTC, trades near the mark, price shocks of up to ±25%, funding (as given or by the premium formula), clock jumps and
 * the settlement, under random rules (grace, partial steps, slippage, fees, ADL policies or socialization, isolated
 * accounts, market impact), and under the venue mechanics (venueMargin, venueLiquidation) of a venue preset, measured
 * in coin (docs/rules.md, "Venue mechanics on inverse instruments"). Every amount is in BTC with 8 decimals; the price
 * bands and the float screen fall back to the exact check for inverse positions, which the fast-path property checks.
 */
const TRADERS = ['a', 'b', 'c', 'd'];
const INSTRUMENTS = ['XBTUSD', 'XBT-FUT'];
const FACE: Record<string, string> = { XBTUSD: '1', 'XBT-FUT': '100' };
const START: Record<string, number> = { XBTUSD: 10000, 'XBT-FUT': 10200 };

/**
 * Venue mechanics by preset, scaled to these streams (positions of up to ~2 BTC, 200,000 USD of face in all): sizes
 * in BTC (Deribit, Drift, Coinbase), the USD thresholds against the face value (dYdX's caps and block limits,
 * Hyperliquid's partial threshold, Drift's small shortage at the mark).
 */
const VENUES: Record<string, { venueMargin?: Record<string, unknown>; venueLiquidation?: Record<string, unknown> }> = {
  deribit: { venueMargin: { instruments: { '*': { sizeScaling: { kind: 'linear', initialPerUnit: '0.01', maintenancePerUnit: '0.01' } } } } },
  dydx: {
    venueMargin: { instruments: { '*': { openInterestScaling: { lowerCap: '20000', upperCap: '200000' } } }, leverage: { a: { '*': '5' } } },
    venueLiquidation: {
      fillablePrice: { bankruptcyAdjustment: '1', spreadToMaintenanceMarginRatio: '0.1' },
      maxLiquidationFee: '0.015',
      positionBlockLimits: { minPositionNotional: '500', maxPositionPortion: '0.5' },
      accountBlockLimits: { maxNotionalLiquidated: '20000', maxInsuranceLost: '1000' },
      positionOrder: 'pseudo-random-rotation',
      stepSizes: { '*': '1' },
    },
  },
  drift: {
    venueMargin: { instruments: { '*': { sizeScaling: { kind: 'sqrt-premium', imfFactor: '0.005', highLeverage: { initialRate: '0.05', maintenanceRate: '0.03' } } } }, highLeverageAccounts: ['a', 'c'] },
    venueLiquidation: {
      marginShortage: { liquidatorFee: '0.01', insuranceFee: '0.05', impliedInsuranceFee: true, fullBelowShortage: '5', liquidationBuffer: '0.02' },
      escalatingFee: { maxFee: '0.03', graceSeconds: 600, increasePerSecond: '0.0000025' },
      stepSizes: { '*': '1' },
    },
  },
  hyperliquid: { venueLiquidation: { partial: { aboveNotional: '5000', portion: '0.2', cooldownSeconds: 30 }, backstopBelow: '0.66666667' } },
  coinbase: { venueMargin: { instruments: { '*': { sizeScaling: { kind: 'sqrt-volume', riskParameter: '0.8', averageDailyVolume: '5' } } } } },
};

const rulesArb = fc.record({
  // no venue mechanics, most often: the generic waterfall keeps its share of the runs
  venue: fc.constantFrom(undefined, undefined, ...Object.keys(VENUES)),
  grace: fc.constantFrom(0, 600),
  callBelow: fc.constantFrom('1', '1.25'),
  // one tier; two continuous tiers by coin notional (0.025 = 1 BTC × (0.075 − 0.05)); two with a jump at 0.5 BTC
  tiers: fc.constantFrom(
    [{ initialRate: '0.1', maintenanceRate: '0.05' }],
    [{ upToNotional: '1', initialRate: '0.1', maintenanceRate: '0.05' }, { initialRate: '0.15', maintenanceRate: '0.075', maintenanceAmount: '0.025' }],
    [{ upToNotional: '0.5', initialRate: '0.05', maintenanceRate: '0.02' }, { initialRate: '0.2', maintenanceRate: '0.1' }],
  ),
  cureAt: fc.constantFrom('initial', 'maintenance'),
  bankruptcy: fc.constantFrom('adl', 'socialize'),
  adl: fc.option(fc.record({ policy: fc.constantFrom('queue', 'sort-index', 'pro-rata', 'risk-aware'), fill: fc.constantFrom('bankruptcy', 'mark'), protectCounterparties: fc.boolean() }), { nil: undefined }),
  step: fc.constantFrom('1', '0.5', '0.25'),
  slippage: fc.constantFrom('0', '0.01'),
  feeRate: fc.constantFrom('0', '0.005'),
  isolated: fc.subarray(TRADERS),
  // opening deposits in BTC hundredths
  opening: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: TRADERS.length, maxLength: TRADERS.length }),
  impact: fc.option(fc.record({ law: fc.constantFrom('linear', 'sqrt'), k: fc.constantFrom('0.05', '0.5') }), { nil: undefined }),
  fundingFormula: fc.boolean(),
  // an insurance fund of 0.2 BTC, or none (every deficit then goes to ADL or socialization)
  fund: fc.boolean(),
});

const stepArb = fc.oneof(
  fc.record({ kind: fc.constant('deposit' as const), who: fc.constantFrom(...TRADERS), amount: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ kind: fc.constant('price' as const), instrument: fc.constantFrom(...INSTRUMENTS), move: fc.double({ min: -0.25, max: 0.25, noNaN: true }) }),
  fc.record({
    kind: fc.constant('trade' as const),
    buyer: fc.constantFrom(...TRADERS, 'mm'),
    seller: fc.constantFrom(...TRADERS, 'mm'),
    instrument: fc.constantFrom(...INSTRUMENTS),
    // contracts: XBTUSD 100–20,000 ($1 each), XBT-FUT 1–200 ($100 each)
    size: fc.integer({ min: 1, max: 200 }),
    off: fc.double({ min: -0.02, max: 0.02, noNaN: true }),
  }),
  fc.record({ kind: fc.constant('withdraw' as const), who: fc.constantFrom(...TRADERS), amount: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ kind: fc.constant('funding' as const), rate: fc.integer({ min: -100, max: 100 }) }),
  fc.record({ kind: fc.constant('clock' as const) }),
  fc.record({ kind: fc.constant('settle' as const) }),
);

type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;
type RulesArb = typeof rulesArb extends fc.Arbitrary<infer T> ? T : never;

function inputsFor(rules: RulesArb, steps: Step[], gaps: number[]): Record<string, unknown>[] {
  let t = 0;
  const marks = { ...START };
  const out: Record<string, unknown>[] = [
    {
      type: 'RulesActivated',
      ts: at(0),
      rules: rulesFor({
        marginCall: { graceSeconds: rules.grace, cureAt: rules.cureAt, callBelow: rules.callBelow },
        liquidation: { immediateBelow: '0.5', step: rules.step, slippage: rules.slippage, feeRate: rules.feeRate },
        bankruptcy: rules.bankruptcy,
        ...(rules.adl && rules.bankruptcy === 'adl' ? { adl: rules.adl } : {}),
        isolatedAccounts: rules.isolated,
        instruments: { '*': { tiers: rules.tiers } },
        ...(rules.impact ? { impact: { instruments: { '*': { law: rules.impact.law, k: rules.impact.k, depth: '20', halfLifeSeconds: 600 } } } } : {}),
        ...(rules.venue ? VENUES[rules.venue] : {}),
        ...(rules.fundingFormula ? { funding: { instruments: { '*': { interestRate: '0.0001', clamp: '0.0005', cap: '0.003' } } } } : {}),
      }),
    },
    ...INSTRUMENTS.map((instrument) => ({
      type: 'InstrumentListed',
      ts: at(0),
      instrument,
      kind: instrument === 'XBTUSD' ? 'perpetual' : 'future',
      underlying: 'BTC',
      settlementAsset: 'BTC',
      multiplier: FACE[instrument],
      payoff: 'inverse',
      ...(instrument === 'XBTUSD' ? {} : { expiry: at(86400 * 90) }),
    })),
    ...INSTRUMENTS.map((instrument) => ({ type: 'PriceUpdated', ts: at(0), instrument, price: String(START[instrument]) })),
    { type: 'Deposited', ts: at(0), account: 'mm', asset: 'BTC', amount: '1000' },
    ...(rules.fund ? [{ type: 'Deposited', ts: at(0), account: 'insurance', asset: 'BTC', amount: '0.2' }] : []),
    ...TRADERS.map((account, i) => ({ type: 'Deposited', ts: at(0), account, asset: 'BTC', amount: (rules.opening[i]! / 100).toFixed(2) })),
  ];
  steps.forEach((step, i) => {
    t += gaps[i % gaps.length]!;
    const ts = at(t);
    switch (step.kind) {
      case 'deposit':
        out.push({ type: 'Deposited', ts, account: step.who, asset: 'BTC', amount: (step.amount / 100).toFixed(2) });
        break;
      case 'price':
        marks[step.instrument] = Math.max(1, Math.round(marks[step.instrument]! * (1 + step.move) * 2) / 2);
        out.push({ type: 'PriceUpdated', ts, instrument: step.instrument, price: marks[step.instrument]!.toFixed(1) });
        break;
      case 'trade':
        if (step.buyer === step.seller) break;
        out.push({
          type: 'TradeExecuted',
          ts,
          tradeId: `t${i}`,
          instrument: step.instrument,
          buyer: step.buyer,
          seller: step.seller,
          qty: String(step.instrument === 'XBTUSD' ? step.size * 100 : step.size),
          price: Math.max(0.5, Math.round(marks[step.instrument]! * (1 + step.off) * 2) / 2).toFixed(1),
          buyerFee: '0.00001',
          sellerFee: '0',
        });
        break;
      case 'withdraw':
        out.push({ type: 'WithdrawalRequested', ts, requestId: `w${i}`, account: step.who, asset: 'BTC', amount: (step.amount / 100).toFixed(2) });
        break;
      case 'funding':
        out.push({ type: 'FundingRateApplied', ts, instrument: 'XBTUSD', rate: (step.rate / 100000).toFixed(5) });
        break;
      case 'clock':
        out.push({ type: 'ClockAdvanced', ts });
        break;
      case 'settle':
        out.push({ type: 'InstrumentSettled', ts, instrument: 'XBT-FUT', price: marks['XBT-FUT']!.toFixed(1) });
        break;
    }
  });
  return out;
}

const RUNS = Number(process.env.PROPERTY_RUNS ?? 1);
const scenarioArb = fc.record({
  rules: rulesArb,
  steps: fc.array(stepArb, { minLength: 10, maxLength: 80 }),
  gaps: fc.array(fc.integer({ min: 0, max: 900 }), { minLength: 1, maxLength: 10 }),
});

describe('clearing properties with inverse instruments', () => {
  it('conserves money (in BTC) and nets open interest to zero after every event', () => {
    fc.assert(
      fc.property(scenarioArb, ({ rules, steps, gaps }) => {
        runLive(inputsFor(rules, steps, gaps), { afterEach: (engine) => expect(engine.invariantViolations()).toEqual([]) });
      }),
      { numRuns: 100 * RUNS },
    );
  });

  it('replay (folding inputs and decisions, deciding nothing) equals live', () => {
    fc.assert(
      fc.property(scenarioArb, ({ rules, steps, gaps }) => {
        expectReplayEqualsLive(runLive(inputsFor(rules, steps, gaps)));
      }),
      { numRuns: 60 * RUNS },
    );
  });


  it('regression (seed 608100573): a close-out at a later deadline of one timer phase whose impact moves the mark checks again an account an earlier deadline liquidated in part', () => {
    // b (0.04 BTC, long 11,900 XBTUSD) and c (0.05 BTC, long 7,600) are called at 00:00 and 00:10; one input at
    // 00:20:01 fires both deadlines: b's close-out at 00:10 (two steps, impact k = 0.5) leaves b with half its
    // position and calls c; c's at 00:20 moves the mark 985.18 -> 980.43, which takes b below maintenance again.
    // The exact path (every holder checked when a mark moves) calls b at 00:20; the bands must too, although b's
    // bands are still those of its old position until the timer phase ends.
    const rules: RulesArb = { venue: undefined, grace: 600, callBelow: '1', tiers: [{ initialRate: '0.1', maintenanceRate: '0.05' }], cureAt: 'maintenance', bankruptcy: 'adl', adl: undefined, step: '0.25', slippage: '0', feeRate: '0', isolated: [], opening: [1, 4, 5, 6], impact: { law: 'linear', k: '0.5' }, fundingFormula: false, fund: false } as unknown as RulesArb;
    const steps = [
      { kind: 'trade', buyer: 'c', seller: 'mm', instrument: 'XBTUSD', size: 76, off: 0 },
      { kind: 'trade', buyer: 'b', seller: 'd', instrument: 'XBTUSD', size: 119, off: 0 },
      { kind: 'price', instrument: 'XBTUSD', move: 0 },
      { kind: 'price', instrument: 'XBTUSD', move: 0 },
      { kind: 'settle' },
    ] as unknown as Step[];
    const live = runLive(inputsFor(rules, steps, [0, 0, 521, 680]));
    const calls = live.log.filter((e) => e.type === 'MarginCallIssued').map((e) => `${(e as { account: string }).account}@${new Date(Number(e.ts)).toISOString()}`);
    expect(calls).toEqual(['b@2026-01-01T00:00:00.000Z', 'c@2026-01-01T00:10:00.000Z', 'b@2026-01-01T00:20:00.000Z']);
    expectFastPathsChangeNothing(live);
  });

  it('the fast paths (price bands, the float screen) change no decision', () => {
    fc.assert(
      fc.property(scenarioArb, ({ rules, steps, gaps }) => {
        expectFastPathsChangeNothing(runLive(inputsFor(rules, steps, gaps)));
      }),
      { numRuns: 60 * RUNS },
    );
  });

  it('a snapshot restored mid-stream continues with exactly the same decisions and outputHash', () => {
    fc.assert(
      fc.property(scenarioArb, fc.nat(), ({ rules, steps, gaps }, cutAt) => {
        expectSnapshotResumesLive(runLive(inputsFor(rules, steps, gaps)), cutAt);
      }),
      { numRuns: 60 * RUNS },
    );
  });

  it('exercises the venue mechanics: the rules are accepted in the inverse shard and streams under each venue liquidate', () => {
    const byVenue = new Map<string, number>();
    for (const { rules, steps, gaps } of fc.sample(scenarioArb, { numRuns: 200, seed: 7 })) {
      if (!rules.venue) continue;
      const { engine } = runLive(inputsFor(rules, steps, gaps));
      byVenue.set(rules.venue, (byVenue.get(rules.venue) ?? 0) + engine.state.stats.liquidations);
    }
    for (const venue of Object.keys(VENUES)) expect([venue, byVenue.get(venue) ?? 0]).toEqual([venue, expect.any(Number)]);
    for (const venue of Object.keys(VENUES)) expect(byVenue.get(venue)).toBeGreaterThan(0);
  });

  it('exercises the saga: some generated streams call, liquidate, go bankrupt and deleverage', () => {
    const totals = fc
      .sample(scenarioArb, { numRuns: 200, seed: 11 })
      .map(({ rules, steps, gaps }) => runLive(inputsFor(rules, steps, gaps)).engine.state.stats)
      .reduce((acc, s) => ({ liquidations: acc.liquidations + s.liquidations, bankruptcies: acc.bankruptcies + s.bankruptcies, calls: acc.calls + s.marginCalls, adl: acc.adl + (s.adl ? 1 : 0) }), { liquidations: 0, bankruptcies: 0, calls: 0, adl: 0 });
    expect(totals.liquidations).toBeGreaterThan(0);
    expect(totals.bankruptcies).toBeGreaterThan(0);
    expect(totals.calls).toBeGreaterThan(0);
    expect(totals.adl).toBeGreaterThan(0);
  });
});
