import fc from 'fast-check';
import { ClearingEngine } from '@clearsim/clearing';
import { Given, rulesFor } from '../../clearing/src/testing/given';

/**
 * The ADL policies (docs/rules.md "ADL policies") on one deficit. Rules: no grace, full liquidation below
 * 0.5 × MM, no slippage, no fee, one tier IM 10 % / MM 5 %, no insurance fund, `bankruptcy: adl`.
 *
 * B (1,000) buys 1 BTC-PERP @ 10,000 from s1; s2 sells 2 @ 12,000 and s3 sells 1 @ 11,000 to mm.
 * s1 deposits 1,000, s2 5,000, s3 500. The mark falls to 8,500:
 * - B: 1,000 − 1 × 1,500 = −500 → bankrupt, deficit 500, its long 1 to close;
 * - the shorts in profit (the candidates): PnL s1 1 × 1,500 = 1,500; s2 2 × 3,500 = 7,000; s3 1 × 2,500 = 2,500;
 *   equity s1 2,500, s2 12,000, s3 3,000; notional s1 8,500, s2 17,000, s3 8,500.
 * At the bankruptcy price p = 8,500 + 500 ÷ 1 = 9,000 the fills take 500 from the counterparties against the mark.
 */
function deficit(adl: Record<string, unknown> | undefined): Given {
  const g = new Given(rulesFor({ marginCall: { graceSeconds: 0 }, liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' }, bankruptcy: 'adl', ...(adl ? { adl } : {}) }));
  g.deposit('B', '1000').deposit('s1', '1000').deposit('s2', '5000').deposit('s3', '500').deposit('mm', '1000000');
  g.price('10000');
  g.trade('B', 's1', '1', '10000');
  g.trade('mm', 's2', '2', '12000');
  g.trade('mm', 's3', '1', '11000');
  return g;
}

const adlFills = (decisions: Record<string, unknown>[]) => decisions.filter((d) => d.type === 'PositionAutoDeleveraged').map((d) => [d.account, d.qty, d.price]);
const adlFigures = (g: Given) => g.engine.summary({ accounts: false }).adl;

describe('ADL policies on the same deficit (who, how much, overshoot)', () => {
  it('no adl block: the queue at the bankruptcy price, as before — s3 (highest profit % × leverage) closes 1 @ 9,000', () => {
    // scores (PnL ÷ |cost|) × (notional ÷ equity): s1 0.15 × 3.4 = 0.51; s2 (7,000 ÷ 24,000) × (17,000 ÷ 12,000) = 0.4132;
    // s3 (2,500 ÷ 11,000) × (8,500 ÷ 3,000) = 0.6439 → s3 first, takes all of B's 1
    const g = deficit(undefined);
    expect(adlFills(g.at(60).price('8500'))).toEqual([['s3', '1', '9000']]);
    // covered 1 × (9,000 − 8,500) = 500; profit taken: s3's whole PnL 2,500; overshoot 2,500 − 500 = 2,000
    expect(adlFigures(g)).toEqual({ deficitCovered: '500', profitTaken: '2500', overshoot: '2000', accountsDeleveraged: 1, notionalDeleveraged: '8500' });
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('queue (explicit, dYdX-style check not binding): the same decisions as no block', () => {
    const a = deficit(undefined);
    const b = deficit({ policy: 'queue' });
    expect(b.at(60).price('8500')).toEqual(a.at(60).price('8500'));
  });

  it('sort-index (Hyperliquid): s1 first — for a short (entry ÷ mark) × (notional ÷ equity) = |cost| ÷ equity', () => {
    // s1 10,000 ÷ 2,500 = 4; s2 24,000 ÷ 12,000 = 2; s3 11,000 ÷ 3,000 = 3.67 → s1 closes 1 @ 9,000
    const g = deficit({ policy: 'sort-index' });
    expect(adlFills(g.at(60).price('8500'))).toEqual([['s1', '1', '9000']]);
    // covered 500; profit taken s1's 1,500; overshoot 1,000
    expect(adlFigures(g)).toMatchObject({ deficitCovered: '500', profitTaken: '1500', overshoot: '1000', accountsDeleveraged: 1 });
  });

  it('pro-rata: every short in profit closes the same quarter of itself (held 4, wanted 1) @ 9,000', () => {
    // s1 1 × 1 ÷ 4 = 0.25; s2 1 × 2 ÷ 4 = 0.5; s3 0.25, in account-id order
    const g = deficit({ policy: 'pro-rata' });
    expect(adlFills(g.at(60).price('8500'))).toEqual([
      ['s1', '0.25', '9000'],
      ['s2', '0.5', '9000'],
      ['s3', '0.25', '9000'],
    ]);
    // covered (0.25 + 0.5 + 0.25) × 500 = 500; profit taken ¼ × (1,500 + 7,000 + 2,500) = 2,750; overshoot 2,250
    expect(adlFigures(g)).toEqual({ deficitCovered: '500', profitTaken: '2750', overshoot: '2250', accountsDeleveraged: 3, notionalDeleveraged: '8500' });
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('risk-aware: pro rata to size × effective leverage, the most leveraged (s1, 3.4×) reducing most', () => {
    // weights (10^-8 units, floored): s1 1 × 8,500 ÷ 2,500 = 3.4; s2 2 × 17,000 ÷ 12,000 = 2.83333333…; s3 1 × 8,500 ÷ 3,000
    // = 2.83333333…; total 9.06666666…; shares of 1: s1 3.4 ÷ 9.0667 = 0.375, s2 = s3 = 0.3125 (the floors leave one
    // 10^-8, given by largest remainder)
    const g = deficit({ policy: 'risk-aware' });
    const fills = adlFills(g.at(60).price('8500'));
    expect(fills.map(([account]) => account)).toEqual(['s1', 's2', 's3']);
    const qty = fills.map(([, q]) => Number(q));
    expect(qty[0]).toBeCloseTo(0.375, 7);
    expect(qty[1]).toBeCloseTo(0.3125, 7);
    expect(qty[2]).toBeCloseTo(0.3125, 7);
    expect(qty.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 8);
    // profit taken 1,500 × 0.375 + 7,000 × 0.3125 ÷ 2 + 2,500 × 0.3125 = 562.5 + 1,093.75 + 781.25 = 2,437.5 (to 10^-4:
    // the shares are floored to 10^-8)
    const figures = adlFigures(g)!;
    expect(figures.deficitCovered).toBe('500');
    expect(Number(figures.profitTaken)).toBeCloseTo(2437.5, 4);
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('fill at the mark (Hyperliquid: "closed at the previous oracle price"): nothing recovered by the fills, the 500 socialized', () => {
    const g = deficit({ policy: 'sort-index', fill: 'mark' });
    const decisions = g.at(60).price('8500');
    expect(adlFills(decisions)).toEqual([['s1', '1', '8500']]);
    // covered 0, profit taken 1,500: overshoot 1,500; the deficit goes to the accounts still in profit, s2 and s3:
    // 500 × 7,000 ÷ 9,500 and 500 × 2,500 ÷ 9,500
    expect(adlFigures(g)).toMatchObject({ deficitCovered: '0', profitTaken: '1500', overshoot: '1500' });
    expect(decisions.filter((d) => d.type === 'LossSocialized').map((d) => d.amount)).toEqual(['500']);
  });
});

/**
 * The counterparty check (dYdX v4 deleverages an offsetting subaccount at the bankrupt's bankruptcy price only
 * while the offsetting subaccount stays collateralized, protocol/x/clob/keeper/deleveraging.go):
 * B (9,000) buys 2 @ 10,000 from the backstop; at 6,000 c sells 1 @ 6,000 to it with 600. At 4,000:
 * B 9,000 − 2 × 6,000 = −3,000 → deficit 3,000; c, the only short in profit: PnL 2,000, equity 2,600.
 * Unchecked the bankruptcy price is 4,000 + 3,000 ÷ 1 = 7,000: c loses 3,000 against the mark, equity −400.
 * Checked, c's price is 4,000 + 2,600 ÷ 1 = 6,600: c ends at equity 0, its own bankruptcy price, never past it;
 * the 400 left stays owed by B (no one else in profit: bad debt).
 */
function pushed(protectCounterparties: boolean): Given {
  const g = new Given(rulesFor({ marginCall: { graceSeconds: 0 }, liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' }, bankruptcy: 'adl', adl: { policy: 'queue', protectCounterparties } }));
  g.deposit('B', '9000').deposit('c', '600').deposit('backstop', '1000000');
  g.price('10000');
  g.trade('B', 'backstop', '2', '10000');
  g.at(30).price('6000');
  g.trade('backstop', 'c', '1', '6000');
  return g;
}

describe('ADL never fills a counterparty past its own bankruptcy price when the policy says so', () => {
  it('unchecked: c buys back @ 7,000 and ends at −400', () => {
    const g = pushed(false);
    expect(adlFills(g.at(60).price('4000'))).toEqual([['c', '1', '7000']]);
    expect(g.account('c')).toMatchObject({ equity: '-400' });
  });

  it('checked: c buys back @ 6,600 and ends at 0; B keeps 400 of bad debt', () => {
    const g = pushed(true);
    expect(adlFills(g.at(60).price('4000'))).toEqual([['c', '1', '6600']]);
    expect(g.account('c')).toMatchObject({ equity: '0' });
    expect(g.cash('B')).toBe('-400');
    expect(adlFigures(g)).toMatchObject({ deficitCovered: '2600', profitTaken: '2000', overshoot: '-600' });
    expect(g.engine.invariantViolations()).toEqual([]);
  });
});

describe('adl rules compose where they apply', () => {
  const activate = (rules: Record<string, unknown>) => ClearingEngine.create().handle({ type: 'RulesActivated', ts: 0, rules } as never);
  it('refuses an adl block under bankruptcy: socialize, naming the field', () => {
    expect(() => activate(rulesFor({ adl: { policy: 'pro-rata' } }))).toThrow(/adl.*bankruptcy: adl/s);
  });
  it('refuses an adl block under model: lending (no opposite positions to deleverage)', () => {
    const lending = rulesFor({ model: 'lending', bankruptcy: 'adl', adl: { policy: 'queue' }, lending: { assets: { ETH: { ltv: '0.8', liquidationThreshold: '0.85' } } } });
    expect(() => activate(lending)).toThrow(/adl.*model: lending/s);
  });
  it('refuses an unknown policy', () => {
    expect(() => activate(rulesFor({ bankruptcy: 'adl', adl: { policy: 'lottery' } }))).toThrow(/adl\.policy|policy/);
  });
});

describe('ADL policy properties', () => {
  const policies = ['queue', 'sort-index', 'pro-rata', 'risk-aware'] as const;
  /** A bankrupt long B, shorts in profit of random size, entry and deposit, a crash to `crash`. */
  const scenarioArb = fc.record({
    policy: fc.constantFrom(...policies),
    fill: fc.constantFrom('bankruptcy', 'mark'),
    protect: fc.boolean(),
    bankrupt: fc.record({ deposit: fc.integer({ min: 1000, max: 9000 }), qty: fc.integer({ min: 1, max: 5 }) }),
    shorts: fc.array(fc.record({ deposit: fc.integer({ min: 300, max: 5000 }), qty: fc.integer({ min: 1, max: 300 }), entry: fc.integer({ min: 6000, max: 12000 }) }), { minLength: 1, maxLength: 6 }),
    crash: fc.integer({ min: 3000, max: 5900 }),
  });
  type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;
  function run(s: Scenario, fastPaths = true): Given {
    const g = new Given(rulesFor({ marginCall: { graceSeconds: 0 }, liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' }, bankruptcy: 'adl', adl: { policy: s.policy, fill: s.fill, protectCounterparties: s.protect } }));
    g.engine.state.fastPaths = fastPaths;
    g.deposit('B', String(s.bankrupt.deposit)).deposit('backstop', '100000000');
    s.shorts.forEach((short, i) => g.deposit(`s${i}`, String(short.deposit)));
    g.price('10000');
    g.trade('B', 'backstop', String(s.bankrupt.qty), '10000');
    s.shorts.forEach((short, i) => {
      g.at(10 + i).price(String(short.entry));
      g.trade('backstop', `s${i}`, (short.qty / 100).toFixed(2), String(short.entry));
    });
    g.at(60).price('6000');
    return g;
  }

  it('conserve money, net open interest to zero, and decide the same on the fast and exact paths', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const fast = run(s);
        fast.at(120).price(String(s.crash));
        expect(fast.engine.invariantViolations()).toEqual([]);
        const exact = run(s, false);
        exact.at(120).price(String(s.crash));
        expect(exact.engine.outputHash).toBe(fast.engine.outputHash);
      }),
      { numRuns: 150 },
    );
  });

  it('with protectCounterparties, no deleveraged account is left below zero equity by its fill', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const g = run({ ...s, fill: 'bankruptcy', protect: true });
        const deleveraged = new Set(
          g
            .at(120)
            .price(String(s.crash))
            .filter((d) => d.type === 'PositionAutoDeleveraged')
            .map((d) => d.account as string),
        );
        for (const id of deleveraged) expect(Number(g.account(id).equity)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 150 },
    );
  });

  it('exercise every policy: some generated scenarios deleverage', () => {
    const samples = fc.sample(scenarioArb, { numRuns: 200, seed: 11 });
    const deleveraging = samples.filter((s) => run(s).at(120).price(String(s.crash)).some((d) => d.type === 'PositionAutoDeleveraged'));
    expect(new Set(deleveraging.map((s) => s.policy))).toEqual(new Set(policies));
  });
});

/**
 * Two bankruptcies in one input (adl.batch: input). The book of `deficit` plus C: 700 deposited, long 1 @ 10,000
 * bought from mm. At 8,500: B −500 (deficit 500), C 700 − 1,500 = −800 (deficit 800): Q = 2 BTC, ΣR = 1,300.
 */
function twoDeficits(adl: Record<string, unknown>): Given {
  const g = deficit(adl);
  g.deposit('C', '700');
  g.trade('C', 'mm', '1', '10000');
  return g;
}

describe('ADL batched per input: the whole deficit of the instant shared at once (adl.batch: input)', () => {
  it('pro-rata: the 2 BTC are shared over the 4 held (half of each), each take split over B and C by their sizes', () => {
    const g = twoDeficits({ policy: 'pro-rata', batch: 'input' });
    // takes s1 1 × 2 ÷ 4 = 0.5, s2 1, s3 0.5 (T = 2); filled B 1, C 1; each take split 1 : 1 over B and C;
    // B's fills at 8,500 + 500 ÷ 1 = 9,000, C's at 8,500 + 800 ÷ 1 = 9,300
    expect(adlFills(g.at(60).price('8500'))).toEqual([
      ['s1', '0.25', '9000'],
      ['s2', '0.5', '9000'],
      ['s3', '0.25', '9000'],
      ['s1', '0.25', '9300'],
      ['s2', '0.5', '9300'],
      ['s3', '0.25', '9300'],
    ]);
    // each pays its take ÷ T of ΣR: s1 0.25 × 500 + 0.25 × 800 = 325 = ¼ × 1,300; s2 650 = ½ × 1,300; s3 325.
    // covered 1,300; profit taken s1 ½ × 1,500 + s2 ½ × 7,000 + s3 ½ × 2,500 = 5,500; overshoot 4,200
    expect(adlFigures(g)).toMatchObject({ deficitCovered: '1300', profitTaken: '5500', overshoot: '4200', accountsDeleveraged: 3 });
    expect(g.cash('B')).toBe('0');
    expect(g.cash('C')).toBe('0');
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('pro-rata by size decides the same totals batched or not; risk-aware does not (the leverage changes after the first ADL)', () => {
    const figures = (adl: Record<string, unknown>) => {
      const g = twoDeficits(adl);
      g.at(60).price('8500');
      expect(g.engine.invariantViolations()).toEqual([]);
      return adlFigures(g);
    };
    expect(figures({ policy: 'pro-rata', batch: 'input' })).toEqual(figures({ policy: 'pro-rata' }));
    const batched = twoDeficits({ policy: 'risk-aware', batch: 'input' }).at(60).price('8500');
    const separate = twoDeficits({ policy: 'risk-aware' }).at(60).price('8500');
    expect(adlFills(batched)).not.toEqual(adlFills(separate));
  });

  it('is refused with a queue or the sort index, naming the field', () => {
    expect(() => deficit({ policy: 'queue', batch: 'input' })).toThrow(/field "rules.adl.batch": batch: input shares an instant's deficit pro rata: it needs policy pro-rata or risk-aware, not queue/);
  });
});

describe('ADL batched per input: properties', () => {
  /** Several bankrupt longs and shorts in profit of random size, entry and deposit; one crash bankrupts the longs together. */
  const scenarioArb = fc.record({
    policy: fc.constantFrom('pro-rata' as const, 'risk-aware' as const),
    fill: fc.constantFrom('bankruptcy', 'mark'),
    protect: fc.boolean(),
    longs: fc.array(fc.record({ deposit: fc.integer({ min: 500, max: 9000 }), qty: fc.integer({ min: 1, max: 5 }) }), { minLength: 1, maxLength: 4 }),
    shorts: fc.array(fc.record({ deposit: fc.integer({ min: 300, max: 5000 }), qty: fc.integer({ min: 1, max: 300 }), entry: fc.integer({ min: 6000, max: 12000 }) }), { minLength: 1, maxLength: 6 }),
    fund: fc.constantFrom(0, 2000),
    crash: fc.integer({ min: 3000, max: 5900 }),
  });
  type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;
  /** The book, then the price back to 6,000 and the crash; the decisions of those two inputs in `decided`. */
  function run(s: Scenario, batch: boolean, fastPaths = true, decided: Record<string, unknown>[] = []): Given {
    const adl = { policy: s.policy, fill: s.fill, protectCounterparties: s.protect, ...(batch ? { batch: 'input' } : {}) };
    const g = new Given(rulesFor({ marginCall: { graceSeconds: 0 }, liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' }, bankruptcy: 'adl', adl }));
    g.engine.state.fastPaths = fastPaths;
    g.deposit('backstop', '100000000');
    if (s.fund > 0) g.deposit('insurance', String(s.fund));
    s.longs.forEach((long, i) => g.deposit(`b${i}`, String(long.deposit)));
    s.shorts.forEach((short, i) => g.deposit(`s${i}`, String(short.deposit)));
    g.price('10000');
    s.longs.forEach((long, i) => g.trade(`b${i}`, 'backstop', String(long.qty), '10000'));
    s.shorts.forEach((short, i) => {
      g.at(10 + i).price(String(short.entry));
      g.trade('backstop', `s${i}`, (short.qty / 100).toFixed(2), String(short.entry));
    });
    decided.push(...g.at(60).price('6000'), ...g.at(120).price(String(s.crash)));
    return g;
  }

  it('conserve money, net open interest to zero, and decide the same on the fast and exact paths', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const fast = run(s, true);
        expect(fast.engine.invariantViolations()).toEqual([]);
        expect(run(s, true, false).engine.outputHash).toBe(fast.engine.outputHash);
      }),
      { numRuns: 120 },
    );
  });

  it('with protectCounterparties, no deleveraged account is left below zero equity by its fills', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const decided: Record<string, unknown>[] = [];
        const g = run({ ...s, fill: 'bankruptcy', protect: true }, true, true, decided);
        const deleveraged = new Set(decided.filter((d) => d.type === 'PositionAutoDeleveraged').map((d) => d.account as string));
        for (const id of deleveraged) expect(Number(g.account(id).equity)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 120 },
    );
  });

  it('exercises the batch: some generated crashes bankrupt several longs in one input and deleverage them together', () => {
    const samples = fc.sample(scenarioArb, { numRuns: 100, seed: 5 });
    const batched = samples.filter((s) => {
      const decided: Record<string, unknown>[] = [];
      run(s, true, true, decided);
      // an instant with two bankruptcies or more and ADL fills
      return [...new Set(decided.map((d) => d.ts))].some((ts) => {
        const at = decided.filter((d) => d.ts === ts);
        return at.filter((d) => d.type === 'AccountBankrupted').length > 1 && at.some((d) => d.type === 'PositionAutoDeleveraged');
      });
    });
    expect(batched.length).toBeGreaterThan(0);
  });
});
