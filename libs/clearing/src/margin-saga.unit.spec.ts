import { at, Given, rulesFor } from './testing/given';

/**
 * Worked examples of the margin saga (docs/rules.md). Default test rules: one tier
 * for every instrument with IM 10%, MM 5%; grace 3600 s, cure at IM;
 * immediate liquidation below 0.5 × MM; step 1; no slippage; fee 1% of the
 * closed notional to the insurance fund; losses socialized.
 */
function setup(rules = rulesFor()): Given {
  const g = new Given(rules);
  g.deposit('alice', '1000').deposit('mm', '1000000').deposit('insurance', '1000');
  g.price('10000');
  expect(g.trade('alice', 'mm', '1', '10000')).toEqual([]);
  return g;
}

describe('margin call → cure', () => {
  it('calls for IM − equity with a deadline, and the call is met by a deposit', () => {
    const g = setup();
    // mark 9,450: equity = 1,000 − 550 = 450 < MM = 5% × 9,450 = 472.5; 0.5 × MM = 236.25 ≤ 450 → call
    // amount = IM − equity = 945 − 450 = 495; deadline = 60 s + 3,600 s
    expect(g.at(60).price('9450')).toEqual([
      { type: 'MarginCallIssued', ts: at(60), account: 'alice', amount: '495', deadline: at(3660), equity: '450', initialMargin: '945', maintenanceMargin: '472.5' },
    ]);
    expect(g.account('alice').status).toBe('margin-call');
    // a deposit of 495 exactly reaches the cure level: equity 945 = IM 945
    expect(g.at(1800).input({ type: 'Deposited', account: 'alice', asset: 'USD', amount: '495' })).toEqual([
      { type: 'MarginCallMet', ts: at(1800), account: 'alice', cureLevel: '945', equity: '945' },
    ]);
    expect(g.account('alice').status).toBe('healthy');
  });

  it('a cure at maintenance level when the rules say cureAt: maintenance', () => {
    const g = setup(rulesFor({ marginCall: { graceSeconds: 3600, cureAt: 'maintenance' } }));
    g.at(60).price('9450'); // equity 450, MM 472.5 → called
    // back to 9,480: equity 480 ≥ MM 474 → met (it would not be at IM 948)
    expect(g.at(120).price('9480')).toEqual([{ type: 'MarginCallMet', ts: at(120), account: 'alice', cureLevel: '474', equity: '480' }]);
  });
});

describe('grace expiry → liquidation', () => {
  it('fires at its deadline once an event passes it, on the log clock, stamped with the deadline', () => {
    const g = setup();
    g.at(60).price('9450');
    // exactly at the deadline the call is still open and nothing fires
    expect(g.at(3660).input({ type: 'ClockAdvanced' })).toEqual([]);
    // one second later the grace period has expired: at the deadline (3,660 s), close all (step 1) at mark 9,450
    // to the backstop, fee = 1% × 9,450 = 94.5 (equity left 450 ≥ 94.5, so uncapped)
    expect(g.at(3661).input({ type: 'ClockAdvanced' })).toEqual([
      { type: 'GracePeriodExpired', ts: at(3660), account: 'alice', deadline: at(3660) },
      { type: 'LiquidationStarted', ts: at(3660), account: 'alice', equity: '450', maintenanceMargin: '472.5', reason: 'grace-period-expired' },
      { type: 'PositionLiquidated', ts: at(3660), account: 'alice', instrument: 'BTC-PERP', qty: '-1', price: '9450', counterparty: 'backstop', fee: '94.5' },
    ]);
    // alice: 1,000 − 550 realized − 94.5 fee = 355.5; insurance 1,000 + 94.5; the backstop holds long 1 @ 9,450
    expect(g.cash('alice')).toBe('355.5');
    expect(g.cash('insurance')).toBe('1094.5');
    expect(g.account('backstop').positions).toMatchObject({ 'BTC-PERP': { qty: '1', entryPrice: '9450' } });
    expect(g.account('alice').status).toBe('liquidated');
  });

  it('graceSeconds 0 liquidates at equity < MM, with no call', () => {
    const g = setup(rulesFor({ marginCall: { graceSeconds: 0 } }));
    const decisions = g.at(60).price('9450');
    expect(decisions.map((d) => d.type)).toEqual(['LiquidationStarted', 'PositionLiquidated']);
    expect(decisions[0]).toMatchObject({ reason: 'below-maintenance' });
  });
});

describe('early calls (callBelow > 1), crypto style', () => {
  const crypto = () => setup(rulesFor({ marginCall: { graceSeconds: 0, callBelow: '1.25' } }));

  it('warns below 1.25 × MM with no deadline, and is met back at IM', () => {
    const g = crypto();
    // 9,500: equity 500 ≥ MM 475 but < 1.25 × 475 = 593.75 → a call with no deadline; amount = IM 950 − 500
    expect(g.at(60).price('9500')).toEqual([
      { type: 'MarginCallIssued', ts: at(60), account: 'alice', amount: '450', equity: '500', initialMargin: '950', maintenanceMargin: '475' },
    ]);
    // no timer: an hour later nothing has expired
    expect(g.at(3660).input({ type: 'ClockAdvanced' })).toEqual([]);
    // 9,600: equity 600 < IM 960 → still called; a deposit of 400 → equity 1,000 ≥ 960 → met
    expect(g.price('9600')).toEqual([]);
    expect(g.input({ type: 'Deposited', account: 'alice', asset: 'USD', amount: '400' }).map((d) => d.type)).toEqual(['MarginCallMet']);
  });

  it('liquidates a warned account at MM, with no grace', () => {
    const g = crypto();
    g.at(60).price('9500');
    // 9,460: equity 460 < MM 473 → liquidated at once
    expect(g.at(120).price('9460')[0]).toMatchObject({ type: 'LiquidationStarted', reason: 'below-maintenance', equity: '460', maintenanceMargin: '473' });
  });
});

describe('immediate liquidation', () => {
  it('liquidates a called account that falls below immediateBelow × MM, grace or not', () => {
    const g = setup();
    // 9,300: equity 300, MM 465, half MM 232.5 → a call, not yet immediate
    expect(g.at(60).price('9300').map((d) => d.type)).toEqual(['MarginCallIssued']);
    // 9,200: equity 200 < 0.5 × 460 = 230 → liquidate now; fee = min(1% × 9,200 = 92, equity left 200) = 92
    expect(g.at(120).price('9200')).toEqual([
      { type: 'LiquidationStarted', ts: at(120), account: 'alice', equity: '200', maintenanceMargin: '460', reason: 'below-immediate-threshold' },
      { type: 'PositionLiquidated', ts: at(120), account: 'alice', instrument: 'BTC-PERP', qty: '-1', price: '9200', counterparty: 'backstop', fee: '92' },
    ]);
    expect(g.cash('alice')).toBe('108'); // 1,000 − 800 − 92
  });

  it('a healthy account gapping straight below the threshold is liquidated without a call', () => {
    const g = setup();
    expect(g.at(60).price('9100').map((d) => d.type)).toEqual(['LiquidationStarted', 'PositionLiquidated']);
  });
});

describe('partial liquidation', () => {
  it('closes a step of the original size at a time, largest maintenance first, re-checking after each', () => {
    const g = new Given(rulesFor({ marginCall: { graceSeconds: 0 }, liquidation: { step: '0.25', feeRate: '0' } }));
    g.deposit('alice', '4000').deposit('mm', '1000000');
    g.price('10000');
    g.trade('alice', 'mm', '4', '10000');
    // 9,300: equity = 4,000 − 4 × 700 = 1,200; MM = 5% × 37,200 = 1,860 → liquidate in steps of 1 (25% of 4):
    // after 1: MM = 5% × 3 × 9,300 = 1,395 > 1,200 (closing at mark leaves equity unchanged) → again;
    // after 2: MM = 930 ≤ 1,200 → stop with 2 left.
    const decisions = g.at(60).price('9300');
    expect(decisions.map((d) => [d.type, d.qty])).toEqual([
      ['LiquidationStarted', undefined],
      ['PositionLiquidated', '-1'],
      ['PositionLiquidated', '-1'],
    ]);
    expect(g.account('alice')).toMatchObject({ equity: '1200', maintenanceMargin: '930', positions: { 'BTC-PERP': { qty: '2' } } });
  });

  it('applies slippage against the account', () => {
    const g = setup(rulesFor({ marginCall: { graceSeconds: 0 }, liquidation: { slippage: '0.01', feeRate: '0' } }));
    // long closed at 9,450 × (1 − 1%) = 9,355.5
    expect(g.at(60).price('9450')[1]).toMatchObject({ type: 'PositionLiquidated', price: '9355.5' });
  });
});

describe('bankruptcy', () => {
  function crash(bankruptcy: 'adl' | 'socialize', insurance: string): Given {
    const g = new Given(rulesFor({ marginCall: { graceSeconds: 0 }, bankruptcy }));
    g.deposit('alice', '1000').deposit('bob', '2000').deposit('carol', '10000').deposit('mm', '1000000').deposit('insurance', insurance);
    g.price('10000');
    g.trade('alice', 'bob', '1', '10000'); // bob short 1 against alice
    g.trade('mm', 'carol', '2', '10000'); // carol short 2
    return g;
  }

  it('is covered by the insurance fund while it lasts', () => {
    const g = crash('socialize', '1000');
    // 8,800: alice's equity = 1,000 − 1,200 = −200 → closing at mark leaves −200: bankrupt, deficit 200;
    // the fund (1,000) covers it all, the position goes to the backstop at 8,800, no fee
    expect(g.at(60).price('8800')).toEqual([
      { type: 'LiquidationStarted', ts: at(60), account: 'alice', equity: '-200', maintenanceMargin: '440', reason: 'below-maintenance' },
      { type: 'AccountBankrupted', ts: at(60), account: 'alice', deficit: '200' },
      { type: 'InsuranceFundDrawn', ts: at(60), account: 'alice', fund: 'insurance', amount: '200' },
      { type: 'PositionLiquidated', ts: at(60), account: 'alice', instrument: 'BTC-PERP', qty: '-1', price: '8800', counterparty: 'backstop', fee: '0' },
    ]);
    expect(g.cash('alice')).toBe('0');
    expect(g.cash('insurance')).toBe('800');
    expect(g.account('alice').status).toBe('bankrupt');
  });

  it('auto-deleverages the most profitable, most leveraged opposite position when the fund is exhausted', () => {
    const g = crash('adl', '50');
    // deficit 200, fund 50 → 150 left to ADL.
    // ranking by profit % × effective leverage at 8,800:
    //   bob:   upnl 1,200 / cost 10,000 = 12%; equity 3,200, notional 8,800 → ×2.75  → 0.33
    //   carol: upnl 2,400 / cost 20,000 = 12%; equity 12,400, notional 17,600 → ×1.42 → 0.17
    // bob takes alice's 1 at the bankruptcy price 8,800 + 150 / 1 = 8,950
    expect(g.at(60).price('8800').slice(1)).toEqual([
      { type: 'AccountBankrupted', ts: at(60), account: 'alice', deficit: '200' },
      { type: 'InsuranceFundDrawn', ts: at(60), account: 'alice', fund: 'insurance', amount: '50' },
      { type: 'PositionAutoDeleveraged', ts: at(60), account: 'bob', instrument: 'BTC-PERP', qty: '1', price: '8950', counterparty: 'alice', rank: 1 },
    ]);
    // alice: 1,000 + 50 − (10,000 − 8,950) = 0; bob realizes 10,000 − 8,950 = 1,050 instead of 1,200 at mark
    expect(g.cash('alice')).toBe('0');
    expect(g.cash('bob')).toBe('3050');
    expect(g.account('bob').positions).toEqual({});
    expect(g.engine.invariantViolations()).toEqual([]);
  });

  it('socializes what the fund cannot cover pro rata over positive PnL', () => {
    const g = crash('socialize', '50');
    // deficit 200, fund 50, 150 left; positive PnL at 8,800: bob 1,200, carol 2,400 (mm and backstop are not positive)
    // bob pays 150 × 1,200 / 3,600 = 50, carol 150 × 2,400 / 3,600 = 100, each against its position's gain
    expect(g.at(60).price('8800').slice(-1)).toEqual([
      {
        type: 'LossSocialized',
        ts: at(60),
        account: 'alice',
        amount: '150',
        losses: [{ account: 'alice', amount: '150' }],
        shares: [
          { account: 'bob', instrument: 'BTC-PERP', amount: '50' },
          { account: 'carol', instrument: 'BTC-PERP', amount: '100' },
        ],
      },
    ]);
    expect(g.cash('alice')).toBe('0');
    // bob's cash stays 2,000; his short's cost basis −10,000 + 50 = −9,950 (entry 9,950): uPnL 1,150, equity 3,150
    expect(g.account('bob')).toMatchObject({ cash: '2000', equity: '3150', positions: { 'BTC-PERP': { entryPrice: '9950', unrealizedPnl: '1150' } } });
    expect(g.engine.invariantViolations()).toEqual([]);
  });
});

describe('withdrawals', () => {
  it('are approved only up to free collateral (equity − IM)', () => {
    const g = setup();
    // equity 1,000, IM 1,000 → free collateral 0
    expect(g.at(60).input({ type: 'WithdrawalRequested', requestId: 'w1', account: 'alice', asset: 'USD', amount: '10' })).toEqual([
      { type: 'WithdrawalRejected', ts: at(60), requestId: 'w1', account: 'alice', asset: 'USD', amount: '10', reason: 'insufficient-free-collateral', freeCollateral: '0' },
    ]);
    // 10,500: equity 1,500, IM 1,050 → free 450; 400 is approved
    g.price('10500');
    expect(g.input({ type: 'WithdrawalRequested', requestId: 'w2', account: 'alice', asset: 'USD', amount: '400' })).toEqual([
      { type: 'WithdrawalApproved', ts: at(60), requestId: 'w2', account: 'alice', asset: 'USD', amount: '400' },
    ]);
    expect(g.cash('alice')).toBe('600');
    // a repeated request id is ignored, not paid twice
    expect(g.input({ type: 'WithdrawalRequested', requestId: 'w2', account: 'alice', asset: 'USD', amount: '400' })).toEqual([]);
    expect(g.cash('alice')).toBe('600');
  });
});

describe('rules activated while positions are open', () => {
  it('are refused (no-margin-rules, naming rules) when they do not margin an instrument held; the state is unchanged', () => {
    const g = setup();
    const before = JSON.stringify(g.account('alice'));
    // tiers for ETH-PERP only: alice's BTC-PERP position would have nothing to be margined by (an internal error
    // at the next check, a 500 over HTTP)
    const ethOnly = rulesFor({ name: 'eth-only', instruments: { 'ETH-PERP': { tiers: [{ initialRate: '0.1', maintenanceRate: '0.05' }] } } });
    expect(() => g.at(60).input({ type: 'RulesActivated', rules: ethOnly })).toThrow(expect.objectContaining({ code: 'no-margin-rules', issues: [expect.objectContaining({ field: 'rules' })] }));
    expect(() => g.at(60).input({ type: 'RulesActivated', rules: ethOnly })).toThrow('rules "eth-only" have no margin tiers for "BTC-PERP" (add it, or a "*" default, under instruments), and positions in "BTC-PERP" are open');
    // a lending model margins no positions at all
    const lending = rulesFor({ name: 'lend', model: 'lending', marginCall: { graceSeconds: 0 }, instruments: {}, lending: { assets: { ETH: { ltv: '0.8', liquidationThreshold: '0.825' } }, closeFactor: '0.5', liquidationBonus: '0.05' } });
    expect(() => g.at(60).input({ type: 'RulesActivated', rules: lending })).toThrow(/lending model, which margins no positions/);
    expect(JSON.stringify(g.account('alice'))).toBe(before);
    // rules that margin it are taken, and the account is checked under them
    expect(g.at(60).input({ type: 'RulesActivated', rules: rulesFor({ name: 'btc-tiers' }) })).toEqual([]);
  });
});
