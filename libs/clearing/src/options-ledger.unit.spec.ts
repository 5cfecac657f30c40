import { Given, rulesFor } from './testing/given';

/**
 * Options are premium style: the buyer pays the premium in cash at the trade
 * and the position counts at its full value; at expiry it settles in cash at
 * its payoff. Rules: one "*" tier, IM 10%, MM 5% of the option's notional
 * (the portfolio models margin options properly; this is the ledger).
 */
function optionBook(): Given {
  const g = new Given(rulesFor({ marginCall: { graceSeconds: 3600 } }));
  g.input({ type: 'InstrumentListed', instrument: 'BTC', kind: 'index' });
  g.input({ type: 'InstrumentListed', instrument: 'BTC-C-10000', kind: 'option', underlying: 'BTC', optionType: 'call', strike: '10000', expiry: '2026-01-31T08:00:00Z' });
  g.deposit('alice', '5000').deposit('bob', '5000');
  g.price('10000', 'BTC');
  g.price('500', 'BTC-C-10000');
  return g;
}

describe('premium-style options', () => {
  it('the buyer pays the premium in cash; equity counts the position at value', () => {
    const g = optionBook();
    // alice buys 2 calls at 500 from bob: premium 2 × 500 = 1,000 moves from alice's cash to bob's
    g.trade('alice', 'bob', '2', '500', 'BTC-C-10000');
    expect(g.account('alice')).toMatchObject({ cash: '4000', equity: '5000', positions: { 'BTC-C-10000': { qty: '2', entryPrice: '500', unrealizedPnl: '0' } } });
    expect(g.account('bob')).toMatchObject({ cash: '6000', equity: '5000' });
    // the call's mark rises to 800: alice's equity 4,000 + 2 × 800 = 5,600; bob's 6,000 − 1,600 = 4,400
    g.price('800', 'BTC-C-10000');
    expect(g.account('alice')).toMatchObject({ equity: '5600', positions: { 'BTC-C-10000': { unrealizedPnl: '600' } } });
    expect(g.account('bob')).toMatchObject({ equity: '4400' });
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('closing moves the sale premium into cash', () => {
    const g = optionBook();
    g.trade('alice', 'bob', '2', '500', 'BTC-C-10000');
    // alice sells 1 back at 700: cash 4,000 + 700 = 4,700; the remaining call keeps its 500 entry
    g.trade('bob', 'alice', '1', '700', 'BTC-C-10000');
    expect(g.account('alice')).toMatchObject({ cash: '4700', positions: { 'BTC-C-10000': { qty: '1', entryPrice: '500' } } });
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('settles in cash at its payoff at expiry', () => {
    const g = optionBook();
    g.trade('alice', 'bob', '2', '500', 'BTC-C-10000');
    // settled against the underlying at 10,900: payoff max(10,900 − 10,000, 0) = 900 per call;
    // alice receives 1,800 (cash 4,000 + 1,800), bob pays it (6,000 − 1,800)
    g.input({ type: 'InstrumentSettled', instrument: 'BTC-C-10000', price: '10900' });
    expect(g.account('alice')).toMatchObject({ cash: '5800', positions: {} });
    expect(g.account('bob')).toMatchObject({ cash: '4200', positions: {} });
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('an out-of-the-money call expires worthless', () => {
    const g = optionBook();
    g.trade('alice', 'bob', '2', '500', 'BTC-C-10000');
    g.input({ type: 'InstrumentSettled', instrument: 'BTC-C-10000', price: '9000' });
    expect([g.cash('alice'), g.cash('bob')]).toEqual(['4000', '6000']);
  });
});
