import { expectKafkaPositions, IdConflictRejected, idempotencyKey, KAFKA_POSITION_PREFIX, KAFKA_POSTED_BY, kafkaPartitionKey } from '@clearsim/clearing';
import { decodeLine, decodePriceUpdateBytes, encodeEvent, InputError, isDecision, SCHEMA_VERSION, writeDecimalDigits, type DecisionEvent, type InputEvent } from '@clearsim/events';
import type { ShardRunner, SourcedInputs } from '@clearsim/shard';
import type { StoredEvent } from '@clearsim/store';
import type { BatchContext, DeadLetter, DecodedPrices, InboundBatch, InboundMessage, KafkaPorts, OutboundMessage } from './kafka.port';
import { assertShards, localizeInput } from './sharding';
import { HEADER } from './topics';

export interface KafkaShardWorkerOptions {
  /** The shard's runner (opened by the caller, who also owns and closes its store). */
  runner: ShardRunner;
  /** Kafka, behind the port; the worker closes it on `stop`. Its consumer must own partition `shard` only. */
  ports: KafkaPorts;
  shards: number;
  shard: number;
  /** Partitions of the decisions topic when the worker creates it (default: `shards`). */
  decisionsPartitions?: number;
  /** Partitions of the dead-letter topic when the worker creates it (default 1). */
  deadLetterPartitions?: number;
  replicationFactor?: number;
  /**
   * At most this many messages are decided and appended together (one durable append, one commit). Default
   * 4000: with kafkajs off the clearing thread, the fsync of each step was most of the time that thread
   * waited (docs/performance.md, B6 round 4); a crash redelivers at most this many (duplicates to the core).
   */
  maxInputsPerAppend?: number;
  /** Decisions per produce request when catching up from the log. Default 5000. */
  publishChunk?: number;
  /** Operational messages (refusals, recovery). Default: stderr. */
  log?: (line: string) => void;
}

export interface KafkaShardWorkerStats {
  /** Messages handled and committed (applied, duplicate, skipped or dead-lettered). */
  consumed: number;
  /** Inputs appended to the log. */
  applied: number;
  /** Redelivered or re-sent inputs the core recognised by their id (nothing appended). */
  duplicates: number;
  /** Extra copies of trades with a system account, left to the shard that owns them. */
  skipped: number;
  deadLettered: number;
  decisionsPublished: number;
}

/** A step decoded and localized, not yet decided: messages[from, end) as inputs, up to `stop`. */
interface PreparedStep {
  from: number;
  end: number;
  inputs: InputEvent[];
  /** The message index of each input. */
  indexOf: number[];
  /** The offset of each input whose `eventId` is its position (`kafkaEventIdAt` of `partitionKey`'s partition), -1 for the others. */
  offsets: number[];
  /** kafkaPartitionKey of the step's partition. */
  partitionKey: string | undefined;
  /** The message that ended the step early: dead-lettered, or (no `dead`) a copy to skip. */
  stop?: { index: number; dead?: DeadLetter };
}

/** The default of `maxInputsPerAppend`. */
export const DEFAULT_MAX_INPUTS_PER_APPEND = 4000;

/** Commit metadata: the log position whose decisions are all on the decisions topic. */
const PUBLISHED = 'clearsim:published=';

/** The commit metadata saying every logged decision up to `position` is on the decisions topic (what a restart resumes publishing after). */
export const publishedMetadata = (position: number): string => `${PUBLISHED}${position}`;

const parsePublished = (metadata: string | null | undefined): number | undefined => {
  if (!metadata?.startsWith(PUBLISHED)) return undefined;
  const n = Number(metadata.slice(PUBLISHED.length));
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
};

const nextOffset = (offset: string): string => (BigInt(offset) + 1n).toString();

/**
 * One shard's Kafka loop: inputs partition `shard` → decode (the one codec) →
 * localize (sharding.ts) → `ShardRunner.run` (decide + one durable append) →
 * decisions to the decisions topic, keyed by account → commit the consumed
 * offsets. The core makes every clearing decision; this class moves bytes.
 *
 * Guarantees (see README.md):
 * - at least once in, exactly once in effect: offsets are committed only
 *   after the append is durable and its decisions are acknowledged by Kafka;
 *   every input it appends carries an idempotency key scoped `postedBy: "kafka"`
 *   (its own `tradeId`, `requestId` or `eventId`, a deposit's content, else
 *   `eventId = kafka:<topic>/<partition>@<offset>`, which the core checks by
 *   position: the highest offset applied per partition), so a redelivered
 *   message is a `duplicate` the core ignores, and a repeat of a key with
 *   other content is dead-lettered as a `conflict`;
 * - a message that is malformed, misrouted or refused by the core goes to the
 *   dead-letter topic with the reason, its offset is committed, and
 *   consumption goes on; the inputs around it are not lost. Every such message
 *   is committed on its own, right after the inputs before it, so an input
 *   appended-but-not-committed before a crash is always one the core will
 *   recognise as a duplicate (a refusal is never re-judged on a later state);
 * - decisions are published at least once: the commit metadata records the
 *   log position published up to, and on start every decision after it is
 *   published again (all of them for a group that never committed; none if
 *   the offset was committed without that metadata, e.g. reset by an
 *   operator). Each decision carries headers `shard` and `position`, a
 *   unique key for consumers that must see it once.
 */
export class KafkaShardWorker {
  readonly stats: KafkaShardWorkerStats = { consumed: 0, applied: 0, duplicates: 0, skipped: 0, deadLettered: 0, decisionsPublished: 0 };
  private readonly runner: ShardRunner;
  private readonly ports: KafkaPorts;
  private readonly shards: number;
  private readonly shard: number;
  private readonly maxPerAppend: number;
  private readonly publishChunk: number;
  private readonly log: (line: string) => void;
  private unsubscribe?: () => void;
  private stopping = false;
  private stopped?: Promise<void>;
  /** Every decision at a position ≤ this is on the decisions topic. */
  private published = 0;
  /** Highest position appended (heard from the runner). */
  private appendedUpTo = 0;
  private pending: StoredEvent[] = [];
  private needsCatchUp = true;
  private flushing: Promise<void> = Promise.resolve();
  private committed?: string;
  /**
   * The commits of the steps handled so far, in order. With a consumer that fetches ahead, a batch's
   * handler returns before its last commit is acknowledged; the next batch's steps chain after it.
   */
  private settling: Promise<void> = Promise.resolve();
  /** A commit (or what precedes it) that failed after its batch's handler returned: the next batch fails with it. */
  private settleFailure?: Error;
  /** The `source` of the worker's input arrays (a refusal of the core names it, with the input's index as its line). */
  private readonly source: string;
  /** 0, 1, 2, …: the `lines` of an array of inputs, each input's index in it (one array for every step, not one object per input). */
  private readonly indexLines: number[];

  private constructor(private readonly options: KafkaShardWorkerOptions) {
    assertShards(options.shards, options.shard);
    this.runner = options.runner;
    this.ports = options.ports;
    this.shards = options.shards;
    this.shard = options.shard;
    this.maxPerAppend = options.maxInputsPerAppend ?? DEFAULT_MAX_INPUTS_PER_APPEND;
    this.publishChunk = options.publishChunk ?? 5000;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.source = `kafka:${this.ports.consumer.topic}/${this.shard}`;
    this.indexLines = Array.from({ length: this.maxPerAppend }, (_, i) => i);
    const partitions = this.ports.consumer.partitions;
    if (partitions.length !== 1 || partitions[0] !== this.shard) {
      throw new Error(`shard ${this.shard}'s consumer must own exactly partition ${this.shard} of the inputs topic, not [${partitions.join(', ')}]`);
    }
  }

  /**
   * Creates missing topics (inputs with one partition per shard, decisions,
   * dead letters), checks the inputs topic has exactly `shards` partitions,
   * publishes decisions the last run logged but may not have published, then
   * consumes.
   */
  static async start(options: KafkaShardWorkerOptions): Promise<KafkaShardWorker> {
    const worker = new KafkaShardWorker(options);
    try {
      await worker.init();
    } catch (error) {
      await worker.stop().catch(() => undefined);
      throw error;
    }
    return worker;
  }

  /** The next offset of the shard's partition this worker has committed (undefined before its first commit). */
  get committedOffset(): string | undefined {
    return this.committed;
  }

  get publishedUpTo(): number {
    return this.published;
  }

  private async init(): Promise<void> {
    const { admin, consumer, decisions, deadLetters } = this.ports;
    const { replicationFactor } = this.options;
    await admin.ensureTopics([
      { topic: consumer.topic, partitions: this.shards, replicationFactor },
      { topic: decisions.topic, partitions: this.options.decisionsPartitions ?? this.shards, replicationFactor },
      { topic: deadLetters.topic, partitions: this.options.deadLetterPartitions ?? 1, replicationFactor },
    ]);
    const count = await admin.partitionCount(consumer.topic);
    if (count !== this.shards) {
      throw new Error(`inputs topic "${consumer.topic}" has ${count} partition(s), but ${this.shards} shard(s) need exactly ${this.shards} (partition i is shard i)`);
    }
    const committed = await consumer.committed(this.shard);
    this.committed = committed?.offset;
    let published = parsePublished(committed?.metadata);
    if (published === undefined && committed) {
      // offsets committed by someone else (an operator's reset): what the log holds was published before
      this.log(`kafka: the offset of "${consumer.topic}" partition ${this.shard} was committed without clearsim metadata; assuming every logged decision (up to position ${this.runner.head}) is already published`);
      published = this.runner.head;
    }
    published ??= 0;
    if (this.runner.head < published) {
      throw new Error(
        `the store ${this.runner.store.url} ends at position ${this.runner.head}, but consumer group offsets of "${consumer.topic}" partition ${this.shard} were committed after position ${published}: ` +
          'the store lost events it had acknowledged, or belongs to another deployment (use a fresh consumer group with a fresh store)',
      );
    }
    this.published = published;
    this.appendedUpTo = this.runner.head;
    this.unsubscribe = this.runner.onAppended((events) => this.onAppended(events));
    await this.flush();
    await consumer.start((batch, ctx) => this.handleBatch(batch, ctx));
  }

  /** Finishes the step in flight (append, publish, commit), then leaves the group and disconnects. Idempotent. */
  stop(): Promise<void> {
    return (this.stopped ??= (async () => {
      this.stopping = true;
      try {
        // the commits of a batch already handed back are acknowledged before the consumer may leave the group
        await this.settling.catch(() => undefined);
        await this.ports.consumer.stop();
        await this.flushing.catch(() => undefined);
      } finally {
        this.unsubscribe?.();
        await this.ports.close();
      }
    })());
  }

  private onAppended(events: readonly StoredEvent[]): void {
    if (events.length === 0) return;
    for (const e of events) if (isDecision(e.event)) this.pending.push(e);
    this.appendedUpTo = Math.max(this.appendedUpTo, events[events.length - 1]!.position);
    // appends by others (HTTP) reach Kafka without waiting for the next Kafka batch
    this.flush().catch((error: unknown) => this.log(`kafka: publishing decisions failed (will retry from the log): ${(error as Error).message}`));
  }

  /** Publishes every logged decision not yet acknowledged, in log order. Serialized. */
  private flush(): Promise<void> {
    const next = this.flushing.then(() => this.publishPending());
    this.flushing = next.catch(() => undefined);
    return next;
  }

  private async publishPending(): Promise<void> {
    try {
      if (this.needsCatchUp) {
        const head = this.appendedUpTo;
        if (head > this.published) {
          let chunk: StoredEvent[] = [];
          for await (const stored of this.runner.store.read(this.published + 1, { toPosition: head })) {
            if (!isDecision(stored.event)) continue;
            chunk.push(stored);
            if (chunk.length >= this.publishChunk) {
              await this.publish(chunk);
              chunk = [];
            }
          }
          await this.publish(chunk);
          this.published = head;
        }
        this.pending = this.pending.filter((e) => e.position > head);
        this.needsCatchUp = false;
      }
      const upTo = this.appendedUpTo;
      const batch = this.pending;
      this.pending = [];
      await this.publish(batch.filter((e) => e.position > this.published));
      this.published = Math.max(this.published, upTo);
    } catch (error) {
      this.needsCatchUp = true;
      throw error;
    }
  }

  private async publish(events: readonly StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.ports.decisions.publish(events.map((e) => this.decisionMessage(e.event as DecisionEvent, e.position)));
    this.stats.decisionsPublished += events.length;
  }

  private decisionMessage(decision: DecisionEvent, position: number): OutboundMessage {
    return {
      // a mark's impact is about an instrument, not an account
      key: 'account' in decision ? decision.account : decision.instrument,
      value: encodeEvent(decision),
      headers: {
        [HEADER.type]: decision.type,
        [HEADER.schemaVersion]: String(SCHEMA_VERSION),
        [HEADER.shard]: String(this.shard),
        [HEADER.position]: String(position),
      },
    };
  }

  /**
   * Steps through a batch: each step is decided and durably appended, then
   * its decisions published and its offset committed. The publishing and
   * committing of a step (broker round trips) overlap the deciding and
   * appending of the next; commits stay in step order, each after its own
   * append is durable and its decisions acknowledged. A step that ends with a
   * dead letter is sent and committed before the next step is decided, so a
   * refusal is never re-judged on a later state after a crash. With a
   * consumer that fetches ahead, the last commit of a batch may still be in
   * flight when this returns (the next batch is decided meanwhile; its
   * commits follow); if it fails, the next batch fails with it, and the
   * consumer resumes from the committed offset.
   */
  private async handleBatch(batch: InboundBatch, ctx: BatchContext): Promise<void> {
    const { messages, prices } = batch;
    let i = 0;
    const failure = this.settleFailure;
    if (failure) {
      this.settleFailure = undefined;
      throw failure;
    }
    let settling = this.settling;
    let failed = false;
    try {
      let prepared: PreparedStep | undefined;
      while (i < messages.length) {
        if (failed || this.stopping || !ctx.isRunning()) break;
        const from = i;
        const current = prepared?.from === i ? prepared : this.prepareStep(messages, i, prices);
        prepared = undefined;
        // once the step is decided, the next one (where it starts if none of this step's inputs is refused) is
        // decoded while this one's append is made durable; a refusal or a failure leaves it unused
        const following = current.end;
        let appending = true;
        const prefetch =
          current.stop === undefined && following < messages.length
            ? () =>
                setImmediate(() => {
                  if (!appending) return; // too late: the loop went on without it
                  try {
                    prepared = this.prepareStep(messages, following, prices);
                  } catch {
                    // prepared again in the loop, where a failure stops the batch
                  }
                })
            : undefined;
        const step = await this.applyStep(messages, current, prefetch);
        appending = false;
        i = step.next;
        // publishing starts now (flushes are serialized); the commit waits for it
        const published = this.flush();
        published.catch(() => undefined); // awaited in the chain below
        settling = settling.then(() => this.settle(batch.partition, messages, from, step, published, ctx));
        settling.catch(() => (failed = true));
        this.settling = settling;
        if (step.dead) await settling;
      }
    } finally {
      const pending = settling;
      const forget = () => {
        // a failed chain is not chained onto again: the consumer resumes from the committed offset
        if (this.settling === pending) this.settling = Promise.resolve();
      };
      if (failed || this.stopping || !ctx.isRunning() || this.ports.consumer.fetchesAhead !== true) {
        await pending.catch((error: unknown) => {
          forget();
          this.settleFailure = undefined;
          throw error;
        });
      } else {
        pending.catch((error: unknown) => {
          // still the latest chain: nothing after it will report the failure, so the next batch does
          if (this.settling === pending) this.settleFailure ??= error as Error;
          forget();
        });
      }
    }
  }

  /** After a step's append: its decisions acknowledged, its dead letter sent, then its offset committed. */
  private async settle(partition: number, messages: readonly InboundMessage[], from: number, step: { next: number; dead?: DeadLetter }, published: Promise<void>, ctx: BatchContext): Promise<void> {
    await published;
    if (step.dead) {
      await this.ports.deadLetters.send([step.dead]);
      this.stats.deadLettered++;
      this.log(`kafka: ${step.dead.message.topic}/${step.dead.message.partition}@${step.dead.message.offset} → ${this.ports.deadLetters.topic} (${step.dead.error}): ${step.dead.reason}`);
    }
    const offset = nextOffset(messages[step.next - 1]!.offset);
    await this.ports.consumer.commit(partition, offset, publishedMetadata(this.published));
    this.committed = offset;
    this.stats.consumed += step.next - from;
    await ctx.heartbeat();
  }

  /**
   * Decodes and localizes messages from `from` (at most maxInputsPerAppend),
   * stopping at the first message that cannot be applied (malformed,
   * misrouted, or a copy to skip) and after new rules (the rules that route an
   * input are those of the shard at its point of the run). Decides nothing.
   */
  private prepareStep(messages: readonly InboundMessage[], from: number, prices: DecodedPrices | undefined): PreparedStep {
    let end = Math.min(messages.length, from + this.maxPerAppend);
    let stop: PreparedStep['stop'];
    const inputs: InputEvent[] = [];
    const indexOf: number[] = [];
    const offsets: number[] = [];
    // the position key of the step's partition, for the core (expectKafkaPositions): built once per partition
    const first = messages[from];
    const partition = first === undefined ? this.partitionKey : this.partitionKeyOf(first.topic, first.partition);
    // on one shard every input is the shard's (localizeInput applies them all): no routing, no object per input
    const routing = this.shards === 1 ? undefined : { shards: this.shards, shard: this.shard, accounts: this.runner.engine.state.rules?.accounts };
    for (let j = from; j < end; j++) {
      const message = messages[j]!;
      const fromColumns = prices !== undefined && prices.instrument[j]! >= 0;
      const decoded = fromColumns ? this.decodedPrice(message, prices, j) : this.decode(message);
      if ('reason' in decoded) {
        stop = { index: j, dead: { message, error: 'malformed', reason: decoded.reason } };
        break;
      }
      let input = decoded.input;
      if (routing !== undefined) {
        const local = localizeInput(input, routing);
        if (local.action !== 'apply') {
          stop = { index: j, dead: local.action === 'skip' ? undefined : { message, error: local.action === 'misrouted' ? 'misrouted' : 'rejected', reason: local.reason } };
          break;
        }
        input = local.input;
      }
      inputs.push(input);
      indexOf.push(j);
      // an input made from the columns has its position for id (kafkaEventIdAt of this offset); others are parsed by the core
      offsets.push(fromColumns && message.topic === partition.topic && message.partition === partition.partition ? prices.offsets[j]! : -1);
      if (input.type === 'RulesActivated') {
        end = j + 1;
        break;
      }
    }
    return { from, end, inputs, indexOf, offsets, partitionKey: partition.key, stop };
  }

  /** kafkaPartitionKey of a topic's partition (the last one asked for is kept: a batch is of one partition). */
  private partitionKeyOf(topic: string, partition: number): { topic: string; partition: number; key: string | undefined } {
    const known = this.partitionKey;
    if (known.topic === topic && known.partition === partition) return known;
    this.partitionKey = { topic, partition, key: kafkaPartitionKey(topic, partition) };
    return this.partitionKey;
  }

  private partitionKey: { topic: string; partition: number; key: string | undefined } = { topic: '', partition: -1, key: undefined };

  /**
   * Decides and appends a prepared step in one run (one array: the runner
   * awaits once per step, not once per input). A message the core refuses
   * ends the step: the inputs before it are appended, it is dead-lettered.
   * Returns the index after the last handled message, and the dead letter
   * of the stopping message, if any. `onDecided` runs once every input is
   * decided, while the append is made durable.
   */
  private async applyStep(messages: readonly InboundMessage[], prepared: PreparedStep, onDecided?: () => void): Promise<{ next: number; dead?: DeadLetter }> {
    const runner = this.runner;
    const { inputs, indexOf, end } = prepared;
    let stop = prepared.stop;
    try {
      // the core's position check takes the offsets the worker has instead of parsing each id again
      expectKafkaPositions(inputs, prepared.partitionKey, prepared.offsets);
      const result = await runner.runBatches([this.sourced(inputs)], { onCommitting: onDecided });
      this.stats.applied += result.inputsAccepted;
      this.stats.duplicates += result.duplicates;
    } catch (error) {
      if (!(error instanceof InputError) || error.line === undefined || error.source !== this.source || indexOf[error.line] === undefined) throw error;
      const refused = error.line;
      // run is all or nothing: append the inputs before the refused one, then dead-letter it
      if (refused > 0) {
        expectKafkaPositions(inputs, prepared.partitionKey, prepared.offsets);
        const result = await runner.runBatches([this.sourced(inputs.slice(0, refused))]);
        this.stats.applied += result.inputsAccepted;
        this.stats.duplicates += result.duplicates;
      }
      const index = indexOf[refused]!;
      // a repeat of an id with other content: the first version stands, the repeat is dead-lettered as a conflict
      const code = error instanceof IdConflictRejected ? 'conflict' : 'rejected';
      stop = { index, dead: { message: messages[index]!, error: code, reason: InputError.describe(error.issues) } };
    }
    if (stop && !stop.dead) this.stats.skipped++;
    return { next: stop ? stop.index + 1 : end, dead: stop?.dead };
  }

  /** A step's inputs as the runner takes them: the input at index i is "line" i of the worker's source. */
  private sourced(inputs: readonly InputEvent[]): SourcedInputs {
    return { inputs, source: this.source, lines: this.indexLines };
  }

  /**
   * `decode` of a message whose price update the consumer decoded already (the same codec, on its thread:
   * DecodedPrices): the same checks in the same order, the same input, made as one object with its scope and
   * its Kafka coordinates.
   */
  private decodedPrice(message: InboundMessage, prices: DecodedPrices, j: number): { input: InputEvent } | { reason: string } {
    // a decoded price update has a value (of 80 bytes or more): the first check of `decode` passes
    const version = message.headers[HEADER.schemaVersion];
    // a version this build does not read: `decode` gives the reason
    if (version !== undefined && !(Number(version) >= 1 && Number(version) <= SCHEMA_VERSION)) return this.decode(message);
    const input = {
      type: 'PriceUpdated',
      ts: prices.ts[j]!,
      instrument: prices.names[prices.instrument[j]!]!,
      price: BigInt(prices.units[j]!),
      postedBy: KAFKA_SCOPE,
      eventId: kafkaEventIdAt(message.topic, message.partition, prices.offsets[j]!),
    } as InputEvent;
    return { input };
  }

  /**
   * The one codec; then the input is stamped `postedBy: "kafka"` (the scope of
   * its idempotency key; a producer may not set it), and an input with no key
   * of its own gets one from its Kafka coordinates.
   */
  private decode(message: InboundMessage): { input: InputEvent } | { reason: string } {
    if (message.value === null || message.value.length === 0) return { reason: 'empty message (no value)' };
    const version = message.headers[HEADER.schemaVersion];
    if (version !== undefined && !(Number(version) >= 1 && Number(version) <= SCHEMA_VERSION)) {
      return { reason: `header "${HEADER.schemaVersion}": schema version "${version}" is not one this build reads (1..${SCHEMA_VERSION})` };
    }
    // a price update (the bulk of a venue's inputs) straight from its bytes: no string of the value, no JSON.parse;
    // it has no postedBy and no id of its own, so it gets its Kafka coordinates
    const price = decodePriceUpdateBytes(message.value, 0, message.value.length);
    if (price !== undefined) {
      const stampedPrice = price as { -readonly [K in keyof InputEvent]: InputEvent[K] };
      stampedPrice.postedBy = KAFKA_SCOPE;
      stampedPrice.eventId = kafkaEventId(message);
      return { input: price };
    }
    let input: InputEvent;
    try {
      input = decodeLine(message.value.toString('utf8'), 'input') as InputEvent;
    } catch (error) {
      if (error instanceof InputError) return { reason: InputError.describe(error.issues) };
      return { reason: (error as Error).message };
    }
    if (input.postedBy !== undefined) return { reason: `field "postedBy": set by clearsim (the scope of the input's ids: "${KAFKA_SCOPE}" on this topic); a producer must not send it` };
    if (input.eventId?.startsWith(KAFKA_POSITION_PREFIX)) {
      return { reason: `field "eventId": ids starting "${KAFKA_POSITION_PREFIX}" are the Kafka coordinates clearsim gives an input with no id of its own; a producer must not send one` };
    }
    // the decoded object is this call's own: stamped in place rather than copied (one object per input less)
    const stamped = input as { -readonly [K in keyof InputEvent]: InputEvent[K] };
    stamped.postedBy = KAFKA_SCOPE;
    if (idempotencyKey(input) === undefined) stamped.eventId = kafkaEventId(message);
    return { input };
  }
}

/** The `postedBy` of every input from the inputs topic: one scope for all producers of the topic (docs/idempotency.md). */
export const KAFKA_SCOPE = KAFKA_POSTED_BY;

/** The idempotency id of an input that has none of its own: where it sits in Kafka. */
export function kafkaEventId(message: Pick<InboundMessage, 'topic' | 'partition' | 'offset'>): string {
  // the prefix is the same for every message of a partition: built once per partition, not per message
  if (lastCoordinates.topic !== message.topic || lastCoordinates.partition !== message.partition) lastCoordinates = coordinatesOf(message.topic, message.partition);
  const { prefix, scratch } = lastCoordinates;
  const offset = message.offset;
  if (scratch === undefined || offset.length > MAX_OFFSET_DIGITS) return prefix + offset;
  // a flat string, not `prefix + offset` (a cons string: the core's position check and the log's encoder each walk
  // its two halves; flattening it costs another copy): the prefix sits in the scratch buffer, the digits are
  // written after it, and one native slice makes the string (docs/performance.md, B6 round 5)
  let at = prefix.length;
  for (let i = 0; i < offset.length; i++) {
    const c = offset.charCodeAt(i);
    if (c > 0x7e) return prefix + offset;
    scratch[at++] = c;
  }
  return scratch.latin1Slice(0, at);
}

/** kafkaEventId of the message at `offset` (a safe integer) of a partition, its digits written from the number (no text of the offset made). */
export function kafkaEventIdAt(topic: string, partition: number, offset: number): string {
  if (lastCoordinates.topic !== topic || lastCoordinates.partition !== partition) lastCoordinates = coordinatesOf(topic, partition);
  const { prefix, scratch } = lastCoordinates;
  if (scratch === undefined || !Number.isSafeInteger(offset) || offset < 0) return prefix + String(offset);
  return scratch.latin1Slice(0, writeDecimalDigits(scratch, prefix.length, offset));
}

/** An offset is at most 19 digits (Kafka's int64); anything longer is taken as it is. */
const MAX_OFFSET_DIGITS = 24;

interface Coordinates {
  topic: string;
  partition: number;
  prefix: string;
  /** The prefix's bytes with room for an offset after them; undefined where the prefix is not printable ASCII (then ids are concatenated). */
  scratch?: Buffer & { latin1Slice(start: number, end: number): string };
}

function coordinatesOf(topic: string, partition: number): Coordinates {
  const prefix = `${KAFKA_POSITION_PREFIX}${topic}/${partition}@`;
  if (!/^[\x20-\x7e]*$/.test(prefix)) return { topic, partition, prefix };
  const scratch = Buffer.alloc(prefix.length + MAX_OFFSET_DIGITS) as Coordinates['scratch'] & Buffer;
  scratch.write(prefix, 0, 'latin1');
  return { topic, partition, prefix, scratch };
}

/** The partition kafkaEventId last saw, its prefix and scratch buffer (a cache: the answer does not depend on it). */
let lastCoordinates: Coordinates = { topic: '', partition: -1, prefix: '' };
