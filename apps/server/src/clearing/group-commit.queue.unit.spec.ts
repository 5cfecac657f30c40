import { decodeEvent, type InputEvent } from '@clearsim/events';
import { ShardRunner } from '@clearsim/shard';
import { InMemoryEventStore } from '@clearsim/store';
import { GroupCommitQueue } from './group-commit.queue';

/** A clock tick at second `second` of the day: decided on an empty engine, no decisions. */
const tick = (second: number) => decodeEvent({ type: 'ClockAdvanced', ts: new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString().replace('.000Z', 'Z') }, 'input') as InputEvent;

/** Event-loop turns, for the queue's `setImmediate` polling to run. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A queue over an in-memory shard, on a clock the test moves; `appends` holds the events of each durable append. */
async function queueOn(commitDelayMicros: number) {
  // a wait that never ends would spin the queue's setImmediate polling for ever: past 10,000 reads, the clock jumps ahead and says so
  const clock = { ms: 0, reads: 0, ranAway: false };
  const now = () => {
    if (++clock.reads <= 10_000) return clock.ms;
    clock.ranAway = true;
    return Number.MAX_VALUE;
  };
  const store = InMemoryEventStore.open('memory:');
  const runner = await ShardRunner.open(store);
  const appends: number[] = [];
  runner.onAppended((events) => appends.push(events.length));
  const queue = new GroupCommitQueue(runner, { commitDelayMicros, now });
  const loggedSeconds = async () => {
    const seconds: number[] = [];
    for await (const { event } of store.read()) seconds.push(new Date(event.ts).getUTCSeconds());
    return seconds;
  };
  return { clock, queue, appends, loggedSeconds };
}

describe('the group commit\'s bounded commit delay', () => {
  it('never holds a lone client: each of its posts is appended at once', async () => {
    // The clock never moves: a delayed group would wait until the clock ran away.
    const { clock, queue, appends, loggedSeconds } = await queueOn(1_000_000);
    for (let i = 0; i < 10; i++) expect((await queue.submit([tick(i)], false)).accepted).toBe(1);
    expect(clock.ranAway).toBe(false);
    expect(appends).toEqual(Array(10).fill(1));
    expect(await loggedSeconds()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('with other clients about, starts a group no sooner than the delay after the previous one, so the posts that come meanwhile share one append', async () => {
    const { clock, queue, appends, loggedSeconds } = await queueOn(1_000); // 1 ms
    // at 0 ms: the first post is appended at once (nobody else seen yet); the second comes while it is being committed
    const first = queue.submit([tick(0)], false);
    const second = queue.submit([tick(1)], false);
    await first;
    const more = [2, 3, 4].map((second) => queue.submit([tick(second)], false));
    await turns(20);
    expect(appends).toEqual([1]); // held: the clock has not reached 0 + 1 ms
    clock.ms = 1;
    await Promise.all([second, ...more]);
    expect(appends).toEqual([1, 4]); // one append for the four posts gathered during the delay
    // the decisions are those of posting them one by one, in order
    expect(await loggedSeconds()).toEqual([0, 1, 2, 3, 4]);

    // other clients count as about for 10 delays after they were last seen (until 11 ms here); then a lone client is not held
    clock.ms = 12;
    for (let i = 5; i < 8; i++) await queue.submit([tick(i)], false);
    expect(appends).toEqual([1, 4, 1, 1, 1]);
    expect(clock.ranAway).toBe(false);
  });

  it('is off at 0: the post that came during a commit is appended as soon as that commit returns', async () => {
    const { queue, appends } = await queueOn(0);
    const first = queue.submit([tick(0)], false);
    const second = queue.submit([tick(1)], false);
    await Promise.all([first, second]);
    const later = [2, 3].map((second) => queue.submit([tick(second)], false));
    await Promise.all(later);
    expect(appends.slice(0, 2)).toEqual([1, 1]);
  });
});
