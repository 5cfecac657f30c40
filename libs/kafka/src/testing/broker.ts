import { randomBytes } from 'node:crypto';
import { logLevel, type Kafka } from 'kafkajs';
import { createKafkaJsClient, createKafkaJsPorts, KafkaJsAdmin, KafkaJsProducer } from '../kafkajs/kafkajs-ports';
import { consumerThreadOn, DEFAULT_CONSUMER_THREAD, parseConsumerThreadSetting } from '../kafkajs/threaded-consumer';
import type { KafkaPorts, OutboundMessage } from '../kafka.port';
import { deadLetterTopicOf, shardGroupId } from '../topics';

/**
 * The real broker the integration tests run against: `KAFKA_BROKERS`
 * (comma-separated). Unset: on CI (`CI=true`) the suite fails, telling how to
 * start one; elsewhere it is skipped with one warning line.
 */
export function brokersFromEnv(suite: string): string[] | undefined {
  const value = process.env.KAFKA_BROKERS?.trim();
  if (value) return value.split(',').map((b) => b.trim());
  const how = 'start one with `eval "$(infra/services.sh up)"` (exports KAFKA_BROKERS=127.0.0.1:19092)';
  if (process.env.CI === 'true') throw new Error(`${suite}: KAFKA_BROKERS is not set and CI=true: these tests need a real Kafka broker; ${how}`);
  console.warn(`${suite}: skipped, KAFKA_BROKERS is not set; ${how}`);
  return undefined;
}

export const uniqueName = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/** Test settings: short sessions so a killed member leaves the group quickly. */
export const FAST_GROUP = { sessionTimeout: 6_000, heartbeatInterval: 500, maxWaitTimeInMs: 50 } as const;

export interface TestTopics {
  inputs: string;
  decisions: string;
  deadLetters: string;
  group: string;
}

export function testTopics(prefix: string): TestTopics {
  const inputs = uniqueName(`${prefix}-in`);
  return { inputs, decisions: inputs.replace('-in-', '-out-'), deadLetters: deadLetterTopicOf(inputs), group: inputs.replace('-in-', '-g-') };
}

/** Whether the tests' consumers run kafkajs on a thread of its own: as `clearsim serve` decides (CLEARSIM_KAFKA_CONSUMER_THREAD, default auto). */
export const testConsumerThread = (): boolean => consumerThreadOn(parseConsumerThreadSetting(process.env.CLEARSIM_KAFKA_CONSUMER_THREAD || DEFAULT_CONSUMER_THREAD, 'CLEARSIM_KAFKA_CONSUMER_THREAD'));

export function shardPorts(brokers: string[], topics: TestTopics, shards: number, shard: number, log?: (line: string) => void, consumerThread = testConsumerThread()): KafkaPorts {
  return createKafkaJsPorts({
    consumerThread,
    brokers,
    clientId: `clearsim-test-shard-${shard}`,
    groupId: shardGroupId(topics.group, shard, shards),
    inputsTopic: topics.inputs,
    partitions: [shard],
    decisionsTopic: topics.decisions,
    deadLetterTopic: topics.deadLetters,
    logLevel: logLevel.ERROR,
    log,
    ...FAST_GROUP,
  });
}

/** A producer, an admin and a reader for a test's own use. */
export class TestKafka {
  readonly kafka: Kafka;
  readonly producer: KafkaJsProducer;
  readonly admin: KafkaJsAdmin;

  constructor(readonly brokers: string[]) {
    this.kafka = createKafkaJsClient({ brokers, clientId: 'clearsim-test', logLevel: logLevel.ERROR });
    this.producer = new KafkaJsProducer(this.kafka);
    this.admin = new KafkaJsAdmin(this.kafka);
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    await this.admin.ensureTopics([{ topic, partitions }]);
  }

  publish(topic: string, messages: readonly OutboundMessage[]): Promise<void> {
    return this.producer.publisherFor(topic).publish(messages);
  }

  /** Every message on the topic up to its current end, per partition in offset order. */
  async readAll(topic: string): Promise<{ partition: number; offset: string; key: string | null; value: string; headers: Record<string, string> }[]> {
    const ends = await this.admin.endOffsets(topic);
    const want = [...ends].filter(([, end]) => BigInt(end) > 0n);
    if (want.length === 0) return [];
    const out: { partition: number; offset: string; key: string | null; value: string; headers: Record<string, string> }[] = [];
    const consumer = this.kafka.consumer({ groupId: uniqueName('clearsim-test-reader'), ...FAST_GROUP });
    const done = new Set<number>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`reading ${topic} timed out`)), 20_000);
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const headers: Record<string, string> = {};
              for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = v.toString();
              out.push({ partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value?.toString() ?? '', headers });
              if (BigInt(message.offset) + 1n >= BigInt(ends.get(partition)!)) done.add(partition);
              if (done.size === want.length) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  }

  async committed(group: string, topic: string, partition: number): Promise<string | undefined> {
    const admin = await this.admin.client();
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const offset = t?.partitions.find((p) => p.partition === partition)?.offset;
    return offset === undefined || BigInt(offset) < 0n ? undefined : offset;
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
    await this.admin.disconnect();
  }
}
