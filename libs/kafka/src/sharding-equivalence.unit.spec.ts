import { decodeEvent, type InputEvent } from '@clearsim/events';
import { decisionsByAccount, shardedInMemory, singleProcess } from './testing/compare';
import { longDayInputs, twoShardDayInputs } from './testing/scenarios';

describe('N shards together decide exactly what one process decides (in memory, Kafka path routing)', () => {
  it.each([
    ['the two-shard day', 2, twoShardDayInputs()],
    ['the two-shard day', 3, twoShardDayInputs()],
    ['a long day of 6000 inputs', 2, longDayInputs(6000)],
    ['a long day of 6000 inputs', 4, longDayInputs(6000)],
  ])('%s over %i shards', (_name, shards, inputs) => {
    const single = singleProcess(inputs);
    const sharded = shardedInMemory(inputs, shards);
    expect(single.decisions.length).toBeGreaterThan(5);
    // the same decisions per account, in the same order, byte for byte (ts included) …
    expect(decisionsByAccount(sharded.decisions.flat())).toEqual(decisionsByAccount(single.decisions));
    // … and every shard's book balances: open interest nets to zero, money is conserved
    for (const engine of sharded.engines) expect(engine.invariantViolations()).toEqual([]);
  });

  it('a multi-leg trade across shards and a market move: the same decisions per account as one process', () => {
    // with 2 shards: bob, carol → 0; alice, mm → 1. alice's pair has one leg with bob (shard 0) and one with mm.
    const ts = (s: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + s * 1000).toISOString();
    const written: Record<string, unknown>[] = [
      { type: 'RulesActivated', rules: { name: 'r', model: 'cross', marginCall: { graceSeconds: 600, cureAt: 'initial' }, liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' }, bankruptcy: 'socialize', accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' }, instruments: { '*': { tiers: [{ initialRate: '0.1', maintenanceRate: '0.05' }] } } } },
      { type: 'InstrumentListed', instrument: 'X', kind: 'perpetual', multiplier: '1' },
      { type: 'InstrumentListed', instrument: 'Y', kind: 'perpetual', multiplier: '1' },
      { type: 'MarketMoved', marks: [{ instrument: 'X', price: '100' }, { instrument: 'Y', price: '50' }] },
      ...['alice', 'bob', 'carol'].map((account) => ({ type: 'Deposited', account, asset: 'USD', amount: '40' })),
      { type: 'Deposited', account: 'mm', asset: 'USD', amount: '100000' },
      { type: 'MultiLegTradeExecuted', tradeId: 'pair-1', legs: [{ instrument: 'X', buyer: 'alice', seller: 'bob', qty: '2', price: '100', buyerFee: '0.5', sellerFee: '0.5' }, { instrument: 'Y', buyer: 'mm', seller: 'alice', qty: '2', price: '50' }] },
      { type: 'TradeExecuted', tradeId: 't-1', instrument: 'Y', buyer: 'carol', seller: 'mm', qty: '4', price: '50' },
      // alice: −16 − 14 → equity 9.5 < MM 5 % × (184 + 114) = 14.9 → called; then 10.5 < IM 30.1: not cured, liquidated at 900 s
      { type: 'MarketMoved', ts: 60, marks: [{ instrument: 'X', price: '92' }, { instrument: 'Y', price: '57' }] },
      { type: 'MarketMoved', ts: 120, marks: [{ instrument: 'X', price: '93' }, { instrument: 'Y', price: '57.5' }] },
      { type: 'ClockAdvanced', ts: 900 },
    ];
    const raw = written.map((r) => decodeEvent({ ...r, ts: ts(typeof r.ts === 'number' ? r.ts : 0) }, 'input') as InputEvent);
    const single = singleProcess(raw);
    const sharded = shardedInMemory(raw, 2);
    const alice = decisionsByAccount(single.decisions).alice!.map((d) => (JSON.parse(d) as { type: string }).type);
    expect(alice).toEqual(expect.arrayContaining(['MarginCallIssued', 'GracePeriodExpired', 'LiquidationStarted', 'PositionLiquidated']));
    expect(decisionsByAccount(sharded.decisions.flat())).toEqual(decisionsByAccount(single.decisions));
    for (const engine of sharded.engines) expect(engine.invariantViolations()).toEqual([]);
  });

  it('decides a deadline passed on another shard when the clock ticks pass it; without them later, but identically', () => {
    const inputs = twoShardDayInputs();
    const expiry = (byAccount: Record<string, string[]>) => byAccount.alice?.find((d) => d.includes('GracePeriodExpired'));
    const single = decisionsByAccount(singleProcess(inputs).decisions);
    // alice's deadline (called at 10:00:00 + 3,600 s of grace): the expiry is stamped with it, whatever input reveals it
    expect(expiry(single)).toContain('"ts":"2026-01-05T10:20:00Z"');
    expect(expiry(decisionsByAccount(shardedInMemory(inputs, 2).decisions.flat()))).toEqual(expiry(single));
    // carol's deposit at 10:21:40 (shard 0) is the first event past the deadline: with the clock ticks alice's shard
    // (shard 1) decides the expiry then; without them it does not know the time has passed …
    const upToCarolsDeposit = inputs.slice(0, inputs.findIndex((i) => i.type === 'Deposited' && i.eventId === 'carol-topup-1') + 1);
    expect(expiry(decisionsByAccount(shardedInMemory(upToCarolsDeposit, 2).decisions.flat()))).toEqual(expiry(single));
    expect(expiry(decisionsByAccount(shardedInMemory(upToCarolsDeposit, 2, { clockTicks: false }).decisions.flat()))).toBeUndefined();
    // … and decides it at its next own event (the price at 10:30), before folding that price in: the same decisions
    expect(decisionsByAccount(shardedInMemory(inputs, 2, { clockTicks: false }).decisions.flat()).alice).toEqual(single.alice);
  });

  it('differs, as documented, where a shard pools what one process shares: a bankruptcy', () => {
    const ts = '2026-01-01T00:00:00Z';
    const raw = [
      { type: 'RulesActivated', rules: { name: 'r', model: 'cross', marginCall: { graceSeconds: 0, cureAt: 'initial' }, liquidation: { immediateBelow: '1', step: '1', slippage: '0', feeRate: '0' }, bankruptcy: 'socialize', accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' }, instruments: { '*': { tiers: [{ initialRate: '0.1', maintenanceRate: '0.05' }] } } } },
      { type: 'InstrumentListed', instrument: 'X', kind: 'perpetual', multiplier: '1' },
      { type: 'PriceUpdated', instrument: 'X', price: '100' },
      { type: 'Deposited', account: 'insurance', asset: 'USD', amount: '5' }, // shard 0 of 2 only
      { type: 'Deposited', account: 'frank', asset: 'USD', amount: '10' }, // shard 1
      { type: 'Deposited', account: 'bob', asset: 'USD', amount: '1000' }, // shard 0
      { type: 'TradeExecuted', tradeId: 't', instrument: 'X', buyer: 'frank', seller: 'bob', qty: '1', price: '100' },
      { type: 'PriceUpdated', instrument: 'X', price: '80' },
    ].map((r) => decodeEvent({ ts, ...r }, 'input') as InputEvent);
    const single = decisionsByAccount(singleProcess(raw).decisions);
    const sharded = decisionsByAccount(shardedInMemory(raw, 2).decisions.flat());
    expect(single.frank!.some((d) => d.includes('InsuranceFundDrawn'))).toBe(true);
    expect(sharded.frank!.some((d) => d.includes('InsuranceFundDrawn'))).toBe(false); // frank's shard has no insurance fund
  });
});
