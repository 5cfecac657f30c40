import { decodeEvent, type InputEvent } from '@clearsim/events';
import { ShardRunner } from '@clearsim/shard';
import { InMemoryEventStore } from '@clearsim/store';
import { at, rulesFor } from '../../../../libs/clearing/src/testing/given';
import { GroupCommitQueue } from './group-commit.queue';

const input = (raw: Record<string, unknown>) => decodeEvent(raw, 'input') as InputEvent;
const price = (p: number) => input({ type: 'PriceUpdated', ts: at(60), instrument: 'BTC-PERP', price: String(p) });

/** A runner on a memory store with rules and one perpetual; `appends` lists the number of events of each durable append. */
async function openRunner(): Promise<{ runner: ShardRunner; appends: number[] }> {
  const runner = await ShardRunner.open(new InMemoryEventStore());
  await runner.run([
    { input: input({ type: 'RulesActivated', ts: at(0), rules: rulesFor() }), source: 'setup', line: 1 },
    { input: input({ type: 'InstrumentListed', ts: at(0), instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC', settlementAsset: 'USD', multiplier: '1' }), source: 'setup', line: 2 },
  ]);
  const appends: number[] = [];
  runner.onAppended((events) => appends.push(events.length));
  return { runner, appends };
}

/** Lets every pending timer-free continuation run (the queue's commits on a memory store need no timer). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommitQueue gathering', () => {
  it('waits for as many submissions as the last group held before committing the next group', async () => {
    const { runner, appends } = await openRunner();
    // a wait that never times out within the test: only the count of submissions ends it
    const queue = new GroupCommitQueue(runner, 60_000);
    // three in one tick: one group of 3 (the first group waits for 1, the size of an imaginary previous one)
    await Promise.all([queue.submit([price(100)], false), queue.submit([price(101)], false), queue.submit([price(102)], false)]);
    expect(appends).toEqual([3]);

    // one arrives: without gathering it would be committed alone; it waits for two more
    const first = queue.submit([price(103)], false);
    await settle();
    expect(appends).toEqual([3]);
    const second = queue.submit([price(104)], false);
    await settle();
    expect(appends).toEqual([3]);
    const third = queue.submit([price(105)], false);
    const answers = await Promise.all([first, second, third]);
    expect(appends).toEqual([3, 3]);
    expect(answers.map((answer) => answer.accepted)).toEqual([1, 1, 1]);
    await queue.idle();
  });

  it('a batch ends the wait at once (it is committed alone after the singles before it)', async () => {
    const { runner, appends } = await openRunner();
    const queue = new GroupCommitQueue(runner, 60_000);
    await Promise.all([queue.submit([price(100)], false), queue.submit([price(101)], false)]);
    const single = queue.submit([price(102)], false);
    await settle();
    expect(appends).toEqual([2]);
    const batch = queue.submit([price(103), price(104)], true);
    await Promise.all([single, batch]);
    expect(appends).toEqual([2, 1, 2]);
  });

  it('gives up waiting after its delay: a lone submission is committed alone', async () => {
    const { runner, appends } = await openRunner();
    const queue = new GroupCommitQueue(runner, 1);
    await Promise.all([queue.submit([price(100)], false), queue.submit([price(101)], false)]);
    const lone = await queue.submit([price(102)], false);
    expect(lone.accepted).toBe(1);
    expect(appends).toEqual([2, 1]);
  });
});
