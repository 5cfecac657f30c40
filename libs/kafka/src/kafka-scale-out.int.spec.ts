import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { decodeEvent, type InputEvent } from '@clearsim/events';
import { ShardRunner } from '@clearsim/shard';
import { FileEventStore } from '@clearsim/store';
import { inputMessages } from './inputs';
import { InputRouter, shardOf } from './sharding';
import { KafkaShardWorker } from './shard-worker';
import { brokersFromEnv, shardPorts, testTopics, TestKafka, type TestTopics } from './testing/broker';
import { decisionsByAccount, singleProcess } from './testing/compare';
import { longDayInputs, twoShardDayInputs } from './testing/scenarios';
import { waitFor } from './testing/wait';

const brokers = brokersFromEnv('libs/kafka scale-out integration tests');
const describeKafka = brokers ? describe : describe.skip;
jest.setTimeout(30_000);

describeKafka('scale-out: N shard workers against a real broker', () => {
  let kafka: TestKafka;
  let dir: string;

  beforeAll(() => {
    kafka = new TestKafka(brokers!);
  });
  afterAll(() => kafka.close());
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'clearsim-kafka-scale-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** Runs `shards` workers (one store each) over `inputs` until every partition is consumed; returns the decisions topic. */
  async function runShards(name: string, inputs: InputEvent[], shards: number): Promise<{ topics: TestTopics; decisions: Awaited<ReturnType<TestKafka['readAll']>>; runners: ShardRunner[] }> {
    const topics = testTopics(name);
    await kafka.createTopic(topics.inputs, shards);
    await kafka.publish(topics.inputs, inputMessages(inputs, new InputRouter(shards)));
    const ends = await kafka.admin.endOffsets(topics.inputs);
    const running = await Promise.all(
      Array.from({ length: shards }, async (_, shard) => {
        const store = await FileEventStore.open(path.join(dir, `${name}-${shard}`));
        const runner = await ShardRunner.open(store);
        const worker = await KafkaShardWorker.start({ runner, ports: shardPorts(brokers!, topics, shards, shard), shards, shard, log: () => undefined });
        return { store, runner, worker, shard };
      }),
    );
    try {
      await waitFor(`${shards} shard(s) to catch up`, () => running.every((r) => r.worker.committedOffset === ends.get(r.shard)));
    } finally {
      for (const r of running) {
        await r.worker.stop();
        await r.store.close();
      }
    }
    return { topics, decisions: await kafka.readAll(topics.decisions), runners: running.map((r) => r.runner) };
  }

  it.each([
    ['the two-shard day', twoShardDayInputs()],
    ['a long day of 3000 inputs', longDayInputs(3000)],
  ])('two shard workers together produce exactly the decisions of one worker: %s', async (_name, inputs) => {
    const [one, two] = await Promise.all([runShards('clearsim-n1', inputs, 1), runShards('clearsim-n2', inputs, 2)]);
    const decoded = (decisions: typeof one.decisions) => decisions.map((d) => decodeEvent(JSON.parse(d.value)));
    const single = singleProcess(inputs);

    // one worker = one process, byte for byte
    expect(one.runners[0]!.engine.outputHash).toBe(single.engine.outputHash);
    // two workers = one worker: per account, the same decisions in the same order (ts included)
    const perAccount = decisionsByAccount(decoded(two.decisions));
    expect(perAccount).toEqual(decisionsByAccount(decoded(one.decisions)));
    expect(Object.keys(perAccount).length).toBeGreaterThan(2);
    // … and as a multiset
    expect(two.decisions.map((d) => d.value).sort()).toEqual(one.decisions.map((d) => d.value).sort());
    // every account's decisions come from the shard that owns it, and both shards worked
    for (const d of two.decisions) expect(Number(d.headers.shard)).toBe(shardOf(d.key!, 2));
    expect(new Set(two.decisions.map((d) => d.headers.shard))).toEqual(new Set(['0', '1']));
    for (const runner of two.runners) expect(runner.engine.invariantViolations()).toEqual([]);
    expect(await kafka.readAll(two.topics.deadLetters)).toEqual([]);
  });
});
