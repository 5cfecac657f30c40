import { decodeEvent, type InputEvent } from '@clearsim/events';
import { at, Given, rulesFor } from './testing/given';

/**
 * Grace timers fire at their deadlines, on the state as it was then: when an
 * input's `ts` passes a deadline, the expiry and its close-out come first,
 * stamped with the deadline and priced at the marks that prevailed at it;
 * then the input is folded in and decided. Default test rules: IM 10 %,
 * MM 5 %, grace 3,600 s, cure at IM, immediate liquidation below 0.5 × MM,
 * step 1, no slippage, fee 1 % of the closed notional to the insurance fund.
 */
function setup(): Given {
  const g = new Given(rulesFor());
  g.deposit('alice', '1000').deposit('mm', '1000000').deposit('insurance', '1000');
  g.price('10000');
  g.trade('alice', 'mm', '1', '10000');
  // mark 9,450: alice's equity 1,000 − 550 = 450 < MM 472.5 (≥ 0.5 × MM = 236.25) → called, deadline 60 s + 3,600 s
  expect(g.at(60).price('9450')).toMatchObject([{ type: 'MarginCallIssued', account: 'alice', deadline: at(3660) }]);
  return g;
}

/** Feeds one input and returns the engine's whole result (the decisions as events, and how many come before the input). */
function handle(g: Given, raw: Record<string, unknown>, seconds: number) {
  return g.engine.handle(decodeEvent({ ...raw, ts: at(seconds) }, 'input') as InputEvent);
}

describe('grace deadlines passed by a later input', () => {
  it('a later price: the close-out is at the mark of the deadline, not at the price that revealed it', () => {
    const g = setup();
    // the next input is a price of 9,300 at 5,000 s, long after the 3,660 s deadline. At the deadline the mark
    // was 9,450: close 1 @ 9,450 → realized −550, fee 1 % × 9,450 = 94.5 → alice's cash 1,000 − 550 − 94.5 = 355.5.
    // (Closing at 9,300, as the input-first order did, would give −700 − 93 = 207.)
    const result = handle(g, { type: 'PriceUpdated', instrument: 'BTC-PERP', price: '9300' }, 5000);
    expect(result.beforeInput).toBe(3);
    expect(g.input({ type: 'ClockAdvanced', ts: 5001 })).toEqual([]);
    expect(result.decisions.map((d) => [d.type, d.ts])).toEqual([
      ['GracePeriodExpired', Date.parse(at(3660))],
      ['LiquidationStarted', Date.parse(at(3660))],
      ['PositionLiquidated', Date.parse(at(3660))],
    ]);
    expect(result.decisions[2]).toMatchObject({ account: 'alice', qty: -100000000n, price: 945000000000n, fee: 9450000000n });
    expect(g.cash('alice')).toBe('355.5');
    expect(g.cash('insurance')).toBe('1094.5');
    // the backstop took the long at 9,450 and now carries it at the new mark: 9,300 − 9,450 = −150 unrealized
    expect(g.account('backstop').positions).toMatchObject({ 'BTC-PERP': { qty: '1', entryPrice: '9450' } });
    expect(g.engine.state.ledger.instruments.get('BTC-PERP')!.mark).toBe(930000000000n);
  });

  it('a later funding input: funding is settled after the close-out, on the closed-out state', () => {
    const g = setup();
    // at 28,800 s the funding round (rate 0.0001) passes the 3,660 s deadline: first alice is closed out at 9,450
    // (cash 355.5, as above), then funding is paid by the holders *after* it — the backstop now long 1 pays
    // 1 × 9,450 × 0.0001 = 0.945 to mm (short 1); alice, flat, pays nothing
    expect(g.at(28800).input({ type: 'FundingRateApplied', instrument: 'BTC-PERP', rate: '0.0001' })).toEqual([
      { type: 'GracePeriodExpired', ts: at(3660), account: 'alice', deadline: at(3660) },
      { type: 'LiquidationStarted', ts: at(3660), account: 'alice', equity: '450', maintenanceMargin: '472.5', reason: 'grace-period-expired' },
      { type: 'PositionLiquidated', ts: at(3660), account: 'alice', instrument: 'BTC-PERP', qty: '-1', price: '9450', counterparty: 'backstop', fee: '94.5' },
      { type: 'FundingSettled', ts: at(28800), account: 'backstop', instrument: 'BTC-PERP', rate: '0.0001', amount: '-0.945' },
      { type: 'FundingSettled', ts: at(28800), account: 'mm', instrument: 'BTC-PERP', rate: '0.0001', amount: '0.945' },
    ]);
    expect(g.cash('alice')).toBe('355.5');
  });

  it('a later withdrawal request is decided on the closed-out state', () => {
    const g = setup();
    // before the deadline alice's free collateral is negative (equity 450 < IM 945); after the close-out at the
    // deadline she is flat with 355.5 of cash and no requirement, so 355.5 may go
    const decisions = g.at(4000).input({ type: 'WithdrawalRequested', requestId: 'w1', account: 'alice', asset: 'USD', amount: '355.5' });
    expect(decisions.map((d) => [d.type, d.ts])).toEqual([
      ['GracePeriodExpired', at(3660)],
      ['LiquidationStarted', at(3660)],
      ['PositionLiquidated', at(3660)],
      ['WithdrawalApproved', at(4000)],
    ]);
    expect(g.cash('alice')).toBe('0');
  });

  it('two deadlines passed by one input fire in deadline order (ties by account id), each at its own marks', () => {
    const g = new Given(rulesFor());
    g.deposit('mm', '1000000').deposit('insurance', '1000');
    g.deposit('alice', '1000').deposit('abe', '1000').deposit('bob', '1200');
    g.price('10000');
    g.trade('alice', 'mm', '1', '10000');
    g.trade('abe', 'mm', '1', '10000');
    g.trade('bob', 'mm', '1', '10000');
    // at 60 s, mark 9,450: abe and alice (equity 450 < MM 472.5) are called, deadline 3,660 s; bob (650) is not
    expect(g.at(60).price('9450').map((d) => [d.type, d.account, d.deadline])).toEqual([
      ['MarginCallIssued', 'abe', at(3660)],
      ['MarginCallIssued', 'alice', at(3660)],
    ]);
    // at 600 s, mark 9,250: bob's equity 1,200 − 750 = 450 < MM 462.5 → called, deadline 4,200 s; abe and alice
    // (equity 250 ≥ 0.5 × MM = 231.25) stay called
    expect(g.at(600).price('9250').map((d) => [d.type, d.account, d.deadline])).toEqual([['MarginCallIssued', 'bob', at(4200)]]);
    // a price of 9,000 at 5,000 s passes both deadlines: abe and alice at 3,660 (ties by account id), then bob at
    // 4,200, each closed at the 9,250 that was the mark then: realized −750, fee 92.5 → abe and alice
    // 1,000 − 842.5 = 157.5, bob 1,200 − 842.5 = 357.5. (At 9,000 abe and alice would have been bankrupt.)
    const decisions = g.at(5000).price('9000');
    expect(decisions.filter((d) => d.type === 'GracePeriodExpired' || d.type === 'PositionLiquidated').map((d) => [d.type, d.account, d.ts, d.price])).toEqual([
      ['GracePeriodExpired', 'abe', at(3660), undefined],
      ['PositionLiquidated', 'abe', at(3660), '9250'],
      ['GracePeriodExpired', 'alice', at(3660), undefined],
      ['PositionLiquidated', 'alice', at(3660), '9250'],
      ['GracePeriodExpired', 'bob', at(4200), undefined],
      ['PositionLiquidated', 'bob', at(4200), '9250'],
    ]);
    expect([g.cash('abe'), g.cash('alice'), g.cash('bob')]).toEqual(['157.5', '157.5', '357.5']);
    expect(g.engine.state.stats.bankruptcies).toBe(0);
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('a close-out at a deadline can call another account, whose own deadline the same input also passes', () => {
    // no immediate liquidation (0 × MM), 5 % slippage, no fee
    const g = new Given(rulesFor({ liquidation: { immediateBelow: '0', step: '1', slippage: '0.05', feeRate: '0' } }));
    g.input({ type: 'InstrumentListed', instrument: 'ETH-PERP', kind: 'perpetual', underlying: 'ETH' });
    g.deposit('alice', '1000').deposit('w', '800').deposit('backstop', '1000000');
    g.price('10000');
    g.price('1000', 'ETH-PERP');
    g.trade('alice', 'w', '1', '10000'); // alice long 1 BTC, w short 1 BTC
    g.trade('w', 'backstop', '5', '1000', 'ETH-PERP');
    // 60 s: BTC 9,450 → alice called (equity 450 < MM 472.5), deadline 3,660 s (01:01)
    expect(g.at(60).price('9450').map((d) => [d.type, d.account, d.deadline])).toEqual([['MarginCallIssued', 'alice', at(3660)]]);
    // 120 s: BTC 9,100 → alice's equity 100 (≥ 0 × MM: she waits for her deadline); 180 s: ETH 850; 190 s: w buys
    // 5 more ETH at 850 → w: cash 800, BTC +900, ETH 10 @ 925 avg −750 → equity 950 ≥ MM 455 + 425 = 880 (healthy)
    expect(g.at(120).price('9100')).toEqual([]);
    expect(g.at(180).price('850', 'ETH-PERP')).toEqual([]);
    expect(g.at(190).trade('w', 'backstop', '5', '850', 'ETH-PERP')).toEqual([]);
    // a clock at 8,000 s passes alice's deadline (3,660 s). At 3,660: alice closes at 9,100 × 0.95 = 8,645 →
    // 1,000 − 1,355 = −355: bankrupt; the loss is socialized over the winners, capped at their gain: w's net
    // unrealized PnL 900 − 750 = 150. w's equity 950 − 150 = 800 < MM 880 → called at 3,660, deadline 7,260 s
    // (02:01) — which the same clock also passed: at 7,260 w's close-out, at the marks then, is bankrupt too:
    // 650 + (10,000 − 9,555) + 10 × (807.5 − 925) = −80. All of it before the clock, each at its deadline.
    const decisions = g.at(8000).input({ type: 'ClockAdvanced' });
    expect(decisions.map((d) => [d.type, d.ts, d.account])).toEqual([
      ['GracePeriodExpired', at(3660), 'alice'],
      ['LiquidationStarted', at(3660), 'alice'],
      ['AccountBankrupted', at(3660), 'alice'],
      ['PositionLiquidated', at(3660), 'alice'],
      ['LossSocialized', at(3660), 'alice'],
      ['MarginCallIssued', at(3660), 'w'],
      ['GracePeriodExpired', at(7260), 'w'],
      ['LiquidationStarted', at(7260), 'w'],
      ['AccountBankrupted', at(7260), 'w'],
      ['PositionLiquidated', at(7260), 'w'],
      ['PositionLiquidated', at(7260), 'w'],
    ]);
    expect(decisions[2]).toMatchObject({ deficit: '355' });
    expect(decisions[4]).toMatchObject({ shares: [{ account: 'w', amount: '150' }] });
    expect(decisions[5]).toMatchObject({ equity: '800', maintenanceMargin: '880', deadline: at(7260) });
    expect(decisions[8]).toMatchObject({ deficit: '80' });
    expect(decisions.slice(9).map((d) => [d.instrument, d.price])).toEqual([
      ['BTC-PERP', '9555'],
      ['ETH-PERP', '807.5'],
    ]);
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('an input exactly at the deadline is in time: nothing fires, and a cure then is accepted', () => {
    const g = setup();
    // deadline 3,660 s; a deposit of 495 at 3,660 s brings equity to IM 945 → met, no expiry
    expect(g.at(3660).input({ type: 'Deposited', account: 'alice', asset: 'USD', amount: '495' })).toEqual([
      { type: 'MarginCallMet', ts: at(3660), account: 'alice', cureLevel: '945', equity: '945' },
    ]);
    expect(g.at(9999).input({ type: 'ClockAdvanced' })).toEqual([]);
  });

  it('a refused input fires no timer: the clock and the call stay as they were', () => {
    const g = setup();
    // carol never deposited: the trade is refused before anything changes, though its ts is past the deadline
    expect(() => g.at(5000).trade('carol', 'mm', '1', '9450')).toThrow(/carol/);
    expect(g.engine.state.stats.gracePeriodsExpired).toBe(0);
    expect(g.account('alice').status).toBe('margin-call');
    expect(g.engine.state.clock).toBe(Date.parse(at(60)));
  });
});

describe('a called account between its liquidation and its cure', () => {
  it('is banded, not re-checked at every tick: small moves decide nothing, the cure and the immediate close-out are decided', () => {
    const g = setup();
    // called at 9,450 (equity 450, IM 945, MM 472.5). Its band (price-bands.ts pushCalledUnitBands): below, the slack
    // over 0.5 × MM, 450 − 236.25 = 213.75, at 1.025 per unit of mark: ~9,241.7; above, the room to IM, 495, at
    // 1 + 0.1 + 0.05 per unit: ~9,880.0. Before, a called unit's band had zero width: every tick checked it exactly.
    const [band] = g.engine.state.bands.bandsOfAccount('alice');
    expect(band!.lower).toBeGreaterThan(9241);
    expect(band!.lower).toBeLessThan(9242);
    expect(band!.upper).toBeGreaterThan(9879);
    expect(band!.upper).toBeLessThan(9881);
    // ticks inside it decide nothing
    for (const [s, price] of [[70, '9460'], [80, '9300'], [90, '9800'], [100, '9450']] as const) expect(g.at(s).price(price)).toEqual([]);
    // the cure: equity ≥ IM, 1,000 + (m − 10,000) ≥ 0.1 m ⇔ m ≥ 10,000: outside the band but short of it, nothing
    expect(g.at(110).price('9990')).toEqual([]);
    expect(g.at(120).price('10000').map((d) => d.type)).toEqual(['MarginCallMet']);
  });

  it('is closed out at once when a tick takes it below 0.5 × MM, inside its grace period', () => {
    const g = setup();
    // 1,000 + (m − 10,000) < 0.025 m ⇔ m < 9,000 / 0.975 ≈ 9,230.8
    expect(g.at(70).price('9240')).toEqual([]);
    expect(g.at(80).price('9230').map((d) => d.type)).toEqual(expect.arrayContaining(['LiquidationStarted']));
  });
});
