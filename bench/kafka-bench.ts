import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logLevel, type Kafka, type Message } from 'kafkajs';
import {
  consumerThreadOn,
  createKafkaJsClient,
  createKafkaJsPorts,
  DEFAULT_CONSUMER_THREAD,
  KafkaShardWorker,
  parseConsumerThreadSetting,
  ThreadedInputsConsumer,
  type BatchHandler,
  type InputsConsumer,
  type KafkaPorts,
} from '@clearsim/kafka';
import { ShardRunner } from '@clearsim/shard';
import { openStore } from '@clearsim/store';

/**
 * B6 (docs/performance.md): Kafka inputs topic → decisions topic on a real
 * broker, against a raw kafkajs consume + JSON.parse of the same topic in the
 * same run. One partition (one shard), a fresh topic per run holding the
 * setup (rules, a perpetual at 10,000, `accounts` accounts long or short 1
 * lot against a market maker) then `events` PriceUpdated inputs (±0.5 %
 * around 10,000: every one goes through the margin checks of the holders).
 *
 * - baseline: a kafkajs consumer (its own group) reads the topic from the
 *   beginning with `eachBatch` and JSON.parses every value;
 * - worker: clearsim's shard worker (libs/kafka, the kafkajs ports `clearsim
 *   serve --kafka-brokers` uses) on a temp-dir file store: decode, decide,
 *   durable append, decisions published (acks all), offsets committed.
 *
 * Both are timed from their first batch to their last message (consumed for
 * the baseline; committed for the worker), so joining the group is left out
 * of both; each also reports the process's CPU time over that interval (on a
 * loaded machine the wall time varies far more than the CPU time). Needs a broker: `eval "$(infra/services.sh up --no-postgres)"`.
 *
 *   npm run build && KAFKA_BROKERS=127.0.0.1:19092 node dist/bench/kafka-bench.js
 *
 * Env: BENCH_KAFKA_EVENTS (default 200000), BENCH_KAFKA_ACCOUNTS (default 1000); for experiments on the
 * worker, BENCH_KAFKA_PER_APPEND (its maxInputsPerAppend) and BENCH_KAFKA_FETCH_BYTES (its consumer's
 * maxBytesPerPartition, default 1 MiB like the baseline's), BENCH_KAFKA_CPU_PROF (a directory: the main
 * thread's CPU profile of the worker's timed interval only, first batch to last commit, is written there as
 * `b6-worker-<id>.cpuprofile`, for `node dist/bench/cpu-profile-summary.js FILE`). The worker's consumer
 * runs kafkajs on a thread of its own or not as `clearsim serve` would (CLEARSIM_KAFKA_CONSUMER_THREAD
 * on|off|auto, default auto: on with ≥ 2 cores); the figures say which (`consumerThread`) and, with the
 * thread, its own CPU time (`consumerThreadCpuSeconds`).
 */

const TS = '2026-01-01T00:00:00Z';

export interface KafkaBenchOptions {
  brokers: string[];
  /** PriceUpdated inputs after the setup. */
  events: number;
  accounts: number;
}

export interface KafkaRouteFigures {
  /** Messages of the topic (setup included) per second, first batch to last message. */
  eventsPerSecond: number;
  seconds: number;
  messages: number;
  /** CPU time (user + system) of this process over the same interval: near `seconds` when the route is CPU-bound, less when it waits. */
  cpuSeconds: number;
  /** CPU time of the main thread alone over the same interval (Linux: /proc/self/task/<pid>/stat; NaN elsewhere): with the consumer in a thread of its own, the part of `cpuSeconds` spent deciding and appending. */
  mainThreadCpuSeconds: number;
  /** Whether the worker's consumer ran kafkajs on a thread of its own (false for the baseline). */
  consumerThread: boolean;
  /** CPU time of the consumer thread over the interval (Linux; NaN without the thread or /proc). */
  consumerThreadCpuSeconds: number;
  /** Of the main thread's idle time, the seconds it had no batch in hand or waiting (waiting for the consumer thread; NaN without it). */
  waitingForBatchSeconds: number;
  /** Seconds the main thread's event loop sat idle over the interval (waiting for I/O: the disk, the broker), from its event-loop utilization. */
  mainIdleSeconds: number;
}

/** User + system CPU seconds of the main thread (Linux), NaN where /proc is not there. */
function mainThreadCpu(): number {
  return threadCpu(process.pid);
}

/** User + system CPU seconds of one of this process's threads by its OS id (Linux), NaN where /proc or the thread is not there. */
function threadCpu(tid: number | undefined): number {
  if (tid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 14 and 15 of stat (utime, stime), in clock ticks: 100 a second on Linux
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * A CPU profile of this thread over an interval (node:inspector, sampling every 100 µs), written to
 * `dir/name.cpuprofile` on `stop`: only the interval, where `node --cpu-prof` would also hold the fill and the baseline.
 */
function intervalProfiler(dir: string | undefined, name: string): { start(): void; stop(): Promise<void> } {
  if (!dir) return { start: () => undefined, stop: () => Promise.resolve() };
  const session = new Session();
  session.connect();
  return {
    start: () => {
      session.post('Profiler.enable');
      session.post('Profiler.setSamplingInterval', { interval: 100 });
      session.post('Profiler.start');
    },
    stop: () =>
      new Promise<void>((resolve, reject) =>
        session.post('Profiler.stop', (error, result) => {
          session.disconnect();
          if (error) return reject(error);
          try {
            // the first sample's delta runs from the profile's start time to it: it spans the profiler's own
            // start-up (hundreds of ms, credited to the inspector's `dispatch`: round 4's "message dispatch"), so
            // the profile starts at the first sample instead (docs/performance.md, B6 round 5)
            const { profile } = result;
            if (profile.timeDeltas !== undefined && profile.timeDeltas.length > 0) {
              profile.startTime += profile.timeDeltas[0]!;
              profile.timeDeltas[0] = 0;
            }
            mkdirSync(dir, { recursive: true });
            writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
            resolve();
          } catch (writeError) {
            reject(writeError as Error);
          }
        }),
      ),
  };
}

export interface KafkaBenchResult {
  baseline: KafkaRouteFigures;
  worker: KafkaRouteFigures & { decisionsPublished: number; applied: number; deadLettered: number };
}

/** One measurement: a fresh topic filled, then the raw consume, then the shard worker on a fresh file store. */
export async function measureKafka(options: KafkaBenchOptions): Promise<KafkaBenchResult> {
  const id = randomBytes(4).toString('hex');
  const inputsTopic = `clearsim-b6-${id}`;
  const kafka = createKafkaJsClient({ brokers: options.brokers, clientId: `clearsim-b6-${id}`, logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: inputsTopic, numPartitions: 1 }], waitForLeaders: true });
    const messages = await fill(kafka, inputsTopic, options);
    const baseline = await rawConsume(kafka, inputsTopic, messages, `clearsim-b6-raw-${id}`);
    const worker = await workerConsume(options.brokers, inputsTopic, messages, `clearsim-b6-worker-${id}`);
    return { baseline, worker };
  } finally {
    const existing = new Set(await admin.listTopics().catch(() => [] as string[]));
    const ours = [inputsTopic, `${inputsTopic}.decisions`, `${inputsTopic}.dlq`].filter((topic) => existing.has(topic));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours }).catch(() => undefined);
    await admin.disconnect();
  }
}

/** Produces the setup and the price updates; returns the number of messages. */
async function fill(kafka: Kafka, topic: string, options: KafkaBenchOptions): Promise<number> {
  const values: unknown[] = [
    {
      type: 'RulesActivated',
      ts: TS,
      rules: { name: 'bench', model: 'cross', marginCall: { graceSeconds: 3600 }, accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' }, instruments: { '*': { tiers: [{ initialRate: '0.1', maintenanceRate: '0.05' }] } } },
    },
    { type: 'InstrumentListed', ts: TS, instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC', multiplier: '1' },
    { type: 'PriceUpdated', ts: TS, instrument: 'BTC-PERP', price: '10000' },
    { type: 'Deposited', ts: TS, eventId: 'mm-deposit', account: 'mm', asset: 'USD', amount: '100000000' },
  ];
  for (let i = 0; i < options.accounts; i++) {
    const account = `acct-${String(i).padStart(5, '0')}`;
    const long = i % 2 === 0;
    values.push({ type: 'Deposited', ts: TS, eventId: `deposit-${i}`, account, asset: 'USD', amount: '5000' });
    values.push({ type: 'TradeExecuted', ts: TS, tradeId: `setup-${i}`, instrument: 'BTC-PERP', buyer: long ? account : 'mm', seller: long ? 'mm' : account, qty: '1', price: '10000' });
  }
  for (let i = 0; i < options.events; i++) values.push({ type: 'PriceUpdated', ts: TS, instrument: 'BTC-PERP', price: String(9950 + (i % 100)) });
  const producer = kafka.producer();
  await producer.connect();
  try {
    // ~100 bytes a message: 2,000 stay under the broker's 1 MB request limit
    for (let from = 0; from < values.length; from += 2_000) {
      const chunk: Message[] = values.slice(from, from + 2_000).map((value) => ({ value: JSON.stringify(value) }));
      await producer.send({ topic, acks: -1, messages: chunk });
    }
  } finally {
    await producer.disconnect();
  }
  return values.length;
}

/** The baseline: kafkajs `eachBatch` from the beginning, JSON.parse of every value. */
async function rawConsume(kafka: Kafka, topic: string, total: number, groupId: string): Promise<KafkaRouteFigures> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, maxBytesPerPartition: 1024 * 1024 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let seen = 0;
    let parsed = 0;
    let first = 0;
    let cpuAtFirst = process.cpuUsage();
    let mainAtFirst = mainThreadCpu();
    let eluAtFirst = performance.eventLoopUtilization();
    const done = new Promise<number>((resolve) => {
      void consumer.run({
        eachBatch: async ({ batch }) => {
          if (first === 0) {
            first = performance.now();
            cpuAtFirst = process.cpuUsage();
            mainAtFirst = mainThreadCpu();
            eluAtFirst = performance.eventLoopUtilization();
          }
          for (const message of batch.messages) {
            if (message.value && JSON.parse(message.value.toString('utf8'))) parsed++;
            seen++;
          }
          if (seen >= total) resolve(performance.now());
        },
      });
    });
    const last = await done;
    const cpu = process.cpuUsage(cpuAtFirst);
    const mainCpu = mainThreadCpu() - mainAtFirst;
    const elu = performance.eventLoopUtilization(eluAtFirst);
    if (parsed !== total) throw new Error(`the baseline parsed ${parsed} of ${total} messages`);
    return figures(total, first, last, cpu, mainCpu, elu.idle / 1000);
  } finally {
    await consumer.disconnect();
  }
}

/** clearsim's shard worker on a fresh file store, timed from its first batch until every message's offset is committed. */
async function workerConsume(brokers: string[], inputsTopic: string, total: number, groupId: string): Promise<KafkaBenchResult['worker']> {
  const dir = mkdtempSync(join(tmpdir(), 'clearsim-kafka-bench-'));
  const store = await openStore(`file:${dir}`);
  let worker: KafkaShardWorker | undefined;
  try {
    const runner = await ShardRunner.open(store, { snapshotEvery: 0 });
    const consumerThread = consumerThreadOn(parseConsumerThreadSetting(process.env.CLEARSIM_KAFKA_CONSUMER_THREAD ?? DEFAULT_CONSUMER_THREAD, 'CLEARSIM_KAFKA_CONSUMER_THREAD'));
    const inner = createKafkaJsPorts({
      brokers,
      clientId: groupId,
      groupId,
      inputsTopic,
      partitions: [0],
      decisionsTopic: `${inputsTopic}.decisions`,
      deadLetterTopic: `${inputsTopic}.dlq`,
      logLevel: logLevel.ERROR,
      consumerThread,
      ...(process.env.BENCH_KAFKA_FETCH_BYTES ? { maxBytesPerPartition: Number(process.env.BENCH_KAFKA_FETCH_BYTES) } : {}),
    });
    const threadOf = () => (inner.consumer instanceof ThreadedInputsConsumer ? inner.consumer.osThreadId : undefined);
    let threadAtFirst = Number.NaN;
    const starved = () => (inner.consumer instanceof ThreadedInputsConsumer ? inner.consumer.starvedMs / 1000 : Number.NaN);
    let starvedAtFirst = 0;
    let first = 0;
    let cpuAtFirst = process.cpuUsage();
    let mainAtFirst = mainThreadCpu();
    let eluAtFirst = performance.eventLoopUtilization();
    const profiler = intervalProfiler(process.env.BENCH_KAFKA_CPU_PROF, `b6-${groupId}`);
    let resolveDone!: (at: number) => void;
    const done = new Promise<number>((resolve) => (resolveDone = resolve));
    const consumer: InputsConsumer = {
      topic: inner.consumer.topic,
      partitions: inner.consumer.partitions,
      fetchesAhead: inner.consumer.fetchesAhead,
      committed: (partition) => inner.consumer.committed(partition),
      start: (handler: BatchHandler) =>
        inner.consumer.start((batch, ctx) => {
          if (first === 0) {
            profiler.start();
            first = performance.now();
            cpuAtFirst = process.cpuUsage();
            mainAtFirst = mainThreadCpu();
            threadAtFirst = threadCpu(threadOf());
            starvedAtFirst = starved();
            eluAtFirst = performance.eventLoopUtilization();
          }
          return handler(batch, ctx);
        }),
      commit: async (partition, nextOffset, metadata) => {
        await inner.consumer.commit(partition, nextOffset, metadata);
        if (BigInt(nextOffset) >= BigInt(total)) resolveDone(performance.now());
      },
      stop: () => inner.consumer.stop(),
    };
    const ports: KafkaPorts = { ...inner, consumer };
    const perAppend = process.env.BENCH_KAFKA_PER_APPEND ? { maxInputsPerAppend: Number(process.env.BENCH_KAFKA_PER_APPEND) } : {};
    worker = await KafkaShardWorker.start({ runner, ports, shards: 1, shard: 0, log: () => undefined, ...perAppend });
    const last = await done;
    const cpu = process.cpuUsage(cpuAtFirst);
    const mainCpu = mainThreadCpu() - mainAtFirst;
    const threadCpuSeconds = threadCpu(threadOf()) - threadAtFirst;
    const waitingForBatchSeconds = starved() - starvedAtFirst;
    const elu = performance.eventLoopUtilization(eluAtFirst);
    await profiler.stop();
    const { applied, decisionsPublished, deadLettered } = worker.stats;
    if (deadLettered > 0) throw new Error(`the worker dead-lettered ${deadLettered} message(s)`);
    return { ...figures(total, first, last, cpu, mainCpu, elu.idle / 1000), consumerThread, consumerThreadCpuSeconds: threadCpuSeconds, waitingForBatchSeconds, applied, decisionsPublished, deadLettered };
  } finally {
    await worker?.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function figures(messages: number, first: number, last: number, cpu: NodeJS.CpuUsage, mainCpu: number, mainIdle: number): KafkaRouteFigures {
  const seconds = (last - first) / 1000;
  return { eventsPerSecond: messages / seconds, seconds, messages, cpuSeconds: (cpu.user + cpu.system) / 1e6, mainThreadCpuSeconds: mainCpu, consumerThread: false, consumerThreadCpuSeconds: Number.NaN, waitingForBatchSeconds: Number.NaN, mainIdleSeconds: mainIdle };
}

async function main(): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  if (brokers.length === 0) throw new Error('KAFKA_BROKERS is not set: eval "$(infra/services.sh up --no-postgres)" first');
  const options: KafkaBenchOptions = { brokers, events: Number(process.env.BENCH_KAFKA_EVENTS ?? 200_000), accounts: Number(process.env.BENCH_KAFKA_ACCOUNTS ?? 1000) };
  const result = await measureKafka(options);
  const { baseline, worker } = result;
  process.stdout.write(
    `B6 on ${brokers.join(',')}: ${worker.messages} messages (${options.accounts} accounts' setup + ${options.events} price updates)\n` +
      `  raw kafkajs consume + JSON.parse: ${Math.round(baseline.eventsPerSecond)} events/s (${baseline.seconds.toFixed(2)} s, CPU ${baseline.cpuSeconds.toFixed(2)} s)\n` +
      `  shard worker (decide, append, publish, commit): ${Math.round(worker.eventsPerSecond)} events/s (${worker.seconds.toFixed(2)} s, CPU ${worker.cpuSeconds.toFixed(2)} s, main thread ${worker.mainThreadCpuSeconds.toFixed(2)} s, idle ${worker.mainIdleSeconds.toFixed(2)} s, ` +
      `${worker.consumerThread ? `consumer thread ${worker.consumerThreadCpuSeconds.toFixed(2)} s, waiting for it ${worker.waitingForBatchSeconds.toFixed(2)} s` : 'no consumer thread'}), ` +
      `${(worker.eventsPerSecond / baseline.eventsPerSecond).toFixed(3)}× the baseline; ${worker.applied} applied, ${worker.decisionsPublished} decisions published\n`,
  );
}

if (require.main === module) {
  main().catch((error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  });
}
