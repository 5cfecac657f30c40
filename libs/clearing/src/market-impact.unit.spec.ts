import { at, Given, rulesFor } from './testing/given';

const impact = (law: Record<string, unknown> = {}) => ({ instruments: { '*': { law: 'linear', k: '1', depth: '1000000', capPerFill: '0.05', halfLifeSeconds: 600, ...law } } });

/** grace 0 (liquidation at MM), IM 10 %, MM 5 %, no fee, no slippage; alice and bob long 1 @ 10,000 with 1,000 and 1,100. */
function book(withImpact: boolean, fastPaths = true, capPerInput?: string): Given {
  const rules = withImpact ? { impact: { ...impact(), ...(capPerInput ? { capPerInput } : {}) } } : {};
  const g = new Given(rulesFor({ marginCall: { graceSeconds: 0 }, liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' }, ...rules }));
  g.engine.state.fastPaths = fastPaths;
  g.deposit('alice', '1000').deposit('bob', '1100').deposit('mm', '1000000').deposit('insurance', '1000');
  g.price('10000');
  g.trade('alice', 'mm', '1', '10000');
  g.trade('bob', 'mm', '1', '10000');
  return g;
}

describe('liquidation cascade (rules impact)', () => {
  it('one liquidation moves the mark through the next account: a cascade wave', () => {
    const g = book(true);
    // mark 9,450: alice's equity 1,000 − 550 = 450 < MM 5 % × 9,450 = 472.5 → closed at 9,450 (notional 9,450);
    // bob's 1,100 − 550 = 550 ≥ 472.5 survives that mark.
    // linear impact: Δp/p = 1 × 9,450 / 1,000,000 = 0.00945 → 9,450 × 0.00945 = 89.3025 → mark 9,360.6975;
    // bob: 1,100 − 639.3025 = 460.6975 < MM 5 % × 9,360.6975 = 468.034875 → closed at 9,360.6975;
    // his fill: Δp/p = 9,360.6975 / 1e6 = 0.0093606975 → 0.00936069 (floored to 8 decimals);
    // 9,360.6975 × 0.00936069 = 87.622587481… → 87.62258749 (rounded up) → mark 9,273.07491251; no one is left long
    expect(g.at(60).price('9450')).toEqual([
      { type: 'LiquidationStarted', ts: at(60), account: 'alice', reason: 'below-maintenance', equity: '450', maintenanceMargin: '472.5' },
      { type: 'PositionLiquidated', ts: at(60), account: 'alice', instrument: 'BTC-PERP', qty: '-1', price: '9450', counterparty: 'backstop', fee: '0' },
      { type: 'MarkImpacted', ts: at(60), instrument: 'BTC-PERP', from: '9450', to: '9360.6975', notional: '9450', cause: 'liquidation' },
      { type: 'LiquidationStarted', ts: at(60), account: 'bob', reason: 'below-maintenance', equity: '460.6975', maintenanceMargin: '468.034875' },
      { type: 'PositionLiquidated', ts: at(60), account: 'bob', instrument: 'BTC-PERP', qty: '-1', price: '9360.6975', counterparty: 'backstop', fee: '0' },
      { type: 'MarkImpacted', ts: at(60), instrument: 'BTC-PERP', from: '9360.6975', to: '9273.07491251', notional: '9360.6975', cause: 'liquidation' },
    ]);
    expect(g.account('bob').status).toBe('liquidated');
    expect(g.engine.summary()).toMatchObject({ liquidations: 2, markImpacts: 2, cascadeWaves: 1 });
  });

  it('without impact the second account survives, and the summary has no impact counters', () => {
    const g = book(false);
    expect(g.at(60).price('9450').map((d) => [d.type, d.account])).toEqual([
      ['LiquidationStarted', 'alice'],
      ['PositionLiquidated', 'alice'],
    ]);
    expect(g.account('bob').status).toBe('healthy');
    const summary = g.engine.summary();
    expect(summary).not.toHaveProperty('cascadeWaves');
    expect(summary).not.toHaveProperty('markImpacts');
  });

  it('fills move a mark at most capPerInput of the mark the input found', () => {
    const g = book(true, true, '0.01');
    // the cap: 1 % × 9,450 = 94.5; alice's fill moves it 89.3025 (as above), bob's would move it 87.62258749 more
    // but only 94.5 − 89.3025 = 5.1975 is left → mark 9,360.6975 − 5.1975 = 9,355.5
    expect(g.at(60).price('9450').filter((d) => d.type === 'MarkImpacted').map((d) => d.to)).toEqual(['9360.6975', '9355.5']);
  });

  it('the fast paths (bands, bankruptcy index) change no decision of a cascade', () => {
    expect(book(true, false).at(60).price('9450')).toEqual(book(true, true).at(60).price('9450'));
  });

  it('the residual decays by half each half-life, applied when the next input arrives', () => {
    const g = book(true);
    g.at(60).price('9450'); // mark 9,273.07491251, reference 9,450: residual −176.92508749
    // one half-life (600 s) later a deposit arrives: residual × 2^(−600/600) = × 0.5 → −88.462543745 → −88.46254374
    // (toward zero) → mark 9,450 − 88.46254374 = 9,361.53745626
    expect(g.at(660).input({ type: 'Deposited', account: 'mm', asset: 'USD', amount: '1' })).toEqual([
      { type: 'MarkImpacted', ts: at(660), instrument: 'BTC-PERP', from: '9273.07491251', to: '9361.53745626', notional: '0', cause: 'decay' },
    ]);
    // a new price is the new reference; the residual left (−88.46254374) still displaces it until it decays:
    // 600 s more halve it again → −44.23127187 → mark 9,500 − 44.23127187 = 9,455.76872813
    expect(g.at(1260).price('9500')).toEqual([
      { type: 'MarkImpacted', ts: at(1260), instrument: 'BTC-PERP', from: '9411.53745626', to: '9455.76872813', notional: '0', cause: 'decay' },
    ]);
    // an input at the same instant decays nothing
    expect(g.at(1260).input({ type: 'Deposited', account: 'mm', asset: 'USD', amount: '1' })).toEqual([]);
  });
});
