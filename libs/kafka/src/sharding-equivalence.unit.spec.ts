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
      { type: 'Deposited', account: 'insurance', asset: 'USD', amount: '5' }, // shard 1 of 2 only
      { type: 'Deposited', account: 'bob', asset: 'USD', amount: '10' }, // shard 0
      { type: 'Deposited', account: 'mm', asset: 'USD', amount: '1000' }, // shard 1
      { type: 'TradeExecuted', tradeId: 't', instrument: 'X', buyer: 'bob', seller: 'mm', qty: '1', price: '100' },
      { type: 'PriceUpdated', instrument: 'X', price: '80' },
    ].map((r) => decodeEvent({ ts, ...r }, 'input') as InputEvent);
    const single = decisionsByAccount(singleProcess(raw).decisions);
    const sharded = decisionsByAccount(shardedInMemory(raw, 2).decisions.flat());
    expect(single.bob!.some((d) => d.includes('InsuranceFundDrawn'))).toBe(true);
    expect(sharded.bob!.some((d) => d.includes('InsuranceFundDrawn'))).toBe(false); // bob's shard has no insurance fund
  });
});
