import { decodeEvent, encodeEvent, type ClearingEvent, type InputEvent } from '@clearsim/events';
import { rulesFor } from '@clearsim/clearing/testing';
import { InMemoryEventStore } from '@clearsim/store';
import { ShardRunner, type LocatedInput } from './shard-runner';
import { verifyLog } from './verify';

const at = (seconds: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + seconds * 1000).toISOString();
const input = (seconds: number, raw: Record<string, unknown>): LocatedInput => ({ input: decodeEvent({ ts: at(seconds), ...raw }, 'input') as InputEvent });

/**
 * The cascade of libs/clearing/src/market-impact.unit.spec.ts (grace 0, MM 5 %, linear impact k 1 over a depth of
 * 1,000,000, half-life 600 s): alice's close-out at 9,450 moves the mark to 9,360.6975, which closes bob out; later
 * inputs decay the residual and a new price is taken with the residual still on it.
 */
const rules = rulesFor({
  marginCall: { graceSeconds: 0 },
  liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' },
  impact: { instruments: { '*': { law: 'linear', k: '1', depth: '1000000', halfLifeSeconds: 600 } } },
});
const setup = [
  input(0, { type: 'RulesActivated', rules }),
  input(0, { type: 'InstrumentListed', instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC' }),
  input(0, { type: 'Deposited', account: 'mm', asset: 'USD', amount: '1000000' }),
  input(0, { type: 'Deposited', account: 'insurance', asset: 'USD', amount: '1000' }),
  input(0, { type: 'Deposited', account: 'alice', asset: 'USD', amount: '1000' }),
  input(0, { type: 'Deposited', account: 'bob', asset: 'USD', amount: '1100' }),
  input(0, { type: 'PriceUpdated', instrument: 'BTC-PERP', price: '10000' }),
  input(0, { type: 'TradeExecuted', tradeId: 't1', instrument: 'BTC-PERP', buyer: 'alice', seller: 'mm', qty: '1', price: '10000' }),
  input(0, { type: 'TradeExecuted', tradeId: 't2', instrument: 'BTC-PERP', buyer: 'bob', seller: 'mm', qty: '1', price: '10000' }),
  input(60, { type: 'PriceUpdated', instrument: 'BTC-PERP', price: '9450' }),
];
const later = [
  input(660, { type: 'Deposited', account: 'mm', asset: 'USD', amount: '1' }),
  input(1260, { type: 'PriceUpdated', instrument: 'BTC-PERP', price: '9500' }),
  input(9000, { type: 'FundingRateApplied', instrument: 'BTC-PERP', rate: '0.0001' }),
];

async function logOf(store: InMemoryEventStore): Promise<ClearingEvent[]> {
  const out: ClearingEvent[] = [];
  for await (const { event } of store.read(1)) out.push(event);
  return out;
}

describe('a logged liquidation cascade (rules impact)', () => {
  it('replays to the live state and re-simulates (verify) to the logged impacts', async () => {
    const store = new InMemoryEventStore();
    const live = await ShardRunner.open(store);
    await live.run([...setup, ...later]);
    // two fills, then a decay at each later input (the residual halves every 600 s, so it is still there at 9,000 s)
    expect((await logOf(store)).filter((e) => e.type === 'MarkImpacted').map((e) => (e as { cause: string }).cause)).toEqual(['liquidation', 'liquidation', 'decay', 'decay', 'decay']);
    expect(live.engine.summary()).toMatchObject({ liquidations: 2, markImpacts: 5, cascadeWaves: 1 });
    const replayed = await ShardRunner.open(store, { fullReplay: true });
    expect(replayed.engine.summary()).toEqual(live.engine.summary());
    expect(replayed.engine.state.ledger.instruments.get('BTC-PERP')!.mark).toBe(live.engine.state.ledger.instruments.get('BTC-PERP')!.mark);
    const report = await verifyLog(store);
    expect(report.mismatches).toEqual([]);
    expect(report.outputHash).toBe(live.engine.outputHash);
    expect(report.invariantViolations).toEqual([]);
  });

  it('verify names a logged impact the rules do not make', async () => {
    const store = new InMemoryEventStore();
    await (await ShardRunner.open(store)).run([...setup, ...later]);
    // a copy of the log whose first impact pushed the mark further (to 9,300 instead of 9,360.6975)
    const events = await logOf(store);
    const first = events.findIndex((e) => e.type === 'MarkImpacted');
    const tampered = new InMemoryEventStore();
    await tampered.append(
      events.map((e, i) => (i === first ? { ...e, to: 930000000000n } : e)),
      0,
    );
    const report = await verifyLog(tampered);
    expect(report.mismatches[0]).toMatchObject({ position: first + 1 });
    expect(report.mismatches[0]!.decided).toBe(encodeEvent(events[first]!));
  });

  it('a snapshot taken with a residual impact restores and continues with the same decisions', async () => {
    const store = new InMemoryEventStore();
    const first = await ShardRunner.open(store);
    await first.run(setup);
    expect(first.engine.state.impact?.residuals.size).toBe(1);
    await first.snapshot();
    const restored = await ShardRunner.open(store);
    expect(restored.restoredFrom).toBe(first.head);
    await restored.run(later);
    const reference = await ShardRunner.open(new InMemoryEventStore());
    await reference.run([...setup, ...later]);
    expect(restored.engine.outputHash).toBe(reference.engine.outputHash);
    expect(restored.engine.summary()).toEqual(reference.engine.summary());
    const report = await verifyLog(store);
    expect(report.mismatches).toEqual([]);
    expect(report.snapshot).toEqual({ position: first.head, matches: true });
  });
});
