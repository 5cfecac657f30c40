import fc from 'fast-check';
import { ClearingEngine } from './clearing-engine';
import { expectFastPathsChangeNothing, expectSnapshotResumesLive, runLive } from './testing/run-live';
import { at, rulesFor } from './testing/given';

/**
 * Properties of the venue margin mechanics (venueMargin, docs/rules.md §15)
 * over random streams: traders and a market maker on two perpetuals, with
 * USDE collateral marked from a blend, under random venue blocks (dYdX
 * open-interest-scaled IMF with chosen leverage, Drift size premium with
 * high-leverage accounts, Coinbase √(size/ADV), Deribit linear in size,
 * tiered and deposit-scaled collateral).
 */
const TRADERS = ['a', 'b', 'c'];
const INSTRUMENTS = ['BTC-PERP', 'ETH-PERP'];
const START: Record<string, number> = { 'BTC-PERP': 10000, 'ETH-PERP': 500 };

const VENUES: Record<string, Record<string, unknown>> = {
  dydx: {
    instruments: { '*': { openInterestScaling: { lowerCap: '5000', upperCap: '200000' } } },
    leverage: { a: { '*': '5' }, b: { 'BTC-PERP': '20' } },
  },
  drift: {
    instruments: { '*': { sizeScaling: { kind: 'sqrt-premium', imfFactor: '0.005', highLeverage: { initialRate: '0.05', maintenanceRate: '0.03' } } } },
    highLeverageAccounts: ['a', 'c'],
  },
  coinbase: { instruments: { '*': { sizeScaling: { kind: 'sqrt-volume', riskParameter: '0.8', averageDailyVolume: '50' } } } },
  deribit: { instruments: { 'BTC-PERP': { sizeScaling: { kind: 'linear', initialPerUnit: '0.01', maintenancePerUnit: '0.01' } } } },
};
const COLLATERAL: Record<string, Record<string, unknown>> = {
  blended: { USDE: { blendedMark: { redemptionPrice: '1', marketWeight: '0.3', floor: '0.9' } } },
  tiered: { USDE: { valueTiers: [{ upToValue: '2000', haircut: '0.05' }, { haircut: '0.5' }], depositScaling: { threshold: '5000' } } },
};

const rulesArb = fc.record({
  venue: fc.constantFrom(...Object.keys(VENUES)),
  collateral: fc.constantFrom(undefined, ...Object.keys(COLLATERAL)),
  grace: fc.constantFrom(0, 600),
  callBelow: fc.constantFrom('1', '1.25'),
  step: fc.constantFrom('1', '0.5'),
  bankruptcy: fc.constantFrom('adl', 'socialize'),
  isolated: fc.subarray(TRADERS, { maxLength: 1 }),
});

const stepArb = fc.oneof(
  fc.record({ kind: fc.constant('deposit' as const), who: fc.constantFrom(...TRADERS), amount: fc.integer({ min: 100, max: 20000 }), asset: fc.constantFrom('USD', 'USD', 'USDE') }),
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
  fc.record({ kind: fc.constant('withdraw' as const), who: fc.constantFrom(...TRADERS), amount: fc.integer({ min: 1, max: 5000 }), asset: fc.constantFrom('USD', 'USDE') }),
  fc.record({ kind: fc.constant('clock' as const) }),
);
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;
type RulesArb = typeof rulesArb extends fc.Arbitrary<infer T> ? T : never;

function inputsFor(rules: RulesArb, steps: Step[]): Record<string, unknown>[] {
  const marks = { ...START };
  const out: Record<string, unknown>[] = [
    {
      type: 'RulesActivated',
      ts: at(0),
      rules: rulesFor({
        marginCall: { graceSeconds: rules.grace, cureAt: 'initial', callBelow: rules.callBelow },
        liquidation: { immediateBelow: '0.5', step: rules.step, slippage: '0.01', feeRate: '0.005' },
        bankruptcy: rules.bankruptcy,
        isolatedAccounts: rules.isolated,
        collateral: { USDE: { haircut: '0.1' } },
        instruments: { '*': { tiers: [{ upToNotional: '20000', initialRate: '0.1', maintenanceRate: '0.05' }, { initialRate: '0.15', maintenanceRate: '0.075', maintenanceAmount: '500' }] } },
        venueMargin: { ...VENUES[rules.venue], ...(rules.collateral ? { collateral: COLLATERAL[rules.collateral] } : {}) },
      }),
    },
    ...INSTRUMENTS.map((instrument) => ({ type: 'InstrumentListed', ts: at(0), instrument, kind: 'perpetual' })),
    ...INSTRUMENTS.map((instrument) => ({ type: 'PriceUpdated', ts: at(0), instrument, price: String(START[instrument]) })),
    { type: 'InstrumentListed', ts: at(0), instrument: 'USDE', kind: 'index' },
    { type: 'PriceUpdated', ts: at(0), instrument: 'USDE', price: '1' },
    { type: 'Deposited', ts: at(0), account: 'mm', asset: 'USD', amount: '10000000' },
    { type: 'Deposited', ts: at(0), account: 'insurance', asset: 'USD', amount: '2000' },
    ...TRADERS.map((account) => ({ type: 'Deposited', ts: at(0), account, asset: 'USD', amount: '3000' })),
  ];
  steps.forEach((step, i) => {
    const ts = at(60 * (i + 1));
    switch (step.kind) {
      case 'deposit':
        out.push({ type: 'Deposited', ts, account: step.who, asset: step.asset, amount: String(step.amount) });
        break;
      case 'depeg':
        out.push({ type: 'PriceUpdated', ts, instrument: 'USDE', price: (step.price / 100).toFixed(2) });
        break;
      case 'price':
        marks[step.instrument] = Math.max(1, Math.round(marks[step.instrument]! * (1 + step.move) * 100) / 100);
        out.push({ type: 'PriceUpdated', ts, instrument: step.instrument, price: marks[step.instrument]!.toFixed(2) });
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
          qty: (step.qty / 100).toFixed(2),
          price: Math.max(0.01, marks[step.instrument]! * (1 + step.off)).toFixed(2),
          buyerFee: '0.1',
          sellerFee: '0',
        });
        break;
      case 'withdraw':
        out.push({ type: 'WithdrawalRequested', ts, requestId: `w${i}`, account: step.who, asset: step.asset, amount: String(step.amount) });
        break;
      case 'clock':
        out.push({ type: 'ClockAdvanced', ts });
        break;
    }
  });
  return out;
}


/** Σ long qty per instrument, counted from the accounts (what the ledger's openInterest must equal). */
function countedOpenInterest(engine: ClearingEngine): Map<string, bigint> {
  const counted = new Map<string, bigint>();
  for (const account of engine.state.ledger.accounts.values()) {
    for (const p of account.positions.values()) if (p.qty > 0n) counted.set(p.instrument, (counted.get(p.instrument) ?? 0n) + p.qty);
  }
  return counted;
}

const RUNS = Number(process.env.PROPERTY_RUNS ?? 1);
const scenarioArb = fc.record({ rules: rulesArb, steps: fc.array(stepArb, { minLength: 10, maxLength: 60 }) });

describe('venue margin properties', () => {
  it('conserve money, net open interest to zero and keep each instrument\'s open interest after every event', () => {
    fc.assert(
      fc.property(scenarioArb, ({ rules, steps }) => {
        runLive(inputsFor(rules, steps), {
          afterEach: (engine) => {
            expect(engine.invariantViolations()).toEqual([]);
            const counted = countedOpenInterest(engine);
            for (const instrument of engine.state.ledger.instruments.values()) expect(instrument.openInterest).toBe(counted.get(instrument.id) ?? 0n);
          },
        });
      }),
      { numRuns: 60 * RUNS },
    );
  });

  it('decide the same twice (the same outputHash)', () => {
    fc.assert(
      fc.property(scenarioArb, ({ rules, steps }) => {
        const first = runLive(inputsFor(rules, steps));
        const second = ClearingEngine.create();
        for (const input of first.accepted) second.handle(input);
        expect(second.outputHash).toBe(first.engine.outputHash);
      }),
      { numRuns: 40 * RUNS },
    );
  });

  it('the fast paths (price bands, the float screen) change no decision', () => {
    fc.assert(
      fc.property(scenarioArb, ({ rules, steps }) => {
        expectFastPathsChangeNothing(runLive(inputsFor(rules, steps)));
      }),
      { numRuns: 60 * RUNS },
    );
  });

  it('a snapshot restored mid-stream continues with the same decisions (the open interest travels with it)', () => {
    fc.assert(
      fc.property(scenarioArb, fc.nat(), ({ rules, steps }, at) => {
        expectSnapshotResumesLive(runLive(inputsFor(rules, steps)), at);
      }),
      { numRuns: 30 * RUNS },
    );
  });
});
