import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeEvent, type InputEvent } from '@clearsim/events';
import { ShardRunner } from '@clearsim/shard';
import { FileEventStore } from '@clearsim/store';
import { inputMessages } from './inputs';
import { InputRouter } from './sharding';
import { KafkaShardWorker } from './shard-worker';
import { shardGroupId } from './topics';
import { brokersFromEnv, shardPorts, testTopics, TestKafka, type TestTopics } from './testing/broker';
import { singleProcess } from './testing/compare';
import { ccpMarginCallInputs, longDayInputs } from './testing/scenarios';
import { waitFor } from './testing/wait';

const brokers = brokersFromEnv('libs/kafka worker integration tests');
const describeKafka = brokers ? describe : describe.skip;
jest.setTimeout(30_000);

describeKafka('KafkaShardWorker against a real broker', () => {
  let kafka: TestKafka;
  let dir: string;
  const open: { worker: KafkaShardWorker; store: FileEventStore }[] = [];

  beforeAll(() => {
    kafka = new TestKafka(brokers!);
  });
  afterAll(() => kafka.close());
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'clearsim-kafka-'));
  });
  afterEach(async () => {
    for (const { worker, store } of open.splice(0)) {
      await worker.stop().catch(() => undefined);
      await store.close().catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  });

  async function startWorker(topics: TestTopics, options: { storeDir?: string; maxInputsPerAppend?: number; log?: string[] } = {}) {
    const store = await FileEventStore.open(options.storeDir ?? path.join(dir, 'shard-0'));
    const runner = await ShardRunner.open(store, { snapshotEvery: 1000 });
    const ports = shardPorts(brokers!, topics, 1, 0, (line) => options.log?.push(line));
    const worker = await KafkaShardWorker.start({ runner, ports, shards: 1, shard: 0, maxInputsPerAppend: options.maxInputsPerAppend, log: (line) => options.log?.push(line) });
    const handle = { worker, store, runner };
    open.push(handle);
    return handle;
  }

  async function stopWorker(handle: { worker: KafkaShardWorker; store: FileEventStore }) {
    await handle.worker.stop();
    await handle.store.close();
    open.splice(open.indexOf(handle), 1);
  }

  async function publishInputs(topics: TestTopics, inputs: InputEvent[]) {
    await kafka.createTopic(topics.inputs, 1);
    const messages = inputMessages(inputs, new InputRouter(1));
    await kafka.publish(topics.inputs, messages);
    return messages.length;
  }

  const caughtUp = (worker: KafkaShardWorker, end: number) => () => worker.committedOffset === String(end);

  it('consumes the inputs topic and produces the decisions, keyed by account, with headers', async () => {
    const topics = testTopics('clearsim-w');
    const inputs = ccpMarginCallInputs();
    const end = await publishInputs(topics, inputs);
    const shard = await startWorker(topics);
    await waitFor('the worker to catch up', caughtUp(shard.worker, end));

    const expected = singleProcess(inputs);
    const decisions = await kafka.readAll(topics.decisions);
    expect(decisions.map((d) => d.value)).toEqual(expected.decisions.map(encodeEvent)); // one account: one partition, log order
    expect(decisions.every((d) => d.key === 'alice')).toBe(true);
    expect(decisions[1]!.headers).toEqual({ type: 'MarginCallIssued', 'schema-version': '1', shard: '0', position: expect.stringMatching(/^\d+$/) });
    expect(decisions.map((d) => d.value)).toContainEqual(expect.stringContaining('"type":"GracePeriodExpired"'));
    expect(shard.runner.engine.outputHash).toBe(expected.engine.outputHash);
    // offsets are committed (with the published position) only after the durable append
    expect(await kafka.committed(shardGroupId(topics.group, 0, 1), topics.inputs, 0)).toBe(String(end));
    expect(await shard.store.head()).toBe(shard.runner.head);
  });

  it('ignores redelivered and re-sent inputs: no new decisions, the same store head', async () => {
    const topics = testTopics('clearsim-r');
    // a venue that gives every input an id (eventId where there is no tradeId / requestId)
    const inputs = ccpMarginCallInputs().map((input, i) => ('eventId' in input && input.eventId) || input.type === 'TradeExecuted' || input.type === 'WithdrawalRequested' ? input : { ...input, eventId: `venue-${i}` });
    const end = await publishInputs(topics, inputs);
    const first = await startWorker(topics);
    await waitFor('the first pass', caughtUp(first.worker, end));
    const head = first.runner.head;
    const decisions = (await kafka.readAll(topics.decisions)).length;

    // the venue sends the whole day again
    await kafka.publish(topics.inputs, inputMessages(inputs, new InputRouter(1)));
    await waitFor('the re-sent day', caughtUp(first.worker, 2 * end));
    expect(first.worker.stats).toMatchObject({ applied: inputs.length, duplicates: inputs.length });
    expect(first.runner.head).toBe(head);
    await stopWorker(first);

    // and the group is rewound to the start: Kafka delivers everything again
    const admin = await kafka.admin.client();
    await admin.setOffsets({ groupId: shardGroupId(topics.group, 0, 1), topic: topics.inputs, partitions: [{ partition: 0, offset: '0' }] });
    const again = await startWorker(topics);
    await waitFor('the redelivery', caughtUp(again.worker, 2 * end));
    expect(again.worker.stats).toMatchObject({ applied: 0, duplicates: 2 * inputs.length });
    expect(await again.store.head()).toBe(head);
    expect(await kafka.readAll(topics.decisions)).toHaveLength(decisions);
  });

  it('sends a poison message to the dead-letter topic with the reason and goes on', async () => {
    const topics = testTopics('clearsim-p');
    const inputs = ccpMarginCallInputs();
    await kafka.createTopic(topics.inputs, 1);
    const messages = inputMessages(inputs, new InputRouter(1));
    const poison = [
      { key: 'alice', value: '{"type":"Deposited","account":', headers: {} },
      { key: 'alice', value: JSON.stringify({ type: 'Deposited', ts: '2026-01-05T09:03:00Z', account: 'alice', asset: 'USD', amount: '-5' }), headers: {} },
      { key: 'zed', value: JSON.stringify({ type: 'WithdrawalRequested', ts: '2026-01-05T09:03:00Z', requestId: 'z', account: 'zed', asset: 'USD', amount: '5' }), headers: {} },
    ];
    await kafka.publish(topics.inputs, [...messages.slice(0, 9), ...poison, ...messages.slice(9)]);
    const end = messages.length + poison.length;
    const shard = await startWorker(topics);
    await waitFor('the worker to catch up', caughtUp(shard.worker, end));

    const letters = await kafka.readAll(topics.deadLetters);
    expect(letters.map((l) => [l.headers.error, l.headers['source-offset'], l.value])).toEqual(poison.map((p, i) => [i < 2 ? 'malformed' : 'rejected', String(9 + i), p.value]));
    expect(letters[0]!.headers.reason).toMatch(/^malformed JSON/);
    expect(letters[1]!.headers.reason).toContain('field "amount"');
    expect(letters[2]!.headers.reason).toBe('field "account": unknown account "zed" (an account exists once it has a Deposited event)');
    expect(letters[2]!.headers['source-topic']).toBe(topics.inputs);
    const expected = singleProcess(inputs);
    expect((await kafka.readAll(topics.decisions)).map((d) => d.value)).toEqual(expected.decisions.map(encodeEvent));
    expect(shard.runner.engine.outputHash).toBe(expected.engine.outputHash);
  });

  it('stopped mid-stream (SIGTERM path) and restarted, loses nothing and duplicates nothing', async () => {
    const topics = testTopics('clearsim-s');
    const inputs = longDayInputs(4000);
    const end = await publishInputs(topics, inputs);
    const storeDir = path.join(dir, 'shard-0');
    const first = await startWorker(topics, { storeDir, maxInputsPerAppend: 100 });
    let stopping: Promise<void> | undefined;
    first.runner.onAppended(() => {
      if (first.runner.head >= 1000) stopping ??= first.worker.stop();
    });
    await waitFor('the stop', () => stopping !== undefined);
    await stopping;
    const committed = Number(first.worker.committedOffset);
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(end);
    await stopWorker(first);

    const second = await startWorker(topics, { storeDir, maxInputsPerAppend: 500 });
    await waitFor('the rest', caughtUp(second.worker, end));
    expect(second.worker.stats.duplicates).toBe(0); // stop() drained and committed what it had appended
    const expected = singleProcess(inputs);
    expect(second.runner.engine.outputHash).toBe(expected.engine.outputHash);
    const published = await kafka.readAll(topics.decisions);
    expect(published.map((d) => d.value).sort()).toEqual(expected.decisions.map(encodeEvent).sort());
    expect(new Set(published.map((d) => d.headers.position)).size).toBe(published.length);
  });
});
