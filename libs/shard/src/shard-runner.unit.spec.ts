import { InputError, decodeEvent, type InputEvent } from '@clearsim/events';
import { rulesFor } from '@clearsim/clearing/testing';
import { InMemoryEventStore } from '@clearsim/store';
import { ShardRunner, type LocatedInput } from './shard-runner';

/** An in-memory store that counts how often the log is read (a reload reads it from the start). */
class CountingStore extends InMemoryEventStore {
  reads = 0;
  override read(...args: Parameters<InMemoryEventStore['read']>): ReturnType<InMemoryEventStore['read']> {
    this.reads++;
    return super.read(...args);
  }
}

const at = (seconds: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + seconds * 1000).toISOString();
const input = (raw: Record<string, unknown>): LocatedInput => ({ input: decodeEvent({ ts: at(0), ...raw }, 'input') as InputEvent, source: 'test.jsonl', line: 1 });

async function opened() {
  const store = new CountingStore();
  const runner = await ShardRunner.open(store);
  await runner.run([
    input({ type: 'RulesActivated', rules: rulesFor() }),
    input({ type: 'InstrumentListed', instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC' }),
    input({ type: 'Deposited', account: 'alice', asset: 'USD', amount: '1000' }),
    input({ type: 'Deposited', account: 'bob', asset: 'USD', amount: '1000' }),
  ]);
  store.reads = 0;
  return { store, runner };
}

describe('ShardRunner.run refusals (all or nothing)', () => {
  it('a batch refused at its first input changes nothing and re-reads nothing', async () => {
    const { store, runner } = await opened();
    const before = JSON.stringify(runner.engine.summary({ accounts: true }));
    const head = runner.head;
    // carol has never deposited: the trade is refused before the core changes anything
    await expect(runner.run([input({ type: 'TradeExecuted', tradeId: 't1', instrument: 'BTC-PERP', buyer: 'carol', seller: 'bob', qty: '1', price: '100' })])).rejects.toThrow(InputError);
    expect(store.reads).toBe(0);
    expect(runner.head).toBe(head);
    expect(await store.head()).toBe(head);
    expect(JSON.stringify(runner.engine.summary({ accounts: true }))).toBe(before);
  });

  it('a batch refused after inputs were folded is rebuilt from the store: the engine holds exactly what the log holds', async () => {
    const { store, runner } = await opened();
    const before = JSON.stringify(runner.engine.summary({ accounts: true }));
    const head = runner.head;
    await expect(
      runner.run([
        input({ type: 'Deposited', account: 'alice', asset: 'USD', amount: '500' }),
        input({ type: 'TradeExecuted', tradeId: 't1', instrument: 'BTC-PERP', buyer: 'carol', seller: 'bob', qty: '1', price: '100' }),
      ]),
    ).rejects.toThrow(/carol/);
    expect(store.reads).toBe(1);
    expect(await store.head()).toBe(head);
    // alice's 500 was folded into the engine, then dropped with the batch
    expect(JSON.stringify(runner.engine.summary({ accounts: true }))).toBe(before);
    // and the shard carries on from the log
    const next = await runner.run([input({ type: 'Deposited', account: 'alice', asset: 'USD', amount: '1' })]);
    expect(next.head).toBe(head + 1);
  });
});
