// first: kafkajs decodes fetched records with fast-records.ts's decoder only if it is installed before kafkajs loads
import { fastRecordsInstalled } from './fast-records-install';
import { readlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import { packBatch } from './batch-transfer';
import { createKafkaJsClient, inputsConsumerConfig } from './kafkajs-ports';
import type { ConsumerThreadData, FromConsumerThread, ToConsumerThread } from './threaded-consumer';

/**
 * The inputs consumer's thread (see ThreadedInputsConsumer): kafkajs's
 * fetches, the decoding of their records and the group's protocol run here,
 * off the thread that decides and appends. Each fetched batch goes to the
 * clearing thread as one transferred ArrayBuffer (the clearing thread sends
 * it back once handled, and the next batch is packed into it); its offsets
 * are resolved at once (the fetch position moves on, so the next fetch
 * overlaps the deciding of this batch) but committed only when the clearing
 * thread asks, after the append holding them is durable. At most `ahead`
 * batches wait on the clearing thread; while the fetch loop waits for room,
 * heartbeats the clearing thread asks for go through the waiting batch.
 */

const data = workerData as ConsumerThreadData;
const options = data.options;
const port = parentPort!;
const post = (message: FromConsumerThread, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);
const kafka = createKafkaJsClient({ ...options, log: (line) => post({ type: 'log', line }) });

let consumer: Consumer | undefined;
let owner = false;
let generation = data.generation;
let stopping = false;
/** Batches handed to the clearing thread and not yet handled there. */
let waiting = 0;
let room: (() => void) | undefined;
let blockedHeartbeat: (() => Promise<void>) | undefined;
/** Buffers the clearing thread handed back, for the next batches. */
const free: ArrayBuffer[] = [];

const freeRoom = () => {
  const wake = room;
  room = undefined;
  wake?.();
};

async function run(): Promise<void> {
  const current = kafka.consumer(inputsConsumerConfig(options, () => owner));
  consumer = current;
  current.on(current.events.GROUP_JOIN, ({ payload }) => {
    owner = (payload.memberAssignment[options.inputsTopic] ?? []).length > 0;
  });
  await current.connect();
  await current.subscribe({ topics: [options.inputsTopic], fromBeginning: true });
  await current.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: (payload) => handOver(payload, current),
  });
}

async function handOver({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload, from: Consumer): Promise<void> {
  // a consumer being stopped for a restart may still hand over a batch: from its old position, so it is dropped
  if (from !== consumer || !isRunning() || isStale() || stopping || batch.messages.length === 0) return;
  const { buffer, length } = packBatch(batch.messages, free.pop());
  post({ type: 'batch', generation, topic: batch.topic, partition: batch.partition, buffer, length }, [buffer]);
  waiting++;
  resolveOffset(batch.lastOffset());
  while (waiting >= data.ahead && from === consumer && !stopping && isRunning() && !isStale()) {
    blockedHeartbeat = heartbeat;
    await new Promise<void>((resolve) => (room = resolve));
    blockedHeartbeat = undefined;
  }
}

async function stopConsumer(): Promise<void> {
  const current = consumer;
  consumer = undefined;
  freeRoom();
  if (!current) return;
  await current.stop();
  await current.disconnect();
}

/** This thread's id in /proc (Linux: /proc/thread-self links to <pid>/task/<tid>); undefined elsewhere. */
function osThreadId(): number | undefined {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return undefined;
  }
}

async function reply(id: number, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
    post({ type: 'reply', id });
  } catch (error) {
    post({ type: 'reply', id, error: (error as Error).message ?? String(error) });
  }
}

port.on('message', (message: ToConsumerThread) => {
  switch (message.type) {
    case 'start':
      if (!fastRecordsInstalled) post({ type: 'log', line: 'kafka: the consumer thread decodes records with kafkajs\'s own decoder (fast-records.ts not installed)' });
      void reply(message.id, run).then(() => post({ type: 'reply', id: -1, osThreadId: osThreadId() }));
      return;
    case 'handled':
      if (free.length < data.ahead + 1) free.push(...message.buffers);
      if (message.generation !== generation) return; // a batch from before a restart
      waiting = Math.max(0, waiting - message.batches);
      if (waiting < data.ahead) freeRoom();
      return;
    case 'commit':
      void reply(message.id, async () => {
        if (!consumer) throw new Error('the inputs consumer is not running');
        await consumer.commitOffsets([{ topic: options.inputsTopic, partition: message.partition, offset: message.offset, metadata: message.metadata }]);
      });
      return;
    case 'heartbeat':
      void reply(message.id, async () => {
        await blockedHeartbeat?.();
      });
      return;
    case 'restart':
      // the clearing thread failed a batch: consume again from the committed offsets, as kafkajs does after a failed batch
      void reply(message.id, async () => {
        generation = message.generation;
        waiting = 0;
        await stopConsumer();
        await run();
      });
      return;
    case 'stop':
      void reply(message.id, async () => {
        stopping = true;
        await stopConsumer();
      }).then(() => port.close());
      return;
  }
});
