import { NO_COLLATERAL, PositionMap } from '@clearsim/ledger';
import { ClearingEngine } from './clearing-engine';
import { Given } from './testing/given';

/** alice long 1 BTC-PERP, bob (never traded) with cash only, carol with two positions. */
function book(): Given {
  const g = new Given();
  g.input({ type: 'InstrumentListed', instrument: 'ETH-PERP', kind: 'perpetual', underlying: 'ETH' });
  g.deposit('mm', '1000000').deposit('alice', '5000').deposit('bob', '100').deposit('carol', '5000');
  g.price('10000');
  g.price('500', 'ETH-PERP');
  g.trade('alice', 'mm', '1', '10000');
  g.trade('carol', 'mm', '1', '10000');
  g.trade('mm', 'carol', '2', '500', 'ETH-PERP');
  return g;
}

describe('snapshot of the accounts', () => {
  it('writes positions as the Map they stand for and reads them back into a PositionMap', () => {
    const g = book();
    const text = g.engine.snapshot();
    // the text is what it was when positions were a Map: {"$m": [[instrument, position], …]}
    expect(text).toContain('"positions":{"$m":[["BTC-PERP",{"instrument":"BTC-PERP","qty":{"$n":"100000000"}');
    const restored = ClearingEngine.fromSnapshot(text)!;
    const carol = restored.state.ledger.accounts.get('carol')!;
    expect(carol.positions).toBeInstanceOf(PositionMap);
    expect([...carol.positions.keys()]).toEqual(['BTC-PERP', 'ETH-PERP']);
    expect(restored.state.ledger.accounts.get('bob')!.collateral).toBe(NO_COLLATERAL);
    // the same text again, but for the price bands, a cache a restored engine rebuilds
    expect(restored.snapshot().replace('"bandsStale":true', '"bandsStale":false')).toBe(text);
  });

  it('reads a snapshot written before every account had a version, and decides on as the live engine does', () => {
    const live = book();
    // such an account was written without the field (version was set by its first position change)
    const old = live.engine.snapshot().replace('"id":"bob","cash":{"$n":"10000000000"},"isolated":false,"positions":{"$m":[]},"collateral":{"$m":[]},"deposited":{"$n":"10000000000"},"withdrawn":{"$n":"0"},"version":0', '"id":"bob","cash":{"$n":"10000000000"},"isolated":false,"positions":{"$m":[]},"collateral":{"$m":[]},"deposited":{"$n":"10000000000"},"withdrawn":{"$n":"0"}');
    expect(old).not.toBe(live.engine.snapshot());
    const restored = ClearingEngine.fromSnapshot(old)!;
    expect(restored.state.ledger.accounts.get('bob')!.version).toBe(0);
    const next = [
      { type: 'TradeExecuted', tradeId: 'late', instrument: 'BTC-PERP', buyer: 'bob', seller: 'mm', qty: '0.001', price: '10000' },
      { type: 'PriceUpdated', instrument: 'BTC-PERP', price: '9000' },
      { type: 'PriceUpdated', instrument: 'BTC-PERP', price: '5000' },
    ];
    const resumed = new Given();
    (resumed as unknown as { engine: ClearingEngine }).engine = restored;
    for (const input of next) expect(resumed.at(60).input(input)).toEqual(live.at(60).input(input));
    expect(restored.state.ledger.accounts.get('bob')!.version).toBe(1);
    expect(restored.outputHash).toBe(live.engine.outputHash);
    expect(restored.summary()).toEqual(live.engine.summary());
  });
});
