import fc from 'fast-check';
import { ClearingEngine } from './clearing-engine';
import { expectReplayEqualsLive, expectFastPathsChangeNothing, expectSnapshotResumesLive, runLive } from './testing/run-live';
import { at, rulesFor } from './testing/given';

/**
 * Properties over random valid event streams: a few traders and a market
 * maker on two perpetuals, random deposits, trades near the mark (single and
 * two-leg), price shocks of up to ±25% (one instrument, or both and the USDC
 * collateral at one instant), withdrawals, funding and clock jumps, under random
 * rules (grace or not, partial steps, slippage, fees, ADL or socialization,
 * isolated accounts, market impact of forced fills).
 */
const TRADERS = ['a', 'b', 'c', 'd'];
const INSTRUMENTS = ['BTC-PERP', 'ETH-PERP'];
const START = { 'BTC-PERP': 10000, 'ETH-PERP': 500 } as Record<string, number>;

const rulesArb = fc.record({
  grace: fc.constantFrom(0, 600),
  callBelow: fc.constantFrom('1', '1.25'),
  concentrate: fc.boolean(),
  model: fc.constantFrom('tiered', 'portfolio', 'var', 'dynamic'),
  // one tier; two continuous tiers (500 = 20,000 × (0.075 − 0.05)); three continuous tiers, close together so a
  // band can span both edges (4,000 × 0.025 = 4,000 × 0.05 − 100; 10,000 × 0.05 − 100 = 10,000 × 0.08 − 400); two with
  // a jump in MM at the edge
  tiers: fc.constantFrom(
    [{ initialRate: '0.1', maintenanceRate: '0.05' }],
    [{ upToNotional: '20000', initialRate: '0.1', maintenanceRate: '0.05' }, { initialRate: '0.15', maintenanceRate: '0.075', maintenanceAmount: '500' }],
    [
      { upToNotional: '4000', initialRate: '0.05', maintenanceRate: '0.025' },
      { upToNotional: '10000', initialRate: '0.1', maintenanceRate: '0.05', maintenanceAmount: '100' },
      { initialRate: '0.16', maintenanceRate: '0.08', maintenanceAmount: '400' },
    ],
    [{ upToNotional: '5000', initialRate: '0.05', maintenanceRate: '0.02' }, { initialRate: '0.2', maintenanceRate: '0.1' }],
  ),
  cureAt: fc.constantFrom('initial', 'maintenance'),
  bankruptcy: fc.constantFrom('adl', 'socialize'),
  // ADL policies (with bankruptcy: adl; absent = the queue at the bankruptcy price)
  // (pro-rata and risk-aware also batched per input)
  adl: fc.option(
    fc
      .record({ policy: fc.constantFrom('queue', 'sort-index', 'pro-rata', 'risk-aware'), fill: fc.constantFrom('bankruptcy', 'mark'), protectCounterparties: fc.boolean(), batch: fc.boolean() })
      .map(({ batch, ...adl }) => (batch && (adl.policy === 'pro-rata' || adl.policy === 'risk-aware') ? { ...adl, batch: 'input' } : adl)),
    { nil: undefined },
  ),
  step: fc.constantFrom('1', '0.5', '0.25'),
  slippage: fc.constantFrom('0', '0.01'),
  feeRate: fc.constantFrom('0', '0.005'),
  isolated: fc.subarray(TRADERS),
  opening: fc.array(fc.integer({ min: 500, max: 5000 }), { minLength: TRADERS.length, maxLength: TRADERS.length }),
  // liquidation cascades: forced fills move the mark (a law for BTC-PERP, or for every instrument)
  impact: fc.option(
    fc.record({ law: fc.constantFrom('linear', 'sqrt'), k: fc.constantFrom('0.05', '0.5', '2'), halfLifeSeconds: fc.constantFrom(60, 3600), instrument: fc.constantFrom('*', 'BTC-PERP') }),
    { nil: undefined },
  ),
  // venue liquidation mechanics (dYdX fillable price and fee cap, with or without block limits; Drift shortage sizing) and a funding formula
  // (with Drift's escalating fee, Hyperliquid's partial liquidation and dYdX's pseudo-random choice of the position)
  venue: fc.option(fc.constantFrom('dydx', 'dydx-limited', 'drift', 'drift-escalating', 'drift-unit-step', 'hyperliquid', 'dydx-rotation'), { nil: undefined }),
  fundingFormula: fc.boolean(),
});

const VENUES: Record<string, Record<string, unknown>> = {
  dydx: { fillablePrice: {}, maxLiquidationFee: '0.005' },
  'dydx-limited': {
    fillablePrice: { spreadToMaintenanceMarginRatio: '1.5' },
    maxLiquidationFee: '0.015',
    positionBlockLimits: { minPositionNotional: '50', maxPositionPortion: '0.5' },
    accountBlockLimits: { maxNotionalLiquidated: '20000', maxInsuranceLost: '500' },
    stepSizes: { '*': '0.01' },
  },
  drift: { marginShortage: { liquidatorFee: '0.01', insuranceFee: '0.05', fullBelowShortage: '50', impliedInsuranceFee: true }, stepSizes: { '*': '0.01' } },
  // no grace and a steep rate, so the fee moves within a generated stream's minutes
  'drift-escalating': {
    marginShortage: { liquidatorFee: '0.01', insuranceFee: '0.05', fullBelowShortage: '50', impliedInsuranceFee: true },
    stepSizes: { '*': '0.01' },
    escalatingFee: { maxFee: '0.05', graceSeconds: 0, increasePerSecond: '0.0001' },
  },
  // no step and no full-close threshold: each covering fill is one ledger unit from the shortage (a third fill
  // of the same position in one input closes the rest, or under impact the waterfall chases the residual forever)
  'drift-unit-step': {
    marginShortage: { liquidatorFee: '0.01', insuranceFee: '0.05', impliedInsuranceFee: true },
    escalatingFee: { maxFee: '0.05', graceSeconds: 0, increasePerSecond: '0.0001' },
  },
  hyperliquid: { partial: { aboveNotional: '1000', portion: '0.2', cooldownSeconds: 30 }, stepSizes: { '*': '0.01' }, backstopBelow: '0.66666667' },
  'dydx-rotation': { fillablePrice: {}, maxLiquidationFee: '0.015', positionBlockLimits: { maxPositionPortion: '0.5' }, positionOrder: 'pseudo-random-rotation' },
};

const stepArb = fc.oneof(
  fc.record({ kind: fc.constant('deposit' as const), who: fc.constantFrom(...TRADERS), amount: fc.integer({ min: 100, max: 20000 }), asset: fc.constantFrom('USD', 'USD', 'USDC') }),
  fc.record({ kind: fc.constant('depeg' as const), price: fc.integer({ min: 50, max: 105 }) }),
  fc.record({ kind: fc.constant('price' as const), instrument: fc.constantFrom(...INSTRUMENTS), move: fc.double({ min: -0.25, max: 0.25, noNaN: true }) }),
  fc.record({
    kind: fc.constant('trade' as const),
    buyer: fc.constantFrom(...TRADERS, 'mm'),
    seller: fc.constantFrom(...TRADERS, 'mm'),
    instrument: fc.constantFrom(...INSTRUMENTS),
    qty: fc.integer({ min: 1, max: 2000 }),
    off: fc.double({ min: -0.02, max: 0.02, noNaN: true }),
  }),
  // a market move: both perpetuals (and sometimes the USDC collateral) at one instant, margined once
  fc.record({ kind: fc.constant('move' as const), moves: fc.array(fc.double({ min: -0.25, max: 0.25, noNaN: true }), { minLength: 2, maxLength: 2 }), depeg: fc.option(fc.integer({ min: 50, max: 105 }), { nil: undefined }) }),
  // a two-leg trade (a pair: one leg per perpetual), booked together and margined once
  fc.record({
    kind: fc.constant('pair' as const),
    who: fc.constantFrom(...TRADERS),
    counterparty: fc.constantFrom(...TRADERS, 'mm'),
    qtys: fc.array(fc.integer({ min: -2000, max: 2000 }).filter((q) => q !== 0), { minLength: 2, maxLength: 2 }),
    off: fc.double({ min: -0.02, max: 0.02, noNaN: true }),
  }),
  fc.record({ kind: fc.constant('withdraw' as const), who: fc.constantFrom(...TRADERS), amount: fc.integer({ min: 1, max: 5000 }), asset: fc.constantFrom('USD', 'USDC') }),
  fc.record({ kind: fc.constant('funding' as const), instrument: fc.constantFrom(...INSTRUMENTS), rate: fc.integer({ min: -100, max: 100 }) }),
  fc.record({ kind: fc.constant('clock' as const) }),
  // dust: an account trading and holding a few ledger units (what repeated partial liquidations leave), whose slack is
  // about what the exact risk's rounding can take (the price bands' error allowance decides whether it is banded)
  fc.record({ kind: fc.constant('dustDeposit' as const), units: fc.integer({ min: 1, max: 200000 }) }),
  fc.record({ kind: fc.constant('dustTrade' as const), instrument: fc.constantFrom(...INSTRUMENTS), units: fc.integer({ min: -100, max: 100 }).filter((u) => u !== 0), off: fc.double({ min: -0.02, max: 0.02, noNaN: true }) }),
);

/** A number of ledger units (10^-8) as a decimal string. */
const unitsText = (units: number): string => (units / 1e8).toFixed(8);

type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

type ImpactArb = { law: string; k: string; halfLifeSeconds: number; instrument: string };

function inputsFor(rules: { grace: number; concentrate: boolean; callBelow: string; model: string; tiers: readonly Record<string, string>[]; cureAt: string; bankruptcy: string; step: string; slippage: string; feeRate: string; isolated: string[]; opening: number[]; impact?: ImpactArb; venue?: string; fundingFormula?: boolean; adl?: Record<string, unknown> }, steps: Step[], gaps: number[]): Record<string, unknown>[] {
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
        isolatedAccounts: rules.model === 'tiered' || rules.model === 'dynamic' ? rules.isolated : [],
        concentration: rules.concentrate ? { 'BTC-PERP': { threshold: '20000', rate: '0.03' } } : {},
        collateral: { USDC: { haircut: '0.05' } },
        instruments: { '*': { tiers: rules.tiers } },
        ...(rules.impact
          ? { impact: { instruments: { [rules.impact.instrument]: { law: rules.impact.law, k: rules.impact.k, depth: '200000', halfLifeSeconds: rules.impact.halfLifeSeconds } } } }
          : {}),
        ...(rules.model === 'var'
          ? { model: 'var', history: { sampleSeconds: 600 }, var: { confidence: '0.95', lookback: 20, horizonDays: 1, minimumHistory: 3, fallbackRate: '0.1' } }
          : {}),
        ...(rules.venue && (rules.model === 'tiered' || rules.model === 'dynamic') ? { venueLiquidation: VENUES[rules.venue] } : {}),
        ...(rules.fundingFormula ? { funding: { instruments: { '*': { interestRate: '0.0001', clamp: '0.0005', cap: '0.003' } } } } : {}),
        ...(rules.model === 'dynamic' ? { history: { sampleSeconds: 600 }, dynamic: { referenceVolatility: '0.8', floor: '0.5', cap: '3' } } : {}),
        ...(rules.model === 'portfolio'
          ? {
              model: 'portfolio',
              portfolio: {
                underlyings: Object.fromEntries(INSTRUMENTS.map((i) => [i, { priceScanRange: '0.08', volScanRange: '0.25' }])),
                groups: [{ members: INSTRUMENTS, offset: '0.5' }],
              },
            }
          : {}),
      }),
    },
    ...INSTRUMENTS.map((instrument) => ({ type: 'InstrumentListed', ts: at(0), instrument, kind: 'perpetual' })),
    ...INSTRUMENTS.map((instrument) => ({ type: 'PriceUpdated', ts: at(0), instrument, price: String(START[instrument]) })),
    { type: 'InstrumentListed', ts: at(0), instrument: 'USDC', kind: 'index' },
    { type: 'PriceUpdated', ts: at(0), instrument: 'USDC', price: '1' },
    { type: 'Deposited', ts: at(0), account: 'mm', asset: 'USD', amount: '10000000' },
    { type: 'Deposited', ts: at(0), account: 'insurance', asset: 'USD', amount: '2000' },
    ...TRADERS.map((account, i) => ({ type: 'Deposited', ts: at(0), account, asset: 'USD', amount: String(rules.opening[i]) })),
  ];
  steps.forEach((step, i) => {
    t += gaps[i % gaps.length]!;
    const ts = at(t);
    switch (step.kind) {
      case 'deposit':
        out.push({ type: 'Deposited', ts, account: step.who, asset: step.asset, amount: String(step.amount) });
        break;
      case 'depeg':
        out.push({ type: 'PriceUpdated', ts, instrument: 'USDC', price: (step.price / 100).toFixed(2) });
        break;
      case 'price':
        marks[step.instrument] = Math.max(1, Math.round(marks[step.instrument]! * (1 + step.move) * 100) / 100);
        out.push({ type: 'PriceUpdated', ts, instrument: step.instrument, price: marks[step.instrument]!.toFixed(2) });
        break;
      case 'trade':
        if (step.buyer === step.seller) break; // the schema refuses self-trades
        out.push({
          type: 'TradeExecuted',
          ts,
          tradeId: `t${i}`,
          instrument: step.instrument,
          buyer: step.buyer,
          seller: step.seller,
          qty: (step.qty / 100).toFixed(2),
          price: Math.max(0.01, marks[step.instrument]! * (1 + step.off)).toFixed(2),
          buyerFee: '0.1',
          sellerFee: '0',
        });
        break;
      case 'move':
        INSTRUMENTS.forEach((instrument, k) => (marks[instrument] = Math.max(1, Math.round(marks[instrument]! * (1 + step.moves[k]!) * 100) / 100)));
        out.push({
          type: 'MarketMoved',
          ts,
          marks: [
            ...INSTRUMENTS.map((instrument) => ({ instrument, price: marks[instrument]!.toFixed(2) })),
            ...(step.depeg === undefined ? [] : [{ instrument: 'USDC', price: (step.depeg / 100).toFixed(2) }]),
          ],
        });
        break;
      case 'pair':
        if (step.who === step.counterparty) break; // the schema refuses self-trades
        out.push({
          type: 'MultiLegTradeExecuted',
          ts,
          tradeId: `t${i}`,
          legs: INSTRUMENTS.map((instrument, k) => {
            const qty = step.qtys[k]!;
            return {
              instrument,
              buyer: qty > 0 ? step.who : step.counterparty,
              seller: qty > 0 ? step.counterparty : step.who,
              qty: (Math.abs(qty) / 100).toFixed(2),
              price: Math.max(0.01, marks[instrument]! * (1 + step.off)).toFixed(2),
              buyerFee: '0.1',
            };
          }),
        });
        break;
      case 'withdraw':
        out.push({ type: 'WithdrawalRequested', ts, requestId: `w${i}`, account: step.who, asset: step.asset, amount: String(step.amount) });
        break;
      case 'funding':
        out.push({ type: 'FundingRateApplied', ts, instrument: step.instrument, rate: (step.rate / 100000).toFixed(5) });
        break;
      case 'clock':
        out.push({ type: 'ClockAdvanced', ts });
        break;
      case 'dustDeposit':
        out.push({ type: 'Deposited', ts, account: 'dust', asset: 'USD', amount: unitsText(step.units) });
        break;
      case 'dustTrade':
        out.push({
          type: 'TradeExecuted',
          ts,
          tradeId: `t${i}`,
          instrument: step.instrument,
          buyer: step.units > 0 ? 'dust' : 'mm',
          seller: step.units > 0 ? 'mm' : 'dust',
          qty: unitsText(Math.abs(step.units)),
          price: Math.max(0.01, marks[step.instrument]! * (1 + step.off)).toFixed(2),
          buyerFee: '0',
          sellerFee: '0',
        });
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

describe('clearing properties', () => {
  it('conserves money and nets open interest to zero after every event', () => {
    fc.assert(
      fc.property(scenarioArb, ({ rules, steps, gaps }) => {
        runLive(inputsFor(rules, steps, gaps), { afterEach: (engine) => expect(engine.invariantViolations()).toEqual([]) });
      }),
      { numRuns: 150 * RUNS },
    );
  });

  it('replay (folding inputs and decisions, deciding nothing) equals live', () => {
    fc.assert(
      fc.property(scenarioArb, ({ rules, steps, gaps }) => {
        const live = runLive(inputsFor(rules, steps, gaps));
        expectReplayEqualsLive(live);
        // the log's clock never goes backwards: timers logged before an input carry deadlines between the clock and its ts
        live.log.forEach((event, i) => expect(event.ts).toBeGreaterThanOrEqual(live.log[i - 1]?.ts ?? -Infinity));
      }),
      { numRuns: 100 * RUNS },
    );
  });

  it('two runs of the same inputs give the same outputHash', () => {
    fc.assert(
      fc.property(scenarioArb, ({ rules, steps, gaps }) => {
        const first = runLive(inputsFor(rules, steps, gaps));
        const second = ClearingEngine.create();
        for (const input of first.accepted) second.handle(input);
        expect(second.outputHash).toBe(first.engine.outputHash);
        expect(second.state.stats.decisions).toBe(first.engine.state.stats.decisions);
      }),
      { numRuns: 100 * RUNS },
    );
  });

  it('the fast paths (price bands, the portfolio float screen) change no decision', () => {
    fc.assert(
      fc.property(scenarioArb, ({ rules, steps, gaps }) => {
        expectFastPathsChangeNothing(runLive(inputsFor(rules, steps, gaps)));
      }),
      { numRuns: 100 * RUNS },
    );
  });

  it('the fast paths change no decision across a snapshot restored mid-stream (the float mirrors are taken afresh)', () => {
    fc.assert(
      fc.property(scenarioArb, fc.nat(), ({ rules, steps, gaps }, at) => {
        const inputs = runLive(inputsFor(rules, steps, gaps)).accepted;
        const cut = at % (inputs.length + 1);
        const first = ClearingEngine.create();
        inputs.slice(0, cut).forEach((input) => first.handle(input));
        const restored = ClearingEngine.fromSnapshot(first.snapshot())!;
        inputs.slice(cut).forEach((input) => restored.handle(input));
        const exact = ClearingEngine.create();
        exact.state.fastPaths = false;
        for (const input of inputs) exact.handle(input);
        expect(restored.outputHash).toBe(exact.outputHash);
      }),
      { numRuns: 100 * RUNS },
    );
  });

  it('the fast paths change no decision for a unit left waiting below MM by venue block limits (a case fast-check found)', () => {
    const rules = { grace: 0, callBelow: '1', concentrate: false, model: 'tiered', tiers: [{ upToNotional: '5000', initialRate: '0.05', maintenanceRate: '0.02' }, { initialRate: '0.2', maintenanceRate: '0.1' }] as Record<string, string>[], cureAt: 'initial', bankruptcy: 'adl', step: '1', slippage: '0', feeRate: '0', isolated: ['a'], opening: [1932, 500, 500, 500], impact: { law: 'linear', k: '0.05', halfLifeSeconds: 60, instrument: '*' }, venue: 'dydx-limited', fundingFormula: false };
    const steps = [
      { kind: 'trade', buyer: 'c', seller: 'a', instrument: 'ETH-PERP', qty: 202, off: 0 },
      { kind: 'withdraw', who: 'a', amount: 1, asset: 'USD' },
      { kind: 'move', moves: [0, 0], depeg: undefined },
      { kind: 'dustDeposit', units: 1 },
      { kind: 'clock' },
      { kind: 'trade', buyer: 'c', seller: 'a', instrument: 'ETH-PERP', qty: 799, off: 0 },
      { kind: 'pair', who: 'b', counterparty: 'a', qtys: [-222, 1], off: 0 },
      { kind: 'deposit', who: 'd', amount: 100, asset: 'USD' },
      { kind: 'move', moves: [0, 0], depeg: undefined },
    ] as Step[];
    const screened = runLive(inputsFor(rules, steps, [1]));
    expectFastPathsChangeNothing(screened);
    expect(screened.engine.state.stats.positionsLiquidated).toBeGreaterThan(0);
  });

  it("Drift's shortage sizing with a one-unit step under market impact settles (a case fast-check found: each covering fill moved the mark, leaving a new residual, 1,000 rounds)", () => {
    const rules = { grace: 0, callBelow: '1', concentrate: false, model: 'tiered', tiers: [{ initialRate: '0.1', maintenanceRate: '0.05' }] as Record<string, string>[], cureAt: 'initial', bankruptcy: 'adl', step: '1', slippage: '0', feeRate: '0', isolated: [], opening: [500, 500, 500, 500], impact: { law: 'sqrt', k: '0.05', halfLifeSeconds: 60, instrument: '*' }, venue: 'drift-unit-step', fundingFormula: false };
    const steps = [
      { kind: 'price', instrument: 'BTC-PERP', move: 0 },
      { kind: 'deposit', who: 'c', amount: 917, asset: 'USD' },
      { kind: 'depeg', price: 50 },
      { kind: 'trade', buyer: 'a', seller: 'a', instrument: 'BTC-PERP', qty: 1, off: 0 },
      { kind: 'price', instrument: 'BTC-PERP', move: 0 },
      { kind: 'clock' },
      { kind: 'price', instrument: 'BTC-PERP', move: 0 },
      { kind: 'pair', who: 'c', counterparty: 'a', qtys: [-7, -1860], off: 0 },
      { kind: 'dustTrade', instrument: 'BTC-PERP', units: -1, off: 0 },
      { kind: 'price', instrument: 'BTC-PERP', move: 0 },
    ] as Step[];
    const first = runLive(inputsFor(rules, steps, [0]));
    const second = runLive(inputsFor(rules, steps, [0]));
    expect(first.engine.outputHash).toBe(second.engine.outputHash);
    expect(first.engine.state.stats.positionsLiquidated).toBeGreaterThan(0);
  });

  it('a price update given by its fields (handlePrice, no event object) decides, folds and hashes as handle of the event', () => {
    fc.assert(
      fc.property(scenarioArb, ({ rules, steps, gaps }) => {
        const live = runLive(inputsFor(rules, steps, gaps));
        const byFields = ClearingEngine.create();
        for (const input of live.accepted) {
          if (input.type === 'PriceUpdated' && input.eventId === undefined && input.postedBy === undefined) byFields.handlePrice(input.ts, input.instrument, Number(input.price));
          else byFields.handle(input);
        }
        expect(byFields.outputHash).toBe(live.engine.outputHash);
        expect(byFields.snapshot()).toBe(live.engine.snapshot());
        // both went through handleMark: the state as the log folds it (evolve of each event, not the fields' fold) too
        expect(byFields.summary()).toEqual(expectReplayEqualsLive(live).summary());
      }),
      { numRuns: 100 * RUNS },
    );
  });

  it('a price update given by its fields is refused as the event would be, naming the field, and changes nothing', () => {
    const engine = ClearingEngine.create();
    const given = runLive(inputsFor(fc.sample(rulesArb, { numRuns: 1, seed: 1 })[0]!, [], [0])).accepted;
    for (const input of given) engine.handle(input);
    engine.handlePrice(engine.state.clock + 1000, 'BTC-PERP', 1_000_000_000_000);
    const before = engine.snapshot();
    expect(() => engine.handlePrice(engine.state.clock - 1, 'BTC-PERP', 1_000_000_000_000)).toThrow(expect.objectContaining({ code: 'clock-went-backwards', issues: [expect.objectContaining({ field: 'ts' })] }));
    expect(() => engine.handlePrice(engine.state.clock, 'SOL-PERP', 1_000_000_000_000)).toThrow(expect.objectContaining({ code: 'unknown-instrument', issues: [expect.objectContaining({ field: 'instrument' })] }));
    expect(() => engine.handlePrice(engine.state.clock, 'BTC-PERP', 0)).toThrow(RangeError);
    expect(() => engine.handlePrice(engine.state.clock, 'BTC-PERP', 2 ** 53)).toThrow(RangeError);
    expect(engine.snapshot()).toBe(before);
  });

  it('a snapshot restored mid-stream continues with exactly the same decisions and outputHash', () => {
    fc.assert(
      fc.property(scenarioArb, fc.nat(), ({ rules, steps, gaps }, at) => {
        expectSnapshotResumesLive(runLive(inputsFor(rules, steps, gaps)), at);
      }),
      { numRuns: 100 * RUNS },
    );
  });

  it('grace timers decide the same whichever input reveals them: clock ticks inserted anywhere, or just past a deadline, change no decision', () => {
    // a timer fires at its deadline on the state then, so a ClockAdvanced between two inputs (these streams hold no
    // option, so a tick moves no mark) only reveals earlier what the next input would have: the same decisions in the
    // same order, stamped the same (the input-first order failed this: the expiry took the revealing input's ts and marks).
    // Not under market impact: its residual decays when an input arrives, so a tick is an input that decays it (docs/rules.md §11)
    fc.assert(
      fc.property(scenarioArb, fc.array(fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }), { minLength: 1, maxLength: 100 }), ({ rules, steps, gaps }, ticks) => {
        const live = runLive(inputsFor({ ...rules, impact: undefined }, steps, gaps));
        const ticked = ClearingEngine.create();
        live.accepted.forEach((input, i) => {
          const previous = live.accepted[i - 1];
          const fraction = ticks[i % ticks.length];
          if (previous && fraction !== undefined && input.ts > previous.ts) ticked.handle({ type: 'ClockAdvanced', ts: previous.ts + Math.floor(fraction * (input.ts - previous.ts)) });
          // and a tick just past every deadline this input would pass: it reveals the timer, not the input
          const deadline = ticked.state.saga.earliestDeadline;
          if (deadline + 1 < input.ts) ticked.handle({ type: 'ClockAdvanced', ts: deadline + 1 });
          ticked.handle(input);
        });
        expect(ticked.outputHash).toBe(live.engine.outputHash);
      }),
      { numRuns: 100 * RUNS },
    );
  });

  it('exercises the saga: some generated streams liquidate and go bankrupt', () => {
    // guards the generators above against drifting into streams where nothing happens
    const totals = fc
      .sample(scenarioArb, { numRuns: 100, seed: 7 })
      .map(({ rules, steps, gaps }) => runLive(inputsFor(rules, steps, gaps)).engine.state.stats)
      .reduce(
        (acc, s) => ({ liquidations: acc.liquidations + s.liquidations, bankruptcies: acc.bankruptcies + s.bankruptcies, calls: acc.calls + s.marginCalls, expiries: acc.expiries + s.gracePeriodsExpired }),
        { liquidations: 0, bankruptcies: 0, calls: 0, expiries: 0 },
      );
    expect(totals.liquidations).toBeGreaterThan(0);
    expect(totals.expiries).toBeGreaterThan(0);
    expect(totals.bankruptcies).toBeGreaterThan(0);
    expect(totals.calls).toBeGreaterThan(0);
  });

  it('exercises the impact model: some generated streams move marks by forced fills and cascade', () => {
    const stats = fc
      .sample(scenarioArb, { numRuns: 100, seed: 7 })
      .filter(({ rules }) => rules.impact)
      .map(({ rules, steps, gaps }) => runLive(inputsFor(rules, steps, gaps)).engine.state.stats);
    expect(stats.reduce((n, s) => n + (s.markImpacts ?? 0), 0)).toBeGreaterThan(0);
    expect(stats.reduce((n, s) => n + (s.cascadeWaves ?? 0), 0)).toBeGreaterThan(0);
  });

  it('exercises the venue mechanics: some generated streams liquidate under them, and the fund pays below bankruptcy', () => {
    const stats = fc
      .sample(scenarioArb, { numRuns: 100, seed: 7 })
      .filter(({ rules }) => rules.venue && (rules.model === 'tiered' || rules.model === 'dynamic'))
      .map(({ rules, steps, gaps }) => runLive(inputsFor(rules, steps, gaps)).engine.state.stats);
    expect(stats.reduce((n, s) => n + s.positionsLiquidated, 0)).toBeGreaterThan(0);
    expect(stats.reduce((n, s) => n + s.insuranceDraws, 0)).toBeGreaterThan(0);
  });

  it('exercises the list inputs: generated streams have accepted market moves and multi-leg trades', () => {
    const accepted = fc
      .sample(scenarioArb, { numRuns: 30, seed: 7 })
      .flatMap(({ rules, steps, gaps }) => runLive(inputsFor(rules, steps, gaps)).accepted.map((input) => input.type))
      .filter((type) => type === 'MarketMoved' || type === 'MultiLegTradeExecuted');
    expect(accepted.filter((type) => type === 'MarketMoved').length).toBeGreaterThan(10);
    expect(accepted.filter((type) => type === 'MultiLegTradeExecuted').length).toBeGreaterThan(10);
  });
});
