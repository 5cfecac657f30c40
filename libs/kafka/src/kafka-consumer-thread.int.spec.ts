import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeEvent } from '@clearsim/events';
import { ShardRunner } from '@clearsim/shard';
import { FileEventStore } from '@clearsim/store';
import { inputMessages } from './inputs';
import { ThreadedInputsConsumer } from './kafkajs/threaded-consumer';
import { InputRouter } from './sharding';
import { KafkaShardWorker } from './shard-worker';
import { shardGroupId } from './topics';
import { brokersFromEnv, shardPorts, testTopics, TestKafka } from './testing/broker';
import { singleProcess } from './testing/compare';
import { longDayInputs } from './testing/scenarios';
import { waitFor } from './testing/wait';

const brokers = brokersFromEnv('libs/kafka consumer-thread integration tests');
const describeKafka = brokers ? describe : describe.skip;
jest.setTimeout(45_000);

describeKafka('the inputs consumer on a thread of its own (kafkajs off the clearing thread)', () => {
  let kafka: TestKafka;
  let dir: string;

  beforeAll(() => {
    kafka = new TestKafka(brokers!);
  });
  afterAll(() => kafka.close());
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'clearsim-kafka-thread-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('a thread that dies mid-stream surfaces as an error; a new one rejoins from the committed offsets: each decision once, the outputHash of one clean run', async () => {
    const topics = testTopics('clearsim-t');
    const inputs = longDayInputs(4000);
    await kafka.createTopic(topics.inputs, 1);
    const messages = inputMessages(inputs, new InputRouter(1));
    await kafka.publish(topics.inputs, messages);
    const end = String(messages.length);

    const store = await FileEventStore.open(path.join(dir, 'shard-0'));
    const log: string[] = [];
    const ports = shardPorts(brokers!, topics, 1, 0, (line) => log.push(line), true);
    const consumer = ports.consumer as ThreadedInputsConsumer;
    expect(consumer).toBeInstanceOf(ThreadedInputsConsumer);
    let worker: KafkaShardWorker | undefined;
    try {
      const runner = await ShardRunner.open(store, { snapshotEvery: 1000 });
      let killed: Promise<number> | undefined;
      runner.onAppended(() => {
        // mid-stream: steps of 100 are appended while later batches wait in the thread and a commit may be in flight
        if (runner.head >= 1000) killed ??= consumer.thread!.terminate();
      });
      worker = await KafkaShardWorker.start({ runner, ports, shards: 1, shard: 0, maxInputsPerAppend: 100, log: (line) => log.push(line) });
      await waitFor('the kill', () => killed !== undefined);
      await killed;
      await waitFor('the day, through a new thread', () => worker!.committedOffset === end, 35_000, 100).catch((error: Error) => {
        throw new Error(`${error.message}; committed ${worker!.committedOffset}; log:\n${log.join('\n')}`);
      });

      expect(log.some((line) => line.includes('the inputs consumer thread exited'))).toBe(true);
      expect(consumer.threadsStarted).toBe(2);
      const expected = singleProcess(inputs);
      expect(runner.engine.outputHash).toBe(expected.engine.outputHash);
      expect(runner.engine.state.stats.eventsIn).toBe(inputs.length);
      expect(worker.stats.applied).toBe(inputs.length);
      expect(await kafka.committed(shardGroupId(topics.group, 0, 1), topics.inputs, 0)).toBe(end);
      // one partition of decisions: the log's decisions in log order, none twice (redelivered inputs are duplicates)
      const published = await kafka.readAll(topics.decisions);
      expect(published.map((d) => d.value)).toEqual(expected.decisions.map(encodeEvent));
    } finally {
      await worker?.stop();
      await store.close();
    }
    // stopped: the thread has ended
    expect(consumer.thread).toBeUndefined();
  });

  it('a batch its handler fails is delivered again from the committed offset; commits are what a restart resumes from', async () => {
    const topics = testTopics('clearsim-f');
    await kafka.createTopic(topics.inputs, 1);
    await kafka.publish(topics.inputs, Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 7}`, value: `{"n":${i}}`, headers: i % 2 ? { h: String(i) } : undefined })));
    const ports = shardPorts(brokers!, topics, 1, 0, () => undefined, true);
    const seen: string[] = [];
    let failures = 0;
    try {
      await ports.consumer.start(async (batch) => {
        const first = batch.messages[0]!;
        // the first time offset 100 or later arrives, commit up to 100 and fail the batch
        const at100 = batch.messages.findIndex((m) => m.offset === '100');
        if (failures === 0 && at100 >= 0) {
          for (const m of batch.messages.slice(0, at100)) seen.push(`${m.offset}:${m.value!.toString()}:${m.headers.h ?? ''}`);
          await ports.consumer.commit(0, '100');
          failures++;
          throw new Error('refused by the test');
        }
        for (const m of batch.messages) seen.push(`${m.offset}:${m.value!.toString()}:${m.headers.h ?? ''}`);
        await ports.consumer.commit(0, String(Number(batch.messages.at(-1)!.offset) + 1));
        expect(first.topic).toBe(topics.inputs);
      });
      await waitFor('every message once after the failure', () => seen.length >= 300, 30_000, 50);
    } finally {
      await ports.close();
    }
    expect(failures).toBe(1);
    expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => `${i}:{"n":${i}}:${i % 2 ? String(i) : ''}`));
    expect(await kafka.committed(shardGroupId(topics.group, 0, 1), topics.inputs, 0)).toBe('300');
  });
});
