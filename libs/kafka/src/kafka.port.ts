/**
 * The Kafka port: the only surface the shard worker sees. Narrow on purpose:
 * it is what any Kafka client offers (kafkajs today; the KafkaJS-compatible
 * API of @confluentinc/kafka-javascript, or anything else, tomorrow) and no
 * clearing concept crosses it. Offsets are decimal strings (Kafka's int64).
 */

export type MessageHeaders = Record<string, string>;

/** A message read from the inputs topic. */
export interface InboundMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** Null for a tombstone. */
  value: Buffer | null;
  headers: MessageHeaders;
}

/** Consecutive messages of one partition, in offset order. */
export interface InboundBatch {
  topic: string;
  partition: number;
  messages: InboundMessage[];
  /** The price updates among the messages, decoded already (the consumer thread does it, off the clearing thread); optional. */
  prices?: DecodedPrices;
}

/**
 * Price updates a consumer decoded before handing a batch over, by message index (columns: no object per
 * message). Where `instrument[i] >= 0`, message i's value is a price update that decodePriceUpdateBytes
 * (libs/events) decodes to `{ type: 'PriceUpdated', ts: ts[i], instrument: names[instrument[i]], price: units[i]
 * ledger units }` (a safe integer), and its offset is `offsets[i]` (exact). Where it is −1, nothing was decoded:
 * the message is read as any other. Valid while the batch is being handled.
 */
export interface DecodedPrices {
  readonly instrument: Int32Array;
  readonly names: readonly string[];
  readonly ts: Float64Array;
  readonly units: Float64Array;
  readonly offsets: Float64Array;
}

export interface BatchContext {
  /** Tells the group this member is alive (call it during long batches). */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping: finish the current step, commit, return. */
  isRunning(): boolean;
}

/**
 * Handles one batch. Messages it does not commit are delivered again (to this
 * member later, or to the next one after a restart): at least once.
 */
export type BatchHandler = (batch: InboundBatch, ctx: BatchContext) => Promise<void>;

/** A committed position: the next offset to read, and the metadata stored with it. */
export interface CommittedOffset {
  offset: string;
  metadata: string | null;
}

export interface InputsConsumer {
  /** The inputs topic. */
  readonly topic: string;
  /** The partitions of the inputs topic this consumer owns (and only those). */
  readonly partitions: readonly number[];
  /** The group's committed position for a partition, if any (read before `start`). */
  committed(partition: number): Promise<CommittedOffset | undefined>;
  /**
   * Joins the group, takes exactly `partitions` and calls `handler` with one
   * batch at a time, from the committed offset (or the earliest one). Offsets
   * are committed only by `commit`, never automatically.
   */
  start(handler: BatchHandler): Promise<void>;
  /**
   * True when the consumer moves its fetch position past a batch as soon as it hands it over (the consumer
   * thread does): the handler may then return before its last commit is acknowledged (the commit follows
   * in order) and the next batch is handed over meanwhile. False or absent: the fetch position moves only
   * with `commit`, so a handler must not return before its commits resolve.
   */
  readonly fetchesAhead?: boolean;
  /** Commits `nextOffset` (last handled offset + 1) with optional metadata. */
  commit(partition: number, nextOffset: string, metadata?: string): Promise<void>;
  /** Stops fetching, waits for the batch in flight, leaves the group, disconnects. */
  stop(): Promise<void>;
}

/** A message to produce. Without `partition`, the client's partitioner picks one from the key. */
export interface OutboundMessage {
  key: string | null;
  value: string | Buffer;
  headers?: MessageHeaders;
  partition?: number;
}

/**
 * Produces to one topic. Resolves once every message is acknowledged by all
 * in-sync replicas (acks = all), in order per partition, without duplicates
 * from the client's own retries (idempotent producer).
 */
export interface TopicPublisher {
  readonly topic: string;
  publish(messages: readonly OutboundMessage[]): Promise<void>;
}

/** The decisions topic (keyed by account). */
export type DecisionsPublisher = TopicPublisher;

/** A message that could not be applied, and why. */
export interface DeadLetter {
  message: InboundMessage;
  /** A short code: `malformed`, `rejected`, `conflict` (a repeat of an id with other content), `misrouted`. */
  error: string;
  /** The human-readable reason (which field, what is wrong). */
  reason: string;
  headers?: MessageHeaders;
}

/** The dead-letter topic: the original key and value, plus headers saying why and where from. */
export interface DeadLetters {
  readonly topic: string;
  send(letters: readonly DeadLetter[]): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor?: number;
}

export interface TopicAdmin {
  /** Creates the topics that do not exist yet (idempotent, safe to race); leaves existing ones alone. */
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>;
  /** The partition count of a topic, undefined if it does not exist. */
  partitionCount(topic: string): Promise<number | undefined>;
  /** Per partition, the offset the next message will get (the high watermark). */
  endOffsets(topic: string): Promise<Map<number, string>>;
}

/** Everything a shard worker needs from Kafka. */
export interface KafkaPorts {
  admin: TopicAdmin;
  consumer: InputsConsumer;
  decisions: DecisionsPublisher;
  deadLetters: DeadLetters;
  /** Disconnects whatever is still connected (idempotent). */
  close(): Promise<void>;
}
