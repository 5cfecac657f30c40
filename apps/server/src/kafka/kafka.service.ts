import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { AssignerProtocol } from 'kafkajs';
import {
  consumerThreadOn,
  createKafkaJsClient,
  createKafkaJsPorts,
  DEFAULT_CONSUMER_THREAD,
  parseConsumerThreadSetting,
  deadLetterTopicOf,
  KafkaJsAdmin,
  KafkaShardWorker,
  publishedMetadata,
  shardGroupId,
  type KafkaPorts,
  type KafkaShardWorkerStats,
} from '@clearsim/kafka';
import { ShardService } from '../clearing/shard.service';
import { DEFAULT_DECISIONS_TOPIC, DEFAULT_GROUP, DEFAULT_INPUTS_TOPIC, DEFAULT_LAG_INTERVAL_MS, SERVER_OPTIONS, type KafkaServerOptions, type ServerOptions } from '../config/server-options';
import { MetricsService } from '../metrics/metrics.service';
import { DrainingConsumer } from './draining-consumer';

export type KafkaStatus = 'starting' | 'running' | 'failed' | 'stopping' | 'stopped';

/** The Kafka settings with every default applied. */
export interface KafkaSettings {
  brokers: string[];
  inputsTopic: string;
  decisionsTopic: string;
  deadLetterTopic: string;
  group: string;
  /** The consumer group of this shard: `<group>.shard-<i>-of-<N>`. */
  groupId: string;
  shards: number;
  shard: number;
}

export function kafkaSettings(options: KafkaServerOptions): KafkaSettings {
  const inputsTopic = options.inputsTopic ?? DEFAULT_INPUTS_TOPIC;
  const group = options.group ?? DEFAULT_GROUP;
  const shards = options.shards ?? 1;
  const shard = options.shard ?? 0;
  return {
    brokers: options.brokers,
    inputsTopic,
    decisionsTopic: options.decisionsTopic ?? DEFAULT_DECISIONS_TOPIC,
    deadLetterTopic: options.deadLetterTopic ?? deadLetterTopicOf(inputsTopic),
    group,
    groupId: shardGroupId(group, shard, shards),
    shards,
    shard,
  };
}

/** Longest wait at shutdown for the decisions of the last appends to be acknowledged before the final commit. */
const FINAL_PUBLISH_WAIT_MS = 5_000;

/**
 * The Kafka edge of the server: libs/kafka's KafkaShardWorker on the app's
 * one ShardRunner. Kafka inputs and HTTP inputs reach the same runner, whose
 * calls are serialized (one writer); the worker hears every durable append
 * of the runner (its own and HTTP's) and publishes the decisions to the
 * decisions topic, so nothing else publishes them (no bus handler: the
 * worker also records how far it has published in its commit metadata, which
 * is what lets a restart republish what may be missing and nothing else).
 *
 * Started by `createServer` once the log is replayed; stopped before the
 * store is closed: the step in flight is appended, published and committed,
 * then one last commit records the published position (see DrainingConsumer).
 * Every 2 s (`lagIntervalMs`) the `clearsim_consumer_lag` gauge is set to
 * the inputs partition's end offset minus the committed offset.
 */
@Injectable()
export class KafkaService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Kafka');
  readonly settings: KafkaSettings;
  private state: KafkaStatus = 'starting';
  private failure?: Error;
  private worker?: KafkaShardWorker;
  private consumer?: DrainingConsumer;
  private starting?: Promise<void>;
  private stopping?: Promise<void>;
  private lagTimer?: NodeJS.Timeout;
  private lagValue?: number;
  private lagProbe?: Promise<void>;
  private lagWarned = false;
  /** kafkajs client id of this process: unique, so that its member can be told apart in the group (see ownsPartition). */
  private clientId = '';
  /** An admin client of the service's own (lag, group membership), apart from the worker's ports. */
  private admin?: KafkaJsAdmin;

  constructor(
    @Inject(SERVER_OPTIONS) private readonly options: ServerOptions,
    private readonly shard: ShardService,
    private readonly metrics: MetricsService,
  ) {
    this.settings = kafkaSettings(options.kafka!);
  }

  get status(): KafkaStatus {
    return this.state;
  }

  /** What /readyz shows: where it reads and writes, how far it is, the worker's counters. */
  describe(): Record<string, unknown> {
    const { brokers, inputsTopic, decisionsTopic, deadLetterTopic, groupId, shards, shard } = this.settings;
    return {
      status: this.state,
      ...(this.failure ? { error: this.failure.message } : {}),
      brokers,
      inputsTopic,
      decisionsTopic,
      deadLetterTopic,
      group: groupId,
      shards,
      shard,
      consumerThread: this.worker ? this.consumerThread : null,
      committedOffset: this.worker?.committedOffset ?? null,
      publishedUpTo: this.worker?.publishedUpTo ?? null,
      lag: this.lagValue ?? null,
      ...(this.worker ? this.worker.stats : ({} as Partial<KafkaShardWorkerStats>)),
    };
  }

  /** Whether kafkajs runs on a thread of its own: the option, else CLEARSIM_KAFKA_CONSUMER_THREAD, else the default (auto: with ≥ 2 cores). */
  get consumerThread(): boolean {
    const env = process.env.CLEARSIM_KAFKA_CONSUMER_THREAD;
    const setting = this.options.kafka?.consumerThread ?? (env ? parseConsumerThreadSetting(env, 'CLEARSIM_KAFKA_CONSUMER_THREAD') : DEFAULT_CONSUMER_THREAD);
    return consumerThreadOn(setting);
  }

  /** Starts the worker on the shard's runner (the log must be open). Rejects if Kafka cannot be reached or the topics do not fit. */
  start(): Promise<void> {
    return (this.starting ??= this.startWorker());
  }

  private async startWorker(): Promise<void> {
    const runner = this.shard.runner;
    const s = this.settings;
    const kafka = this.options.kafka!;
    this.clientId = `${kafka.clientId ?? `clearsim-shard-${s.shard}`}-${randomBytes(4).toString('hex')}`;
    this.admin = new KafkaJsAdmin(createKafkaJsClient({ brokers: s.brokers, clientId: this.clientId, log: (line) => this.logger.warn(line) }));
    const inner = createKafkaJsPorts({
      brokers: s.brokers,
      clientId: this.clientId,
      groupId: s.groupId,
      inputsTopic: s.inputsTopic,
      partitions: [s.shard],
      decisionsTopic: s.decisionsTopic,
      deadLetterTopic: s.deadLetterTopic,
      log: (line) => this.logger.warn(line),
      ...(kafka.sessionTimeout === undefined ? {} : { sessionTimeout: kafka.sessionTimeout }),
      ...(kafka.heartbeatInterval === undefined ? {} : { heartbeatInterval: kafka.heartbeatInterval }),
      ...(kafka.maxWaitTimeInMs === undefined ? {} : { maxWaitTimeInMs: kafka.maxWaitTimeInMs }),
      consumerThread: this.consumerThread,
    });
    this.consumer = new DrainingConsumer(inner.consumer, (consumer) => this.finalCommit(consumer));
    const ports: KafkaPorts = { ...inner, consumer: this.consumer };
    this.logger.log(`starting shard ${s.shard} of ${s.shards}: ${s.inputsTopic} partition ${s.shard} → ${s.decisionsTopic} (group ${s.groupId}, brokers ${s.brokers.join(',')}; kafkajs ${this.consumerThread ? 'on a consumer thread of its own' : 'on the main thread'})`);
    try {
      this.worker = await KafkaShardWorker.start({ runner, ports, shards: s.shards, shard: s.shard, log: (line) => this.logger.warn(line) });
    } catch (error) {
      this.state = 'failed';
      this.failure = error as Error;
      this.logger.error(`cannot start: ${(error as Error).message}`);
      throw error;
    }
    this.state = 'running';
    this.logger.log(`consuming ${s.inputsTopic} partition ${s.shard} from offset ${this.worker.committedOffset ?? 'earliest'}; decisions published up to position ${this.worker.publishedUpTo}`);
    const every = kafka.lagIntervalMs ?? DEFAULT_LAG_INTERVAL_MS;
    void this.probeLag();
    this.lagTimer = setInterval(() => void this.probeLag(), every);
    this.lagTimer.unref();
  }

  /** Sets `clearsim_consumer_lag`: end offset of the shard's partition minus the committed offset (0 when caught up). */
  private probeLag(): Promise<void> {
    const admin = this.admin;
    if (this.lagProbe || this.state !== 'running' || !admin) return this.lagProbe ?? Promise.resolve();
    this.lagProbe = (async () => {
      try {
        const end = (await admin.endOffsets(this.settings.inputsTopic)).get(this.settings.shard);
        if (end === undefined || this.state !== 'running') return;
        const committed = BigInt(this.worker?.committedOffset ?? '0');
        const lag = Number(BigInt(end) > committed ? BigInt(end) - committed : 0n);
        this.lagValue = lag;
        this.metrics.consumerLag.set(lag);
        this.lagWarned = false;
      } catch (error) {
        if (!this.lagWarned) this.logger.warn(`consumer lag not measured: ${(error as Error).message}`);
        this.lagWarned = true;
      } finally {
        this.lagProbe = undefined;
      }
    })();
    return this.lagProbe;
  }

  /**
   * Runs inside the worker's stop, after its last step, while the consumer is
   * still in the group: waits until every appended decision is acknowledged by
   * Kafka, then commits the consumed offset again with that published
   * position. Only a member that owns the partition commits (one that
   * consumed from it in this session, or that the group assigned it to): a
   * standby of the same shard, with a store of its own, must not.
   */
  private async finalCommit(consumer: DrainingConsumer): Promise<void> {
    const worker = this.worker;
    const runner = this.shard.runnerIfOpen;
    if (!worker || !runner) return;
    const head = runner.head;
    const deadline = Date.now() + FINAL_PUBLISH_WAIT_MS;
    while (worker.publishedUpTo < head && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    const published = Math.min(worker.publishedUpTo, head);
    if (consumer.committedMetadata === publishedMetadata(published) || published === 0) return;
    try {
      if (!consumer.hasConsumed && !(await this.ownsPartition())) return;
      if (published < head) this.logger.warn(`decisions up to position ${head} not all acknowledged by Kafka at shutdown (up to ${published}); the next start publishes the rest`);
      // never consumed: the next offset to read is still the first one
      await consumer.commit(this.settings.shard, worker.committedOffset ?? '0', publishedMetadata(published));
    } catch (error) {
      this.logger.warn(`final commit failed (the next start publishes again what follows the last commit): ${(error as Error).message}`);
    }
  }

  /** Whether the group's current assignment gives this process's member the shard's partition. */
  private async ownsPartition(): Promise<boolean> {
    const admin = await this.admin!.client();
    const { groups } = await admin.describeGroups([this.settings.groupId]);
    const group = groups.find((g) => g.groupId === this.settings.groupId);
    if (group?.state !== 'Stable') return false;
    const mine = group.members.filter((m) => m.clientId === this.clientId);
    if (mine.length !== 1) return false;
    const assignment = AssignerProtocol.MemberAssignment.decode(mine[0]!.memberAssignment);
    return (assignment?.assignment[this.settings.inputsTopic] ?? []).includes(this.settings.shard);
  }

  /**
   * Nest calls it before the HTTP server closes and before the store is
   * closed (ShardService.onApplicationShutdown): HTTP submissions are
   * answered first (no more appends), then the worker finishes its step,
   * publishes, commits and leaves the group.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      if (this.lagTimer) clearInterval(this.lagTimer);
      await this.shard.drain();
      await this.starting?.catch(() => undefined);
      if (!this.worker) {
        if (this.state !== 'failed') this.state = 'stopped';
        await this.admin?.disconnect().catch(() => undefined);
        return;
      }
      this.state = 'stopping';
      await this.lagProbe;
      try {
        await this.worker.stop();
        this.logger.log(`stopped: committed offset ${this.worker.committedOffset ?? 'none'}, decisions published up to position ${this.worker.publishedUpTo}`);
      } catch (error) {
        this.logger.error(`stopping the worker failed: ${(error as Error).message}`);
      } finally {
        this.state = 'stopped';
        await this.admin?.disconnect().catch(() => undefined);
      }
    })());
  }
}
