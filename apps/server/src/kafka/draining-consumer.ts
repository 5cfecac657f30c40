import type { BatchHandler, CommittedOffset, InputsConsumer } from '@clearsim/kafka';

/**
 * The inputs consumer of the server's shard worker, wrapped so that a
 * graceful stop can record one last commit before the consumer leaves the
 * group. `stop()` (called by `KafkaShardWorker.stop`, which has already told
 * its batch loop to stop at the next step) waits for the batch in flight to
 * return, refuses new batches, runs `beforeStop` while the consumer is still
 * a member of the group (so a commit is accepted), then stops the consumer.
 *
 * Why: the worker records in its commit metadata how far the decisions topic
 * holds the log's decisions, but it commits only after Kafka inputs. Decisions
 * of HTTP inputs appended after the last Kafka commit would be published
 * again after a restart (at least once). `beforeStop` commits the same offset
 * again with the position published up to, so a graceful restart publishes
 * nothing twice.
 */
export class DrainingConsumer implements InputsConsumer {
  private stopping = false;
  private inFlight?: Promise<void>;
  private received = false;
  private stopped?: Promise<void>;
  private lastMetadata: string | null = null;

  constructor(
    private readonly inner: InputsConsumer,
    private readonly beforeStop: (consumer: DrainingConsumer) => Promise<void>,
  ) {}

  get topic(): string {
    return this.inner.topic;
  }

  get partitions(): readonly number[] {
    return this.inner.partitions;
  }

  get fetchesAhead(): boolean | undefined {
    return this.inner.fetchesAhead;
  }

  /** Whether this session was handed a batch: it owns the partition (a standby of the same shard never is). */
  get hasConsumed(): boolean {
    return this.received;
  }

  /** The metadata of the last commit made through this consumer (null before any). */
  get committedMetadata(): string | null {
    return this.lastMetadata;
  }

  async committed(partition: number): Promise<CommittedOffset | undefined> {
    const found = await this.inner.committed(partition);
    this.lastMetadata ??= found?.metadata ?? null;
    return found;
  }

  start(handler: BatchHandler): Promise<void> {
    return this.inner.start(async (batch, ctx) => {
      if (this.stopping) return;
      this.received = true;
      const handled = handler(batch, ctx);
      this.inFlight = handled.catch(() => undefined);
      try {
        await handled;
      } finally {
        this.inFlight = undefined;
      }
    });
  }

  async commit(partition: number, nextOffset: string, metadata?: string): Promise<void> {
    await this.inner.commit(partition, nextOffset, metadata);
    this.lastMetadata = metadata ?? null;
  }

  stop(): Promise<void> {
    return (this.stopped ??= (async () => {
      this.stopping = true;
      await this.inFlight;
      try {
        await this.beforeStop(this);
      } finally {
        await this.inner.stop();
      }
    })());
  }
}
