import fc from 'fast-check';
import { accountTotals, ClearingEngine, evolve } from '@clearsim/clearing';
import { decodeEvent, type InputEvent, type LossSocialized } from '@clearsim/events';
import { unrealizedPnl } from '@clearsim/ledger';
import { at, Given, rulesFor } from '../../clearing/src/testing/given';
import { largestRemainder } from './bankruptcy';

/**
 * Socialized losses (docs/rules.md §6.3): the uncovered losses of one input
 * are shared once over the accounts in profit, and each share is charged
 * against the payer's position gain (its cost basis), so a gain is charged at
 * most once — by one bankruptcy or by many, in one input or over several.
 */
const noGrace = (model: string, bankruptcy = 'socialize'): Record<string, unknown> =>
  rulesFor({ model, marginCall: { graceSeconds: 0 }, liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' }, bankruptcy });

/**
 * The repro of the issue: w (5,000) sells 0.1 BTC-PERP @ 10,000 to mm; a and b (1,000 each) each buy 1 @ 10,000
 * from the backstop; no insurance fund. 10 % / 5 %, one tier.
 */
function repro(model: 'cross' | 'isolated'): Given {
  const g = new Given(noGrace(model));
  g.deposit('w', '5000').deposit('a', '1000').deposit('b', '1000').deposit('mm', '1000000').deposit('backstop', '1000000');
  g.price('10000');
  g.trade('mm', 'w', '0.1', '10000');
  g.trade('a', 'backstop', '1', '10000');
  g.trade('b', 'backstop', '1', '10000');
  return g;
}

describe('a socialized loss charges a gain at most once', () => {
  it('cross: two bankruptcies in one input share their 2,000 once over w’s 200 of gain', () => {
    const g = repro('cross');
    // mark 8,000: a and b each −1,000 (1,000 − 1 × 2,000), bankrupt, no fund: L = 2,000 in all.
    // the only account in profit is w: −0.1 × (8,000 − 10,000) = 200 (mm loses 200; backstop is a system account).
    // amount = min(2,000, 200) = 200, charged once to w's position; a and b receive 200 × 1,000 / 2,000 = 100 each.
    const decisions = g.at(60).price('8000');
    expect(decisions.filter((d) => d.type === 'LossSocialized')).toEqual([
      {
        type: 'LossSocialized',
        ts: at(60),
        account: 'a',
        amount: '200',
        losses: [
          { account: 'a', amount: '100' },
          { account: 'b', amount: '100' },
        ],
        shares: [{ account: 'w', instrument: 'BTC-PERP', amount: '200' }],
      },
    ]);
    // w's cost basis −1,000 + 200 = −800: entry 8,000, uPnL 0; cash untouched; equity 5,000 = its deposit
    expect(g.account('w')).toMatchObject({ cash: '5000', equity: '5000', positions: { 'BTC-PERP': { qty: '-0.1', entryPrice: '8000', unrealizedPnl: '0' } } });
    // a: 1,000 − 2,000 + 100 = −900 left as bad debt (as b)
    expect(g.cash('a')).toBe('-900');
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('isolated twin: the share comes out of w’s position profit, never its free cash', () => {
    const g = repro('isolated');
    // w's isolated position holds IM 10 % × 1,000 = 100 of margin, cash 4,900 free.
    // mark 8,000: a and b −1,000 each; mm (isolated, long 0.1 with 100 of margin) −100: three bankrupt units,
    // L = 2,100; w's 200 of gain is shared once: a and b 200 × 1,000 / 2,100 = 95.23809523…, mm 200 × 100 / 2,100
    // = 9.52380952… (floors 95.23809523, 95.23809523, 9.52380952 = 199.99999998; the two units left go to the
    // largest remainders, a's and b's)
    const decisions = g.at(60).price('8000');
    expect(decisions.filter((d) => d.type === 'AccountBankrupted').map((d) => d.account)).toEqual(['a', 'b', 'mm']);
    expect(decisions.filter((d) => d.type === 'LossSocialized')).toEqual([
      {
        type: 'LossSocialized',
        ts: at(60),
        account: 'a',
        instrument: 'BTC-PERP',
        amount: '200',
        losses: [
          { account: 'a', instrument: 'BTC-PERP', amount: '95.23809524' },
          { account: 'b', instrument: 'BTC-PERP', amount: '95.23809524' },
          { account: 'mm', instrument: 'BTC-PERP', amount: '9.52380952' },
        ],
        shares: [{ account: 'w', instrument: 'BTC-PERP', amount: '200' }],
      },
    ]);
    // cash 4,900 and the position's margin 100 untouched; the gain went: entry 8,000, uPnL 0, equity 5,000
    expect(g.account('w')).toMatchObject({ cash: '4900', equity: '5000', positions: { 'BTC-PERP': { isolatedMargin: '100', entryPrice: '8000', unrealizedPnl: '0' } } });
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('across inputs: a gain already charged is not charged again at the same mark, only what the price adds later', () => {
    const g = repro('cross');
    g.deposit('c', '1000');
    g.trade('c', 'backstop', '0.5', '10000');
    // at 8,000 c has 1,000 − 0.5 × 2,000 = 0 < MM 200: liquidated at 8,000, and closing leaves exactly 0, so not
    // bankrupt. a and b take w's 200 as above.
    g.at(60).price('8000');
    expect(g.account('w')).toMatchObject({ equity: '5000', positions: { 'BTC-PERP': { unrealizedPnl: '0' } } });
    // a new trader d goes bankrupt at the same mark in a later input: w has no gain left, nothing is shared
    g.deposit('d', '100');
    g.trade('d', 'backstop', '0.1', '8000');
    const sameMark = g.at(120).price('8000');
    expect(sameMark.filter((d) => d.type === 'LossSocialized')).toEqual([]);
    // 7,000: d (long 0.1 @ 8,000 with 100) has 100 − 100 = 0 → liquidated at 7,000, closing leaves 0, no loss.
    // e (100, long 0.2 @ 8,000) has 100 − 200 = −100: bankrupt; w's new gain 0.1 × (8,000 − 7,000) = 100 pays it.
    g.deposit('e', '100');
    g.trade('e', 'backstop', '0.2', '8000');
    const moved = g.at(180).price('7000');
    expect(moved.filter((d) => d.type === 'LossSocialized')).toEqual([
      { type: 'LossSocialized', ts: at(180), account: 'e', amount: '100', losses: [{ account: 'e', amount: '100' }], shares: [{ account: 'w', instrument: 'BTC-PERP', amount: '100' }] },
    ]);
    // in all w was charged 200 + 100 = 300 = the whole of its gain 0.1 × (10,000 − 7,000), once
    expect(g.account('w')).toMatchObject({ cash: '5000', equity: '5000', positions: { 'BTC-PERP': { entryPrice: '7000', unrealizedPnl: '0' } } });
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('an account in profit on two positions is charged on each pro rata to its gain', () => {
    const g = new Given(noGrace('cross'));
    g.input({ type: 'InstrumentListed', instrument: 'ETH-PERP', kind: 'perpetual', underlying: 'ETH' });
    g.deposit('w', '10000').deposit('a', '1000').deposit('mm', '1000000').deposit('backstop', '1000000');
    g.price('10000');
    g.price('500', 'ETH-PERP');
    g.trade('mm', 'w', '0.1', '10000'); // w short 0.1 BTC
    g.trade('mm', 'w', '1', '500', 'ETH-PERP'); // w short 1 ETH
    g.price('400', 'ETH-PERP'); // w's ETH gain: 1 × 100 = 100
    g.trade('a', 'backstop', '1', '10000');
    // BTC 8,000: a −1,000 bankrupt; w's BTC gain 200, ETH gain 100, net 300 (mm, the only other account, loses)
    // w pays min(1,000, 300) = 300: BTC 300 × 200 / 300 = 200, ETH 300 × 100 / 300 = 100
    const decisions = g.at(60).price('8000');
    expect(decisions.filter((d) => d.type === 'LossSocialized').map((d) => d.shares)).toEqual([
      [
        { account: 'w', instrument: 'BTC-PERP', amount: '200' },
        { account: 'w', instrument: 'ETH-PERP', amount: '100' },
      ],
    ]);
    expect(g.account('w')).toMatchObject({ equity: '10000', positions: { 'BTC-PERP': { entryPrice: '8000' }, 'ETH-PERP': { entryPrice: '400' } } });
  });
});

describe('largestRemainder', () => {
  it('worked example: 10 over weights 1, 1, 1 → 4, 3, 3 (ties by position)', () => {
    expect(largestRemainder(10n, [1n, 1n, 1n])).toEqual([4n, 3n, 3n]);
  });

  it('sums to the amount, each part within one unit of its exact share and at most its weight', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 1n, max: 10n ** 12n }), { minLength: 1, maxLength: 20 }), fc.double({ min: 0, max: 1, noNaN: true }), (weights, f) => {
        const total = weights.reduce((s, w) => s + w, 0n);
        const amount = (total * BigInt(Math.floor(f * 1e6))) / 1_000_000n;
        const parts = largestRemainder(amount, weights);
        expect(parts.reduce((s, p) => s + p, 0n)).toBe(amount);
        parts.forEach((p, i) => {
          expect(p * total <= amount * weights[i]! + total).toBe(true);
          expect(p * total >= amount * weights[i]! - total).toBe(true);
          expect(p <= weights[i]!).toBe(true);
        });
      }),
    );
  });
});

const T = Date.parse('2026-01-01T00:00:00Z');
const input = (raw: Record<string, unknown>, seconds: number): InputEvent => decodeEvent({ ts: new Date(T + seconds * 1000).toISOString(), ...raw }, 'input') as InputEvent;

const streamArb = fc.record({
  model: fc.constantFrom('cross', 'isolated'),
  bankruptcy: fc.constantFrom('socialize', 'adl'),
  insurance: fc.integer({ min: 0, max: 2_000 }),
  traders: fc.array(fc.record({ cash: fc.integer({ min: 50, max: 5_000 }), lots: fc.integer({ min: -30, max: 30 }).filter((q) => q !== 0), instrument: fc.nat(1), entry: fc.integer({ min: 90, max: 110 }) }), {
    minLength: 3,
    maxLength: 14,
  }),
  moves: fc.array(fc.tuple(fc.nat(1), fc.integer({ min: 60, max: 140 })), { minLength: 1, maxLength: 5 }),
});

describe('property: over random streams with several bankruptcies per input', () => {
  it('no share exceeds the gain it is charged on at the time, a payer keeps all but its gains, money is conserved', () => {
    let crowded = 0;
    let charged = 0;
    fc.assert(
      fc.property(streamArb, (stream) => {
        const inputs: InputEvent[] = [input({ type: 'RulesActivated', rules: noGrace(stream.model, stream.bankruptcy) }, 0)];
        const instruments = ['BTC-PERP', 'ETH-PERP'];
        for (const instrument of instruments) {
          inputs.push(input({ type: 'InstrumentListed', instrument, kind: 'perpetual' }, 0), input({ type: 'PriceUpdated', instrument, price: '100' }, 0));
        }
        inputs.push(input({ type: 'Deposited', account: 'mm', asset: 'USD', amount: '1000000' }, 0), input({ type: 'Deposited', account: 'backstop', asset: 'USD', amount: '1000000' }, 0));
        if (stream.insurance > 0) inputs.push(input({ type: 'Deposited', account: 'insurance', asset: 'USD', amount: String(stream.insurance) }, 0));
        stream.traders.forEach((t, i) => {
          const id = `t${i}`;
          const instrument = instruments[t.instrument]!;
          inputs.push(input({ type: 'Deposited', account: id, asset: 'USD', amount: String(t.cash) }, 0));
          // longs against the backstop, shorts against mm (so mm, not a system account, can be in profit too)
          const [buyer, seller] = t.lots > 0 ? [id, 'backstop'] : [i % 2 === 0 ? 'mm' : 'backstop', id];
          inputs.push(input({ type: 'TradeExecuted', tradeId: `x${i}`, instrument, buyer, seller, qty: String(Math.abs(t.lots)), price: String(t.entry) }, 0));
        });
        stream.moves.forEach(([k, price], i) => inputs.push(input({ type: 'PriceUpdated', instrument: instruments[k]!, price: String(price) }, 60 * (i + 1))));

        const engine = ClearingEngine.create();
        // a shadow folds the same inputs and decisions one by one, to see the state just before each LossSocialized
        const shadow = ClearingEngine.create();
        for (const event of inputs) {
          const { decisions } = engine.handle(event);
          expect(engine.invariantViolations()).toEqual([]);
          evolve(shadow.state, event);
          if (decisions.filter((d) => d.type === 'AccountBankrupted').length >= 2) crowded++;
          for (const decision of decisions) {
            const afterwards = decision.type === 'LossSocialized' ? checkShares(shadow, decision) : undefined;
            evolve(shadow.state, decision);
            afterwards?.();
          }
          if (decisions.some((d) => d.type === 'LossSocialized')) charged++;
        }
      }),
      { numRuns: 200 },
    );
    // guards the generator: several bankruptcies in one input, and losses actually shared
    expect(crowded).toBeGreaterThan(20);
    expect(charged).toBeGreaterThan(20);
  });
});

/** Each share at most its position's gain just before; each payer's equity falls by at most its gains, its PnL stays ≥ 0 where charged. */
function checkShares(shadow: ClearingEngine, decision: LossSocialized): () => void {
  const { ledger } = shadow.state;
  const gainOf = (account: string, instrument: string): bigint => {
    const p = ledger.accounts.get(account)!.positions.get(instrument)!;
    const listed = ledger.instruments.get(instrument)!;
    return unrealizedPnl(p.qty, p.cost, listed.mark!, listed.multiplier);
  };
  const payers = [...new Set(decision.shares.map((s) => s.account))];
  const before = new Map(payers.map((id) => [id, accountTotals(shadow.state, ledger.accounts.get(id)!).equity]));
  const gains = new Map(payers.map((id) => [id, [...ledger.accounts.get(id)!.positions.values()].reduce((s, p) => (p.qty === 0n ? s : s + (gainOf(id, p.instrument) > 0n ? gainOf(id, p.instrument) : 0n)), 0n)]));
  for (const share of decision.shares) expect(share.amount <= gainOf(share.account, share.instrument)).toBe(true);
  expect(decision.shares.reduce((s, x) => s + x.amount, 0n)).toBe(decision.amount);
  expect(decision.losses.reduce((s, x) => s + x.amount, 0n)).toBe(decision.amount);
  // once folded: each payer's equity down by at most its gains, each charged position's PnL still ≥ 0
  return () => {
    for (const id of payers) expect(accountTotals(shadow.state, ledger.accounts.get(id)!).equity >= before.get(id)! - gains.get(id)!).toBe(true);
    for (const share of decision.shares) expect(gainOf(share.account, share.instrument) >= 0n).toBe(true);
  };
}
