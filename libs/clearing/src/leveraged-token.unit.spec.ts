import fc from 'fast-check';
import { decodeEvent, type InputEvent } from '@clearsim/events';
import { parseRules, RulesError } from '@clearsim/rules';
import { ClearingEngine } from './clearing-engine';
import { InputRejected } from './validate';
import { runLive } from './testing/run-live';
import { at, Given, rulesFor } from './testing/given';

/** A token on BTC-PERP rebalanced by the mm (docs/rules.md §12): band [2, 4] around 3×, no daily instant unless given. */
const token = (overrides: Record<string, unknown> = {}) => ({ instrument: 'BTC-PERP', account: 'bull', counterparty: 'mm', targetLeverage: '3', band: { min: '2', max: '4' }, ...overrides });

/**
 * grace 0 (liquidation at MM), IM 10 %, MM 5 %, no fee; the token's fund holds 10,000 and no position: at the
 * first mark its leverage is 0, below the band, so it buys its basket, 3 × 10,000 / 10,000 = 3 @ 10,000 (3×).
 */
function bull(rules: Record<string, unknown> = {}, tokenOverrides: Record<string, unknown> = {}): Given {
  const g = new Given(rulesFor({ marginCall: { graceSeconds: 0 }, liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' }, tokens: { BTCBULL: token(tokenOverrides) }, ...rules }));
  g.deposit('mm', '1000000').deposit('insurance', '1000').deposit('bull', '10000');
  if (tokenOverrides.band) {
    // a band with no lower edge: the fund trades its basket itself
    g.price('10000');
    expect(g.trade('bull', 'mm', '3', '10000')).toEqual([]);
  } else {
    expect(g.price('10000').map((d) => [d.type, d.reason, d.qty])).toEqual([['TokenRebalanced', 'band', '3']]);
  }
  return g;
}

describe('leveraged tokens (rules tokens)', () => {
  it('FTX\'s worked example: the daily rebalance buys back to 3× (ETHBULL: NAV 11,500, 150 ETH at 210 = 2.74×)', () => {
    // FTX help centre, "How do leveraged tokens rebalance": holdings −20,000 USD + 150 ETH at 210 → NAV
    // −20,000 + 150 × 210 = 11,500, exposure 31,500, leverage 2.74×; at 00:02 UTC it buys to 3×.
    // Here: the fund deposits 11,500 and buys 150 at 210 (cash −20,000 after the trade's cost, as FTX's holdings);
    // FTX's band has no lower edge (min 0), so the fund holds no position until it trades.
    const g = new Given(rulesFor({ marginCall: { graceSeconds: 0 }, tokens: { ETHBULL: token({ account: 'ethbull', dailyAt: '00:02', band: { max: '4' } }) } }));
    g.deposit('mm', '1000000').deposit('ethbull', '11500');
    g.price('210');
    // 2.74× is inside [2, 4]: no band rebalance
    expect(g.trade('ethbull', 'mm', '150', '210')).toEqual([]);
    // the first input at or after 00:02:00 UTC: DP = 3 × 11,500 / 210 = 164.285714285… → 164.28571428 (toward zero);
    // trade DP − 150 = 14.28571428 bought at the mark 210; leverage before 31,500 / 11,500 = 2.739130434… → 2.73913043
    expect(g.at(120).price('210')).toEqual([
      { type: 'TokenRebalanced', ts: at(120), token: 'ETHBULL', account: 'ethbull', counterparty: 'mm', instrument: 'BTC-PERP', qty: '14.28571428', price: '210', nav: '11500', leverage: '2.73913043', reason: 'schedule' },
    ]);
    expect(g.account('ethbull')).toMatchObject({ positions: { 'BTC-PERP': expect.objectContaining({ qty: '164.28571428' }) }, equity: '11500' });
    // once a day: the next input that day (220, leverage 2.75, in band) decides nothing; the next day's 00:02 reinvests
    // the profit: NAV 11,500 + 164.28571428 × 10 = 13,142.8571428; DP = 3 × 13,142.8571428 / 220 = 179.220779220… →
    // 179.22077922; trade 179.22077922 − 164.28571428 = 14.93506494
    expect(g.at(3600).price('220')).toEqual([]);
    expect(g.at(86_400 + 120).price('220').map((d) => [d.type, d.reason, d.qty, d.nav])).toEqual([['TokenRebalanced', 'schedule', '14.93506494', '13142.8571428']]);
  });

  it('rebalances intraday when the leverage leaves the band above (sells) — the trade in numbers', () => {
    const g = bull();
    // 9,000: NAV 10,000 − 3 × 1,000 = 7,000; leverage 27,000 / 7,000 = 3.857 ≤ 4: nothing
    expect(g.at(60).price('9000')).toEqual([]);
    // 8,800: NAV 10,000 − 3 × 1,200 = 6,400; leverage 26,400 / 6,400 = 4.125 > 4 → back to 3×:
    // DP = 3 × 6,400 / 8,800 = 2.181818… → 2.18181818; trade 2.18181818 − 3 = −0.81818182 (sold at 8,800)
    expect(g.at(120).price('8800')).toEqual([
      { type: 'TokenRebalanced', ts: at(120), token: 'BTCBULL', account: 'bull', counterparty: 'mm', instrument: 'BTC-PERP', qty: '-0.81818182', price: '8800', nav: '6400', leverage: '4.125', reason: 'band' },
    ]);
    // a trade at the mark leaves the NAV; the leverage is 2.18181818 × 8,800 / 6,400 = 2.99999999
    expect(g.account('bull')).toMatchObject({ equity: '6400', positions: { 'BTC-PERP': expect.objectContaining({ qty: '2.18181818' }) } });
    // the basket bought at the first mark, and this one
    expect(g.engine.summary()).toMatchObject({ tokenRebalances: 2 });
  });

  it('rebalances when the leverage falls below the band (buys), and a short token buys back when it rises above', () => {
    const g = bull();
    // 14,000: NAV 10,000 + 3 × 4,000 = 22,000; leverage 42,000 / 22,000 = 1.909 < 2 →
    // DP = 3 × 22,000 / 14,000 = 4.714285… → 4.71428571; trade +1.71428571
    expect(g.at(60).price('14000').map((d) => [d.reason, d.qty, d.leverage])).toEqual([['band', '1.71428571', '1.9090909']]);

    const bear = new Given(rulesFor({ marginCall: { graceSeconds: 0 }, tokens: { BTCBEAR: token({ account: 'bear', targetLeverage: '-3' }) } }));
    bear.deposit('mm', '1000000').deposit('bear', '10000');
    // the first mark: leverage 0 < 2 → DP = −3 × 10,000 / 10,000 = −3, sold
    expect(bear.price('10000').map((d) => d.qty)).toEqual(['-3']);
    // 11,000: NAV 10,000 − 3 × 1,000 = 7,000; leverage −33,000 / 7,000 = −4.714 (|·| > 4) →
    // DP = −3 × 7,000 / 11,000 = −1.909090… → −1.90909090 (toward zero); trade −1.90909090 + 3 = +1.0909091
    expect(bear.at(60).price('11000').map((d) => [d.reason, d.qty, d.leverage])).toEqual([['band', '1.0909091', '-4.71428571']]);
  });

  it('the schedule, not the band, names a rebalance due for both; no daily instant without dailyAt', () => {
    const scheduled = bull({}, { dailyAt: '00:01' });
    expect(scheduled.at(120).price('8800').map((d) => d.reason)).toEqual(['schedule']);
    // without dailyAt a day passing inside the band trades nothing
    expect(bull().at(86_400 * 2).price('10100')).toEqual([]);
  });

  it("a rebalance's impact liquidates a trader the price alone left standing: a cascade wave", () => {
    // linear impact, k 1, depth 1,000,000. Alice (1,680) is long 1 @ 10,000.
    // 8,800: alice's equity 1,680 − 1,200 = 480 ≥ MM 5 % × 8,800 = 440: she stands. The token sells 0.81818182
    // (above): notional 0.81818182 × 8,800 = 7,200.000016 → Δp/p = 0.00720000 (floored) → 8,800 × 0.0072 = 63.36
    // → mark 8,736.64. Alice: 1,680 − 1,263.36 = 416.64 < MM 436.832 → liquidated at 8,736.64.
    const impact = { instruments: { '*': { law: 'linear', k: '1', depth: '1000000', halfLifeSeconds: 600 } } };
    // (FTX's band, no lower edge: the fund buys its basket by a trade, which moves no mark)
    const g = bull({ impact }, { band: { max: '4' } });
    g.deposit('alice', '1680');
    g.trade('alice', 'mm', '1', '10000');
    const decisions = g.at(120).price('8800');
    expect(decisions.slice(0, 4)).toEqual([
      { type: 'TokenRebalanced', ts: at(120), token: 'BTCBULL', account: 'bull', counterparty: 'mm', instrument: 'BTC-PERP', qty: '-0.81818182', price: '8800', nav: '6400', leverage: '4.125', reason: 'band' },
      { type: 'MarkImpacted', ts: at(120), instrument: 'BTC-PERP', from: '8800', to: '8736.64', notional: '7200.000016', cause: 'rebalance' },
      { type: 'LiquidationStarted', ts: at(120), account: 'alice', reason: 'below-maintenance', equity: '416.64', maintenanceMargin: '436.832' },
      { type: 'PositionLiquidated', ts: at(120), account: 'alice', instrument: 'BTC-PERP', qty: '-1', price: '8736.64', counterparty: 'backstop', fee: '0' },
    ]);
    expect(g.engine.summary()).toMatchObject({ tokenRebalances: 1, liquidations: 1, cascadeWaves: 1 });

    // without impact she survives the same rebalance
    const calm = bull({}, { band: { max: '4' } });
    calm.deposit('alice', '1680');
    calm.trade('alice', 'mm', '1', '10000');
    expect(calm.at(120).price('8800').map((d) => d.type)).toEqual(['TokenRebalanced']);
    expect(calm.account('alice').status).toBe('healthy');
  });

  it('refuses token rules that cannot work, naming the field', () => {
    const refused = (tokens: Record<string, unknown>, rules: Record<string, unknown> = {}) => {
      try {
        parseRules(rulesFor({ tokens, ...rules }));
      } catch (error) {
        if (error instanceof RulesError) return error.issues.map((i) => `${i.path}: ${i.message}`);
        throw error;
      }
      return [];
    };
    expect(refused({ X: token({ band: { min: '2', max: '3' } }) })).toEqual(['tokens.X.band: the band must enclose |targetLeverage| strictly (min < |target| < max)']);
    expect(refused({ X: token({ targetLeverage: '0' }) })[0]).toMatch(/^tokens\.X\.targetLeverage: must not be 0/);
    expect(refused({ X: token({ counterparty: 'backstop' }) })[0]).toMatch(/^tokens\.X\.counterparty: "backstop" is a system account/);
    expect(refused({ X: token({ dailyAt: '24:00' }) })[0]).toMatch(/^tokens\.X\.dailyAt: must be a UTC time of day/);
    expect(refused({ X: token(), Y: token() })).toEqual(['tokens.Y.account: "bull" is already the account of token X: one fund per token']);
    expect(refused({ X: token() }, { model: 'isolated' })[0]).toMatch(/^tokens\.X: leveraged tokens need model: cross/);
  });
});

/**
 * Properties with tokens: a 3× long and a 3× short token, traders, random price moves, clock jumps across
 * daily instants, with and without impact.
 */
const stepArb = fc.oneof(
  fc.record({ kind: fc.constant('price' as const), move: fc.double({ min: -0.2, max: 0.2, noNaN: true }) }),
  fc.record({ kind: fc.constant('trade' as const), who: fc.constantFrom('a', 'b', 'c'), qty: fc.integer({ min: -300, max: 300 }).filter((q) => q !== 0) }),
  fc.record({ kind: fc.constant('clock' as const), hours: fc.integer({ min: 1, max: 30 }) }),
  // holders create and redeem units (some refused: more units than held, more than the holder can pay)
  fc.record({ kind: fc.constantFrom('create' as const, 'redeem' as const), who: fc.constantFrom('a', 'b', 'c', 'mm'), token: fc.constantFrom('BULL', 'BEAR'), units: fc.integer({ min: 1, max: 800 }) }),
);

function tokenInputs(withImpact: boolean, steps: (typeof stepArb extends fc.Arbitrary<infer T> ? T : never)[]): Record<string, unknown>[] {
  let t = 0;
  let mark = 10000;
  const out: Record<string, unknown>[] = [
    {
      type: 'RulesActivated',
      ts: at(0),
      rules: rulesFor({
        marginCall: { graceSeconds: 0 },
        bankruptcy: 'adl',
        tokens: { BULL: token({ dailyAt: '00:02' }), BEAR: token({ account: 'bear', targetLeverage: '-3', band: { min: '1.5', max: '4.5' } }) },
        ...(withImpact ? { impact: { instruments: { '*': { law: 'sqrt', k: '0.5', depth: '100000', halfLifeSeconds: 300 } } } } : {}),
      }),
    },
    { type: 'InstrumentListed', ts: at(0), instrument: 'BTC-PERP', kind: 'perpetual' },
    ...['mm:1000000', 'insurance:1000', 'bull:10000', 'bear:10000', 'a:2000', 'b:3000', 'c:1500'].map((s) => ({ type: 'Deposited', ts: at(0), account: s.split(':')[0], asset: 'USD', amount: s.split(':')[1] })),
    // the first mark: both funds (leverage 0, below their bands) buy or sell their baskets
    { type: 'PriceUpdated', ts: at(0), instrument: 'BTC-PERP', price: '10000' },
    // the mm holds the first units of each token, at an issue price of 100 (it pays 500 into each fund)
    { type: 'TokenUnitsCreated', ts: at(0), requestId: 'issue-BULL', account: 'mm', token: 'BULL', units: '5', nav: '100' },
    { type: 'TokenUnitsCreated', ts: at(0), requestId: 'issue-BEAR', account: 'mm', token: 'BEAR', units: '5', nav: '100' },
  ];
  steps.forEach((step, i) => {
    t += step.kind === 'clock' ? step.hours * 3600 : 60;
    if (step.kind === 'price') {
      mark = Math.max(100, Math.round(mark * (1 + step.move) * 100) / 100);
      out.push({ type: 'PriceUpdated', ts: at(t), instrument: 'BTC-PERP', price: mark.toFixed(2) });
    } else if (step.kind === 'create' || step.kind === 'redeem') {
      out.push({ type: step.kind === 'create' ? 'TokenUnitsCreated' : 'TokenUnitsRedeemed', ts: at(t), requestId: `u${i}`, account: step.who, token: step.token, units: (step.units / 100).toFixed(2) });
    } else if (step.kind === 'trade') {
      const [buyer, seller] = step.qty > 0 ? [step.who, 'mm'] : ['mm', step.who];
      out.push({ type: 'TradeExecuted', ts: at(t), tradeId: `t${i}`, instrument: 'BTC-PERP', buyer, seller, qty: (Math.abs(step.qty) / 100).toFixed(2), price: mark.toFixed(2) });
    } else {
      out.push({ type: 'ClockAdvanced', ts: at(t) });
    }
  });
  return out;
}


const scenarioArb = fc.record({ impact: fc.boolean(), steps: fc.array(stepArb, { minLength: 5, maxLength: 60 }) });

describe('leveraged token properties', () => {
  it('money is conserved and open interest nets to zero after every event, tokens rebalancing', () => {
    fc.assert(
      fc.property(scenarioArb, ({ impact, steps }) => {
        runLive(tokenInputs(impact, steps), { afterEach: (engine) => expect(engine.invariantViolations()).toEqual([]) });
      }),
      { numRuns: 100 },
    );
  });

  it('is deterministic: two runs, replay, the fast paths off and a snapshot restored midway give the same outputHash', () => {
    fc.assert(
      fc.property(scenarioArb, fc.nat(), ({ impact, steps }, cutAt) => {
        const inputs = tokenInputs(impact, steps);
        const live = runLive(inputs);
        expect(runLive(inputs).engine.outputHash).toBe(live.engine.outputHash);
        expect(runLive(inputs, { fastPaths: false }).engine.outputHash).toBe(live.engine.outputHash);
        const replay = ClearingEngine.create();
        for (const event of live.log) replay.apply(event);
        expect(replay.summary()).toEqual(live.engine.summary());
        // the holders' units, folded from the inputs alone
        expect(replay.state.tokenUnits).toEqual(live.engine.state.tokenUnits);
        const cut = cutAt % (inputs.length + 1);
        const first = runLive(inputs.slice(0, cut)).engine;
        const restored = ClearingEngine.fromSnapshot(first.snapshot())!;
        for (const raw of inputs.slice(cut)) {
          try {
            restored.handle(decodeEvent(raw, 'input') as InputEvent);
          } catch (error) {
            if (!(error instanceof InputRejected)) throw error;
          }
        }
        expect(restored.outputHash).toBe(live.engine.outputHash);
      }),
      { numRuns: 60 },
    );
  });

  it('a redemption that leaves the fund below maintenance sells before any check, fast paths on or off (a counterexample found)', () => {
    // under impact a decaying mark asks for checks of the instrument's holders before the input's own: the fund,
    // which has just paid 4.25 units out, must trade back to 3× first, not be liquidated on the way
    const steps = [
      { kind: 'price' as const, move: 0 },
      { kind: 'clock' as const, hours: 1 },
      { kind: 'trade' as const, who: 'a' as const, qty: -1 },
      { kind: 'redeem' as const, who: 'mm' as const, token: 'BULL' as const, units: 425 },
      { kind: 'price' as const, move: 0 },
    ];
    const inputs = tokenInputs(true, steps);
    const fast = runLive(inputs);
    expect(runLive(inputs, { fastPaths: false }).engine.outputHash).toBe(fast.engine.outputHash);
    expect(fast.log.filter((e) => e.type === 'TokenRebalanced' && (e as { reason: string }).reason === 'redemption')).toHaveLength(1);
    expect(fast.log.some((e) => e.type === 'LiquidationStarted' && (e as { account: string }).account === 'bull')).toBe(false);
  });

  it('exercises the rule: generated streams rebalance on the schedule, on the band and on creations and redemptions, and cascade under impact', () => {
    const runs = fc.sample(scenarioArb, { numRuns: 60, seed: 3 }).map(({ impact, steps }) => runLive(tokenInputs(impact, steps)));
    const reasons = runs.flatMap((r) => r.log.filter((e) => e.type === 'TokenRebalanced').map((e) => (e as { reason: string }).reason));
    expect(reasons).toContain('schedule');
    expect(reasons).toContain('band');
    expect(reasons).toContain('creation');
    expect(reasons).toContain('redemption');
    // holders' creations and redemptions were accepted beyond the issue
    expect(runs.some((r) => r.log.some((e) => e.type === 'TokenUnitsRedeemed'))).toBe(true);
    expect(runs.some((r) => r.log.some((e) => e.type === 'TokenUnitsCreated' && (e as { account: string }).account !== 'mm'))).toBe(true);
    expect(runs.some((r) => r.log.some((e) => e.type === 'MarkImpacted' && (e as { cause: string }).cause === 'rebalance'))).toBe(true);
  });
});
