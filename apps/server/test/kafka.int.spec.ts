import { ClearingEngine } from '@clearsim/clearing';
import { decodeEvent, encodeEvent } from '@clearsim/events';
import { inputMessages, InputRouter, shardGroupId, shardOf } from '@clearsim/kafka';
import { brokersFromEnv, testTopics, TestKafka, type TestTopics } from '../../../libs/kafka/src/testing/broker';
import { decisionsByAccount, singleProcess } from '../../../libs/kafka/src/testing/compare';
import { ccpMarginCallInputs, twoShardDayInputs } from '../../../libs/kafka/src/testing/scenarios';
import { waitFor } from '../../../libs/kafka/src/testing/wait';
import type { KafkaServerOptions } from '../src/main';
import { ADMIN, bootServer, DROP, freshStore, SETUP, TRADE, type TestServer } from './server-harness';

/**
 * `clearsim serve` with Kafka (apps/server/src/kafka) against the REAL broker
 * of infra/ (`KAFKA_BROKERS`; unset: skipped with one warning, a failure on
 * CI=true). Unique topic names per test.
 */
const brokers = brokersFromEnv('apps/server Kafka integration tests');
const describeKafka = brokers ? describe : describe.skip;
jest.setTimeout(60_000);

const FAST = { sessionTimeout: 6_000, heartbeatInterval: 500, maxWaitTimeInMs: 50, lagIntervalMs: 100 } as const;

describeKafka('clearsim serve with Kafka (real broker)', () => {
  let kafka: TestKafka;
  const running: TestServer[] = [];

  beforeAll(() => {
    kafka = new TestKafka(brokers!);
  });
  afterAll(() => kafka.close());
  afterEach(async () => {
    for (const server of running.splice(0)) await server.close().catch(() => undefined);
  });

  const kafkaOptions = (topics: TestTopics, shards = 1, shard = 0): KafkaServerOptions => ({
    brokers: brokers!,
    inputsTopic: topics.inputs,
    decisionsTopic: topics.decisions,
    group: topics.group,
    shards,
    shard,
    ...FAST,
  });

  async function boot(store: string, kafkaConfig: KafkaServerOptions): Promise<TestServer> {
    const server = await bootServer({ store, kafka: kafkaConfig });
    running.push(server);
    return server;
  }

  async function stop(server: TestServer): Promise<void> {
    await server.close();
    running.splice(running.indexOf(server), 1);
  }

  const ready = async (server: TestServer) => (await server.http.get('/readyz')).body as { status: string; head: number; kafka: Record<string, unknown> };

  /** Until the server's worker has committed the partition's end offset. */
  async function caughtUp(server: TestServer, topic: string, partition = 0): Promise<void> {
    const end = (await kafka.admin.endOffsets(topic)).get(partition);
    await waitFor(`the server to commit ${topic}/${partition}@${end}`, async () => (await ready(server)).kafka.committedOffset === end);
  }

  async function committedMetadata(group: string, topic: string): Promise<string | null | undefined> {
    const admin = await kafka.admin.client();
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return offsets?.partitions.find((p) => p.partition === 0)?.metadata;
  }

  it('consumes the inputs topic, publishes decisions (of Kafka and HTTP inputs) keyed by account, and restarts losing and duplicating nothing', async () => {
    const topics = testTopics('clearsim-srv');
    const store = freshStore();
    const day = ccpMarginCallInputs();
    // inputs 0..15 (a call issued and met) through Kafka; the 11:00 and 11:30 prices over HTTP (a second call);
    // after a graceful restart, 18..21 through Kafka (grace expiry, liquidation, a withdrawal)
    const [first, http, second] = [day.slice(0, 16), day.slice(16, 18), day.slice(18)];
    const group = shardGroupId(topics.group, 0, 1);

    let server = await boot(store, kafkaOptions(topics));
    expect(await ready(server)).toMatchObject({ status: 'ready', kafka: { status: 'running', inputsTopic: topics.inputs, decisionsTopic: topics.decisions, group, shards: 1, shard: 0 } });
    await kafka.publish(topics.inputs, inputMessages(first, new InputRouter(1)));
    await caughtUp(server, topics.inputs);

    // the HTTP inputs reach the same runner, and their decisions the decisions topic
    const posted = await server.http.post('/v1/inputs/batch').set('x-api-key', ADMIN).send(http.map((input) => JSON.parse(encodeEvent(input))));
    expect(posted.status).toBe(200);
    expect(posted.body.decisions.map((d: { type: string }) => d.type)).toEqual(['MarginCallIssued']);

    const expectedSoFar = singleProcess([...first, ...http]);
    await waitFor('the HTTP decision on the decisions topic', async () => (await kafka.readAll(topics.decisions)).length === expectedSoFar.decisions.length);
    const status = await ready(server);
    expect(status.kafka).toMatchObject({ consumed: first.length, applied: first.length, duplicates: 0, deadLettered: 0, decisionsPublished: expectedSoFar.decisions.length, publishedUpTo: status.head });
    await waitFor('the lag gauge', async () => (await ready(server)).kafka.lag === 0);
    expect((await server.http.get('/metrics').set('x-api-key', ADMIN)).text).toMatch(/^clearsim_consumer_lag 0$/m);

    // SIGTERM path: drain, final commit (with the published position), leave the group, close the store
    const head = status.head;
    await stop(server);
    expect(await kafka.committed(group, topics.inputs, 0)).toBe(String(first.length));
    expect(await committedMetadata(group, topics.inputs)).toBe(`clearsim:published=${head}`);

    // more inputs while it is down, then a restart on the same store, topics and group
    await kafka.publish(topics.inputs, inputMessages(second, new InputRouter(1)));
    server = await boot(store, kafkaOptions(topics));
    await caughtUp(server, topics.inputs);

    const all = [...first, ...http, ...second];
    const expected = singleProcess(all);
    const decisions = await kafka.readAll(topics.decisions);
    // nothing lost, nothing published twice (not even the HTTP input's decision), in log order
    expect(decisions.map((d) => d.value)).toEqual(expected.decisions.map(encodeEvent));
    expect(new Set(decisions.map((d) => d.headers.position)).size).toBe(decisions.length);
    expect(decisions.every((d) => d.key === 'alice' && d.headers.shard === '0')).toBe(true);
    expect(decisions.map((d) => d.headers.type)).toEqual([
      'WithdrawalApproved',
      'MarginCallIssued',
      'WithdrawalRejected',
      'MarginCallMet',
      'MarginCallIssued',
      'GracePeriodExpired',
      'LiquidationStarted',
      'PositionLiquidated',
      'WithdrawalApproved',
    ]);

    // the service decided what ClearingEngine.create() fed the same inputs decides
    const reference = ClearingEngine.create();
    for (const input of all) reference.handle(input);
    const summary = (await server.http.get('/v1/summary').set('x-api-key', ADMIN)).body;
    expect(summary.outputHash).toBe(reference.outputHash);
    expect(summary).toMatchObject({ eventsIn: all.length, marginCalls: 2, marginCallsMet: 1, liquidations: 1 });
    const alice = await server.http.get('/v1/accounts/alice').set('x-api-key', ADMIN);
    expect(alice.status).toBe(200);
    expect(alice.body).toMatchObject({ ...reference.summary().accounts!.alice, status: 'liquidated' });
    // the restarted worker applied only the new inputs, and republished nothing
    expect((await ready(server)).kafka).toMatchObject({ consumed: second.length, applied: second.length, duplicates: 0, decisionsPublished: 4 });
    expect(await kafka.readAll(topics.deadLetters)).toEqual([]);
  });

  it('publishes the decisions of HTTP inputs once, across a graceful restart, when nothing came through Kafka', async () => {
    const topics = testTopics('clearsim-srvh');
    const store = freshStore();
    const group = shardGroupId(topics.group, 0, 1);
    let server = await boot(store, kafkaOptions(topics));
    for (const body of [SETUP, TRADE, DROP]) expect((await server.http.post(Array.isArray(body) ? '/v1/inputs/batch' : '/v1/inputs').set('x-api-key', ADMIN).send(body)).status).toBe(200);
    await waitFor('the margin call on the decisions topic', async () => (await kafka.readAll(topics.decisions)).length === 1);
    const head = (await ready(server)).head;
    await stop(server);
    // the partition was never consumed: offset 0, with the published position
    expect(await kafka.committed(group, topics.inputs, 0)).toBe('0');
    expect(await committedMetadata(group, topics.inputs)).toBe(`clearsim:published=${head}`);

    server = await boot(store, kafkaOptions(topics));
    expect((await ready(server)).kafka).toMatchObject({ status: 'running', publishedUpTo: head, decisionsPublished: 0 });
    await server.http.post('/v1/admin/clock').set('x-api-key', ADMIN).send({ ts: '2026-01-01T02:00:00Z' }).expect(200);
    await waitFor('the liquidation on the decisions topic', async () => (await kafka.readAll(topics.decisions)).length === 4);
    const decisions = await kafka.readAll(topics.decisions);
    expect(decisions.map((d) => [d.key, d.headers.type])).toEqual([
      ['a-alice', 'MarginCallIssued'],
      ['a-alice', 'GracePeriodExpired'],
      ['a-alice', 'LiquidationStarted'],
      ['a-alice', 'PositionLiquidated'],
    ]);
  });

  it('two servers (--shards 2 --shard 0/1) each own their accounts and partition; prices and clock reach both', async () => {
    const topics = testTopics('clearsim-srv2');
    const day = twoShardDayInputs();
    const [zero, one] = [await boot(freshStore(), kafkaOptions(topics, 2, 0)), await boot(freshStore(), kafkaOptions(topics, 2, 1))];
    await kafka.publish(topics.inputs, inputMessages(day, new InputRouter(2)));
    await Promise.all([caughtUp(zero, topics.inputs, 0), caughtUp(one, topics.inputs, 1)]);

    const decisions = await kafka.readAll(topics.decisions);
    const single = singleProcess(day);
    // per account, exactly the decisions of one process (sharding.ts: novation of cross-shard trades to each shard's backstop)
    expect(decisionsByAccount(decisions.map((d) => decodeEvent(JSON.parse(d.value))))).toEqual(decisionsByAccount(single.decisions));
    for (const d of decisions) expect(Number(d.headers.shard)).toBe(shardOf(d.key!, 2));
    // each server holds its own accounts only, as one process has them
    const reference = single.engine.summary().accounts!;
    for (const account of ['alice', 'bob', 'carol', 'dave']) {
      const [owner, other] = shardOf(account, 2) === 0 ? [zero, one] : [one, zero];
      expect((await owner.http.get(`/v1/accounts/${account}`).set('x-api-key', ADMIN)).body).toMatchObject(reference[account]!);
      expect((await other.http.get(`/v1/accounts/${account}`).set('x-api-key', ADMIN)).status).toBe(404);
    }
    // both saw every price (the last mark is the same on both)
    for (const server of [zero, one]) expect((await server.http.get('/v1/summary').set('x-api-key', ADMIN)).body.clock).toBe(single.engine.summary().clock);

    // in sharded mode, inputs come through Kafka only: 409 over HTTP, nothing appended
    const head = (await ready(zero)).head;
    const otherShard = await zero.http.post('/v1/inputs').set('x-api-key', ADMIN).send({ type: 'Deposited', ts: '2026-01-05T12:00:00Z', account: 'alice', asset: 'USD', amount: '1' });
    expect(otherShard.status).toBe(409);
    expect(otherShard.body.message).toEqual([expect.stringContaining('this server is shard 0 of 2'), 'account: account "alice" belongs to shard 1 of 2, not to this one (0)']);
    const price = await zero.http.post('/v1/admin/clock').set('x-api-key', ADMIN).send({ ts: '2026-01-05T12:00:00Z' });
    expect(price.status).toBe(409);
    expect(price.body.message[0]).toContain(`come through the Kafka topic "${topics.inputs}" only`);
    expect((await zero.http.post('/v1/admin/reset').set('x-api-key', ADMIN)).status).toBe(409);
    expect((await ready(zero)).head).toBe(head);
  });

  it('refuses to start on an inputs topic whose partition count is not --shards', async () => {
    const topics = testTopics('clearsim-srv3');
    await kafka.createTopic(topics.inputs, 3);
    await expect(bootServer({ kafka: kafkaOptions(topics, 2, 0) })).rejects.toThrow(/has 3 partition\(s\), but 2 shard\(s\) need exactly 2/);
  });
});
