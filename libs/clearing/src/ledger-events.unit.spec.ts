import { at, Given, rulesFor } from './testing/given';

describe('isolated vs cross', () => {
  // bob: long 1 BTC @ 10,000 and long 10 ETH @ 1,000, deposit 2,000. BTC falls to 8,500 (−1,500), ETH rises to 1,100 (+1,000).
  function bob(rules: Record<string, unknown>): { g: Given; decisions: Record<string, unknown>[] } {
    const g = new Given(rules);
    g.input({ type: 'InstrumentListed', instrument: 'ETH-PERP', kind: 'perpetual', underlying: 'ETH' });
    g.deposit('bob', '2000').deposit('mm', '1000000');
    g.price('10000');
    g.price('1000', 'ETH-PERP');
    g.trade('bob', 'mm', '1', '10000');
    g.trade('bob', 'mm', '10', '1000', 'ETH-PERP');
    g.at(60).price('1100', 'ETH-PERP');
    return { g, decisions: g.price('8500') };
  }

  it('cross: the ETH profit carries the BTC loss', () => {
    // equity = 2,000 − 1,500 + 1,000 = 1,500; MM = 5% × (8,500 + 11,000) = 975 → healthy
    const { g, decisions } = bob(rulesFor({ marginCall: { graceSeconds: 0 } }));
    expect(decisions).toEqual([]);
    expect(g.account('bob')).toMatchObject({ equity: '1500', maintenanceMargin: '975', marginMode: 'cross' });
  });

  it('isolated: the BTC position stands alone and is liquidated', () => {
    // each trade moved IM of the new position from cash: BTC 1,000, ETH 1,000 → cash 0.
    // BTC position: margin 1,000 − 1,500 = −500 < 0 → bankrupt; ETH position untouched
    const { g, decisions } = bob(rulesFor({ marginCall: { graceSeconds: 0 }, isolatedAccounts: ['bob'] }));
    expect(decisions.map((d) => [d.type, d.instrument])).toEqual([
      ['LiquidationStarted', 'BTC-PERP'],
      ['AccountBankrupted', 'BTC-PERP'],
      ['PositionLiquidated', 'BTC-PERP'],
      ['LossSocialized', 'BTC-PERP'],
    ]);
    expect(decisions[1]).toMatchObject({ deficit: '500' });
    const account = g.account('bob');
    expect(account.marginMode).toBe('isolated');
    expect(Object.keys(account.positions as object)).toEqual(['ETH-PERP']);
    expect(g.engine.invariantViolations()).toEqual([]);
  });
});

describe('funding', () => {
  it('longs pay shorts qty × mark × rate × multiplier when the rate is positive', () => {
    const g = new Given();
    g.deposit('alice', '1000').deposit('bob', '1000');
    g.price('10000');
    g.trade('alice', 'bob', '1', '10000');
    // 1 × 10,000 × 0.0001 = 1
    expect(g.at(28800).input({ type: 'FundingRateApplied', instrument: 'BTC-PERP', rate: '0.0001' })).toEqual([
      { type: 'FundingSettled', ts: at(28800), account: 'alice', instrument: 'BTC-PERP', rate: '0.0001', amount: '-1' },
      { type: 'FundingSettled', ts: at(28800), account: 'bob', instrument: 'BTC-PERP', rate: '0.0001', amount: '1' },
    ]);
    expect([g.cash('alice'), g.cash('bob')]).toEqual(['999', '1001']);
  });

  it('rounds each side down and sends the residual to the fee account', () => {
    const g = new Given();
    g.deposit('alice', '1000').deposit('bob', '1000');
    g.price('10001');
    g.trade('alice', 'bob', '0.3', '10001');
    // 0.3 × 10,001 × 0.00000007 = 0.000210021: alice pays ⌊−0.000210021⌋ = −0.00021003, bob gets ⌊0.000210021⌋ = 0.00021002
    const decisions = g.input({ type: 'FundingRateApplied', instrument: 'BTC-PERP', rate: '0.00000007' });
    expect(decisions.map((d) => [d.account, d.amount])).toEqual([
      ['alice', '-0.00021003'],
      ['bob', '0.00021002'],
      ['fees', '0.00000001'],
    ]);
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('negative rates make shorts pay longs', () => {
    const g = new Given();
    // bob holds exactly MM (5% × 20,000 = 1,000): paying funding puts him under MM, and the saga calls him
    g.deposit('alice', '1000').deposit('bob', '1000');
    g.price('10000');
    g.trade('alice', 'bob', '2', '10000');
    const decisions = g.input({ type: 'FundingRateApplied', instrument: 'BTC-PERP', rate: '-0.0005' });
    // 2 × 10,000 × 0.0005 = 10 from bob to alice
    expect(decisions.map((d) => [d.account, d.amount])).toEqual([
      ['alice', '10'],
      ['bob', '-10'],
      ['bob', '1010'], // MarginCallIssued: IM 2,000 − equity 990
    ]);
    expect(decisions[2]).toMatchObject({ type: 'MarginCallIssued', equity: '990' });
  });
});

describe('expiry', () => {
  it('closes every position at the settlement price', () => {
    const g = new Given();
    g.input({ type: 'InstrumentListed', instrument: 'BTC-0327', kind: 'future', underlying: 'BTC', expiry: '2026-03-27T08:00:00Z' });
    g.deposit('alice', '1000').deposit('bob', '1000');
    g.price('10000', 'BTC-0327');
    g.trade('alice', 'bob', '1', '10000', 'BTC-0327');
    // settle at 10,500: alice realizes +500, bob −500, no positions remain
    g.at(86400).input({ type: 'InstrumentSettled', instrument: 'BTC-0327', price: '10500' });
    expect(g.account('alice')).toMatchObject({ cash: '1500', positions: {} });
    expect(g.account('bob')).toMatchObject({ cash: '500', positions: {} });
    expect(g.engine.invariantViolations()).toEqual([]);
    // a settled instrument trades no more
    expect(() => g.trade('alice', 'bob', '1', '10000', 'BTC-0327')).toThrow(/already been settled/);
  });
});

describe('trade fees', () => {
  it('go to the fee account; a negative fee is a rebate', () => {
    const g = new Given();
    g.deposit('alice', '1000').deposit('bob', '1000').deposit('fees', '10');
    g.price('10000');
    g.input({ type: 'TradeExecuted', tradeId: 'x', instrument: 'BTC-PERP', buyer: 'alice', seller: 'bob', qty: '0.1', price: '10000', buyerFee: '0.5', sellerFee: '-0.1' });
    expect([g.cash('alice'), g.cash('bob'), g.cash('fees')]).toEqual(['999.5', '1000.1', '10.4']);
  });
});

describe("the holders' index (ledger.holders): exactly the accounts with an open position, as checkInvariants proves", () => {
  it('a fill that leaves a position open does not touch the index, opening and closing do; a broken index is named', () => {
    const g = new Given(rulesFor({ marginCall: { graceSeconds: 0 } }));
    g.deposit('alice', '10000').deposit('bob', '10000').deposit('mm', '1000000');
    g.price('100');
    const holders = () => [...(g.engine.state.ledger.holders.get('BTC-PERP') ?? [])].sort();
    g.trade('alice', 'mm', '10', '100');
    g.trade('bob', 'mm', '5', '100');
    expect(holders()).toEqual(['alice', 'bob', 'mm']);
    // alice adds, mm stays short: both were holders and still are
    g.trade('alice', 'mm', '10', '100');
    expect(holders()).toEqual(['alice', 'bob', 'mm']);
    // bob closes (5 − 5 = 0): he leaves the index; mm, short 25 − 5 = 20, stays
    g.trade('mm', 'bob', '5', '100');
    expect(holders()).toEqual(['alice', 'mm']);
    expect(g.engine.invariantViolations()).toEqual([]);
    // an index that lost a holder, or kept one who holds nothing, is a violation naming what is wrong
    const index = g.engine.state.ledger.holders.get('BTC-PERP')!;
    index.delete('alice');
    expect(g.engine.invariantViolations()).toEqual(['alice holds BTC-PERP but is not among its holders', 'BTC-PERP lists 1 holders but 2 accounts hold it']);
    index.add('alice');
    index.add('bob');
    expect(g.engine.invariantViolations()).toEqual(['BTC-PERP lists 3 holders but 2 accounts hold it']);
  });
});
