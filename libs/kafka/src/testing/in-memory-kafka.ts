import type {
  BatchHandler,
  CommittedOffset,
  DeadLetter,
  DeadLetters,
  InboundMessage,
  InputsConsumer,
  KafkaPorts,
  MessageHeaders,
  OutboundMessage,
  TopicAdmin,
  TopicPublisher,
  TopicSpec,
} from '../kafka.port';
import { deadLetterMessage } from '../topics';
import { packBatch, PriceColumns, unpackBatch } from '../kafkajs/batch-transfer';
import { keyPartition } from '../sharding';

export interface StoredMessage {
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: MessageHeaders;
}

/**
 * A broker in memory that honours the port's contract (for unit tests of the
 * worker; the integration tests use a real broker): topics of partitions,
 * committed offsets with metadata per group, redelivery of what was not
 * committed, and fault injection on produce.
 */
export class InMemoryKafka {
  readonly topics = new Map<string, StoredMessage[][]>();
  readonly commits = new Map<string, CommittedOffset>();
  /** Produce calls to fail next (per topic): simulates an unavailable broker. */
  readonly failNextProduce = new Map<string, number>();
  /** Errors a handler threw (the consumer then redelivers from the committed offset, as kafkajs does). */
  readonly handlerErrors: Error[] = [];
  private readonly waiters = new Set<() => void>();

  createTopic(topic: string, partitions: number): void {
    if (!this.topics.has(topic)) this.topics.set(topic, Array.from({ length: partitions }, () => []));
  }

  produce(topic: string, messages: readonly OutboundMessage[]): void {
    const failures = this.failNextProduce.get(topic) ?? 0;
    if (failures > 0) {
      this.failNextProduce.set(topic, failures - 1);
      throw new Error(`injected produce failure on ${topic}`);
    }
    const partitions = this.topics.get(topic);
    if (!partitions) throw new Error(`unknown topic ${topic}`);
    for (const m of messages) {
      const p = m.partition ?? (m.key === null ? 0 : keyPartition(m.key, partitions.length));
      const log = partitions[p]!;
      log.push({ offset: String(log.length), key: m.key, value: typeof m.value === 'string' ? Buffer.from(m.value) : m.value, headers: { ...m.headers } });
    }
    for (const wake of this.waiters) wake();
  }

  messages(topic: string): (StoredMessage & { partition: number })[] {
    return (this.topics.get(topic) ?? []).flatMap((log, partition) => log.map((m) => ({ ...m, partition })));
  }

  waitForMessages(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  /**
   * `packed`: each batch is handed over as the consumer thread hands it (packed into one buffer, its price updates
   * decoded as it is packed, then unpacked with the price columns: batch-transfer.ts), not as message objects.
   */
  ports(options: { group: string; inputs: string; partitions: number[]; decisions: string; deadLetters: string; maxBatch?: number; packed?: boolean }): KafkaPorts {
    const publisher = (topic: string): TopicPublisher => ({ topic, publish: async (messages) => this.produce(topic, messages) });
    const dlq = publisher(options.deadLetters);
    const deadLetters: DeadLetters = {
      topic: options.deadLetters,
      send: async (letters: readonly DeadLetter[]) => dlq.publish(letters.map(deadLetterMessage)),
    };
    const admin: TopicAdmin = {
      ensureTopics: async (specs: readonly TopicSpec[]) => specs.forEach((s) => this.createTopic(s.topic, s.partitions)),
      partitionCount: async (topic) => this.topics.get(topic)?.length,
      endOffsets: async (topic) => new Map((this.topics.get(topic) ?? []).map((log, p) => [p, String(log.length)])),
    };
    const consumer = new InMemoryConsumer(this, options.group, options.inputs, options.partitions, options.maxBatch ?? 100, options.packed ?? false);
    return { admin, consumer, decisions: publisher(options.decisions), deadLetters, close: () => consumer.stop() };
  }
}

class InMemoryConsumer implements InputsConsumer {
  private running = false;
  private loop?: Promise<void>;
  private readonly position = new Map<number, number>();

  constructor(
    private readonly kafka: InMemoryKafka,
    private readonly group: string,
    readonly topic: string,
    readonly partitions: readonly number[],
    private readonly maxBatch: number,
    private readonly packed: boolean,
  ) {}

  async committed(partition: number): Promise<CommittedOffset | undefined> {
    return this.kafka.commits.get(`${this.group}/${this.topic}/${partition}`);
  }

  async start(handler: BatchHandler): Promise<void> {
    this.running = true;
    for (const p of this.partitions) this.position.set(p, Number((await this.committed(p))?.offset ?? 0));
    this.loop = (async () => {
      while (this.running) {
        let delivered = false;
        for (const p of this.partitions) {
          const log = this.kafka.topics.get(this.topic)![p]!;
          const from = this.position.get(p)!;
          if (from >= log.length) continue;
          const stored = log.slice(from, from + this.maxBatch);
          let messages: InboundMessage[];
          let prices: PriceColumns | undefined;
          if (this.packed) {
            const { buffer, length } = packBatch(stored.map((m) => ({ ...m, key: m.key === null ? null : Buffer.from(m.key) })));
            prices = new PriceColumns();
            messages = unpackBatch(this.topic, p, buffer, length, [], prices);
          } else {
            messages = stored.map((m) => ({ ...m, topic: this.topic, partition: p }));
          }
          delivered = true;
          try {
            await handler({ topic: this.topic, partition: p, messages, prices }, { heartbeat: async () => undefined, isRunning: () => this.running });
          } catch (error) {
            this.kafka.handlerErrors.push(error as Error);
          }
          // what was not committed is delivered again
          this.position.set(p, Number((await this.committed(p))?.offset ?? 0));
        }
        if (!delivered) await this.kafka.waitForMessages(20);
      }
    })();
  }

  async commit(partition: number, nextOffset: string, metadata?: string): Promise<void> {
    this.kafka.commits.set(`${this.group}/${this.topic}/${partition}`, { offset: nextOffset, metadata: metadata ?? null });
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
