import { decodeEvent, encodeEvent, isInput, type ClearingEvent, type InputEvent } from '@clearsim/events';
import { rulesFor } from '@clearsim/clearing/testing';
import { InMemoryEventStore } from '@clearsim/store';
import { ShardRunner, type LocatedInput } from './shard-runner';
import { verifyLog } from './verify';

const at = (seconds: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + seconds * 1000).toISOString();
const input = (seconds: number, raw: Record<string, unknown>): LocatedInput => ({ input: decodeEvent({ ts: at(seconds), ...raw }, 'input') as InputEvent });

/**
 * A day with grace expiries revealed by later inputs (default test rules: IM 10 %, MM 5 %, grace 3,600 s):
 * alice is called at 60 s (mark 9,450, deadline 3,660 s), bob at 600 s (mark 9,250, deadline 4,200 s); the
 * price at 5,000 s passes both, a funding round at 9,000 s passes nothing.
 */
const setup = [
  input(0, { type: 'RulesActivated', rules: rulesFor() }),
  input(0, { type: 'InstrumentListed', instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC' }),
  input(0, { type: 'Deposited', account: 'mm', asset: 'USD', amount: '1000000' }),
  input(0, { type: 'Deposited', account: 'insurance', asset: 'USD', amount: '1000' }),
  input(0, { type: 'Deposited', account: 'alice', asset: 'USD', amount: '1000' }),
  input(0, { type: 'Deposited', account: 'bob', asset: 'USD', amount: '1200' }),
  input(0, { type: 'PriceUpdated', instrument: 'BTC-PERP', price: '10000' }),
  input(0, { type: 'TradeExecuted', tradeId: 't1', instrument: 'BTC-PERP', buyer: 'alice', seller: 'mm', qty: '1', price: '10000' }),
  input(0, { type: 'TradeExecuted', tradeId: 't2', instrument: 'BTC-PERP', buyer: 'bob', seller: 'mm', qty: '1', price: '10000' }),
  input(60, { type: 'PriceUpdated', instrument: 'BTC-PERP', price: '9450' }),
  input(600, { type: 'PriceUpdated', instrument: 'BTC-PERP', price: '9250' }),
];
const later = [
  input(5000, { type: 'PriceUpdated', instrument: 'BTC-PERP', price: '9000' }),
  input(9000, { type: 'FundingRateApplied', instrument: 'BTC-PERP', rate: '0.0001' }),
  input(9500, { type: 'ClockAdvanced' }),
];

async function logOf(store: InMemoryEventStore): Promise<ClearingEvent[]> {
  const out: ClearingEvent[] = [];
  for await (const { event } of store.read(1)) out.push(event);
  return out;
}

describe('the log of grace timers revealed by a later input', () => {
  it('holds the expired timers before the input that revealed them, stamped with their deadlines, in ts order', async () => {
    const store = new InMemoryEventStore();
    const runner = await ShardRunner.open(store);
    await runner.run([...setup, ...later]);
    const log = await logOf(store);
    const price = log.findIndex((e) => e.type === 'PriceUpdated' && e.ts === Date.parse(at(5000)));
    // alice's expiry at 3,660 s and bob's at 4,200 s, each with its close-out, are logged right before the price
    // that revealed them (5,000 s); nothing after it (the backstop is never called)
    expect(log.slice(price - 6, price + 1).map((e) => [e.type, (e as { account?: string }).account, new Date(e.ts).toISOString()])).toEqual([
      ['GracePeriodExpired', 'alice', at(3660)],
      ['LiquidationStarted', 'alice', at(3660)],
      ['PositionLiquidated', 'alice', at(3660)],
      ['GracePeriodExpired', 'bob', at(4200)],
      ['LiquidationStarted', 'bob', at(4200)],
      ['PositionLiquidated', 'bob', at(4200)],
      ['PriceUpdated', undefined, at(5000)],
    ]);
    expect(isInput(log[price + 1]!)).toBe(true);
    // the log's clock never goes backwards
    log.forEach((event, i) => expect(event.ts).toBeGreaterThanOrEqual(log[i - 1]?.ts ?? -Infinity));
  });

  it('replays (folding the log in order) to the live state, and re-simulates (verify) to the logged decisions', async () => {
    const store = new InMemoryEventStore();
    const live = await ShardRunner.open(store);
    await live.run([...setup, ...later]);
    const replayed = await ShardRunner.open(store, { fullReplay: true });
    expect(replayed.engine.summary()).toEqual(live.engine.summary());
    const report = await verifyLog(store);
    expect(report.mismatches).toEqual([]);
    expect(report.outputHash).toBe(live.engine.outputHash);
    expect(report.invariantViolations).toEqual([]);
  });

  it('read as of a time between a deadline and the input that revealed it, shows the close-out', async () => {
    const store = new InMemoryEventStore();
    await (await ShardRunner.open(store)).run([...setup, ...later]);
    // at 4,000 s: alice's deadline (3,660 s) has passed and she is closed out; bob's (4,200 s) has not
    const then = await ShardRunner.open(store, { at: Date.parse(at(4000)) });
    expect(then.engine.state.ledger.accounts.get('alice')!.positions.size).toBe(0);
    expect(then.engine.state.ledger.accounts.get('bob')!.positions.get('BTC-PERP')!.qty).toBe(100000000n);
    expect(then.engine.state.ledger.instruments.get('BTC-PERP')!.mark).toBe(925000000000n); // the 5,000 s price is not yet in
  });

  it('verify names a logged timer decision that the rules do not make', async () => {
    const store = new InMemoryEventStore();
    const live = await ShardRunner.open(store);
    await live.run([...setup, ...later]);
    // a copy of the log with alice's close-out at 9,000 (the later price) instead of 9,250 (the mark at her deadline)
    const tampered = new InMemoryEventStore();
    const events = (await logOf(store)).map((e) => (e.type === 'PositionLiquidated' && e.account === 'alice' ? { ...e, price: 900000000000n } : e));
    await tampered.append(events, 0);
    const report = await verifyLog(tampered);
    const position = events.findIndex((e) => e.type === 'PositionLiquidated' && e.account === 'alice') + 1;
    expect(report.mismatches).toHaveLength(1);
    expect(report.mismatches[0]).toMatchObject({ position, logged: encodeEvent(events[position - 1]!) });
    expect(report.mismatches[0]!.decided).toContain('"price":"9250"');
  });

  it.each([
    ['with both calls open (their timers in the snapshot)', 0],
    ['after the expiries, before the funding round', 1],
  ])('a snapshot taken mid-stream %s restores to the same state and continues with the same decisions', async (_name, cut) => {
    const store = new InMemoryEventStore();
    const first = await ShardRunner.open(store);
    await first.run([...setup, ...later.slice(0, cut)]);
    await first.snapshot();
    const restored = await ShardRunner.open(store);
    expect(restored.restoredFrom).toBe(first.head);
    await restored.run(later.slice(cut));

    const reference = await ShardRunner.open(new InMemoryEventStore());
    await reference.run([...setup, ...later]);
    expect(restored.engine.state.stats.gracePeriodsExpired).toBe(2);
    expect(restored.engine.outputHash).toBe(reference.engine.outputHash);
    expect(restored.engine.summary()).toEqual(reference.engine.summary());
    const report = await verifyLog(store);
    expect(report.mismatches).toEqual([]);
    expect(report.snapshot).toEqual({ position: first.head, matches: true });
  });
});
