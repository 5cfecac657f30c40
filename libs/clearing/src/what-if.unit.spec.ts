import { parseFixed } from '@clearsim/money';
import { Given, rulesFor } from './testing/given';
import { whatIfJson, whatIfTrade, type ProposedTrade } from './what-if';

/**
 * Worked numbers of the what-if (default test rules: one tier, IM 10%, MM 5%).
 * alice has 1,000 of cash; the mark is 10,000.
 */
function setup(rules = rulesFor()): Given {
  const g = new Given(rules);
  g.deposit('alice', '1000').deposit('mm', '1000000');
  g.price('10000');
  return g;
}

const proposal = (side: 'buy' | 'sell', qty: string, price: string, extra: Partial<ProposedTrade> = {}): ProposedTrade => ({
  account: 'alice',
  instrument: 'BTC-PERP',
  side,
  qty: parseFixed(qty),
  price: parseFixed(price),
  ...extra,
});

describe('whatIfTrade', () => {
  it('opening long 1 @ 10,000 uses all of the free collateral', () => {
    const g = setup();
    // after: IM = 10% × 10,000 = 1,000; MM = 500; equity = 1,000 (bought at mark) → free 0
    // liquidation price: 1,000 + (m − 10,000) = 5% × m → m = 9,000 / 0.95 = 9,473.68421053 (rounded up for a long)
    expect(whatIfJson(whatIfTrade(g.engine.state, proposal('buy', '1', '10000')))).toEqual({
      mark: '10000',
      before: { cash: '1000', equity: '1000', initialMargin: '0', maintenanceMargin: '0', freeCollateral: '1000', meetsInitialMargin: true, meetsMaintenanceMargin: true, position: null },
      after: {
        cash: '1000',
        equity: '1000',
        initialMargin: '1000',
        maintenanceMargin: '500',
        freeCollateral: '0',
        meetsInitialMargin: true,
        meetsMaintenanceMargin: true,
        position: { qty: '1', entryPrice: '10000', initialMargin: '1000', maintenanceMargin: '500', liquidationPrice: '9473.68421053' },
      },
      change: { equity: '0', initialMargin: '1000', maintenanceMargin: '500', freeCollateral: '-1000' },
    });
  });

  it('buying above the mark costs equity at once; a fee comes off cash', () => {
    const g = setup();
    // long 1 @ 10,100 with the mark at 10,000: unrealized −100; fee 10 → cash 990, equity 890;
    // IM at mark 1,000 → free −110: short of IM, but above MM 500
    const after = whatIfJson(whatIfTrade(g.engine.state, proposal('buy', '1', '10100', { fee: parseFixed('10') }))).after as Record<string, unknown>;
    expect(after).toMatchObject({ cash: '990', equity: '890', initialMargin: '1000', freeCollateral: '-110', meetsInitialMargin: false, meetsMaintenanceMargin: true });
  });

  it('closing a long realizes its PnL and frees the margin', () => {
    const g = setup();
    g.trade('alice', 'mm', '1', '10000');
    // sell 1 @ 10,500 closes: realized +500 → cash 1,500, flat
    const result = whatIfJson(whatIfTrade(g.engine.state, proposal('sell', '1', '10500')));
    expect(result.before).toMatchObject({ equity: '1000', initialMargin: '1000', freeCollateral: '0', position: { qty: '1' } });
    expect(result.after).toMatchObject({ cash: '1500', equity: '1500', initialMargin: '0', maintenanceMargin: '0', freeCollateral: '1500', position: null });
  });

  it('a flip closes then opens the rest short', () => {
    const g = setup();
    g.trade('alice', 'mm', '1', '10000');
    // sell 3 @ 10,000: closes 1 (realized 0), opens short 2 @ 10,000: IM 2,000 > equity 1,000; MM 1,000 = equity → still meets MM
    const result = whatIfJson(whatIfTrade(g.engine.state, proposal('sell', '3', '10000')));
    expect(result.after).toMatchObject({ equity: '1000', initialMargin: '2000', maintenanceMargin: '1000', freeCollateral: '-1000', meetsInitialMargin: false, meetsMaintenanceMargin: true, position: { qty: '-2', entryPrice: '10000' } });
  });

  it('an isolated account tops the position up from cash to its initial margin', () => {
    const g = setup(rulesFor({ model: 'isolated' }));
    // IM of long 2 @ 10,000 = 2,000 > cash 1,000: all of the cash moves into the position
    const result = whatIfJson(whatIfTrade(g.engine.state, proposal('buy', '2', '10000')));
    expect(result.after).toMatchObject({ cash: '0', equity: '1000', initialMargin: '2000', maintenanceMargin: '1000', meetsInitialMargin: false, meetsMaintenanceMargin: true, position: { qty: '2' } });
  });

  it('never touches the live state', () => {
    const g = setup();
    g.trade('alice', 'mm', '1', '10000');
    const before = JSON.stringify(g.engine.summary());
    const snapshot = g.engine.snapshot();
    whatIfTrade(g.engine.state, proposal('sell', '3', '9000', { fee: parseFixed('5') }));
    whatIfTrade(g.engine.state, { ...proposal('buy', '1', '9000'), account: 'mm' });
    expect(JSON.stringify(g.engine.summary())).toBe(before);
    expect(g.engine.snapshot()).toBe(snapshot);
  });

  it.each([
    ['open', 'buy', '2', '10050'],
    ['flip', 'sell', '3', '9900'],
  ])('the after figures are the account once the trade is booked (%s)', (_name, side, qty, price) => {
    const g = setup();
    g.trade('alice', 'mm', '1', '10000');
    const after = whatIfJson(whatIfTrade(g.engine.state, proposal(side as 'buy' | 'sell', qty, price))).after as Record<string, any>;
    const [buyer, seller] = side === 'buy' ? ['alice', 'mm'] : ['mm', 'alice'];
    g.trade(buyer, seller, qty, price);
    const booked = g.account('alice') as Record<string, any>;
    expect(after).toMatchObject({ cash: booked.cash, equity: booked.equity, initialMargin: booked.initialMargin, maintenanceMargin: booked.maintenanceMargin });
    expect(after.position).toMatchObject({ qty: booked.positions['BTC-PERP'].qty, entryPrice: booked.positions['BTC-PERP'].entryPrice, liquidationPrice: booked.positions['BTC-PERP'].liquidationPrice });
  });

  it('uses the trade price as the mark of an instrument that has none yet', () => {
    const g = setup();
    g.input({ type: 'InstrumentListed', instrument: 'ETH-PERP', kind: 'perpetual', underlying: 'ETH' });
    const result = whatIfTrade(g.engine.state, proposal('buy', '1', '2000', { instrument: 'ETH-PERP' }));
    expect(whatIfJson(result)).toMatchObject({ mark: '2000', after: { initialMargin: '200', equity: '1000' } });
    expect(g.engine.state.ledger.instruments.get('ETH-PERP')!.mark).toBeUndefined();
  });

  it.each([
    ['unknown account', { account: 'nobody' }, 'unknown-account', 'account'],
    ['unknown instrument', { instrument: 'DOGE-PERP' }, 'unknown-instrument', 'instrument'],
  ])('refuses an %s with its reason code', (_name, override, code, field) => {
    const g = setup();
    expect(() => whatIfTrade(g.engine.state, { ...proposal('buy', '1', '10000'), ...override })).toThrow(expect.objectContaining({ code, issues: [expect.objectContaining({ field })] }));
  });
});
