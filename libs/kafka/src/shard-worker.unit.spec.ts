import fc from 'fast-check';
import { expectKafkaPositions, kafkaPartitionKey, kafkaPosition } from '@clearsim/clearing';
import { decodeEvent, encodeEvent, type InputEvent } from '@clearsim/events';
import { ShardRunner } from '@clearsim/shard';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENTS_FILE, InMemoryEventStore, InMemoryLog, openStore, type EventStore } from '@clearsim/store';
import { inputMessages } from './inputs';
import type { OutboundMessage } from './kafka.port';
import { InputRouter } from './sharding';
import { kafkaEventId, kafkaEventIdAt, KafkaShardWorker } from './shard-worker';
import type { AppendTransaction } from '@clearsim/store';
import { decisionsByAccount, singleProcess } from './testing/compare';
import { InMemoryKafka } from './testing/in-memory-kafka';
import { ccpMarginCallInputs, longDayInputs, twoShardDayInputs } from './testing/scenarios';
import { waitFor } from './testing/wait';

const IN = 'inputs';
const OUT = 'decisions';
const DLQ = 'inputs.dlq';
const quiet = () => undefined;

interface Shard {
  worker: KafkaShardWorker;
  runner: ShardRunner;
  log: InMemoryLog;
}

async function startShard(
  kafka: InMemoryKafka,
  options: { shards?: number; shard?: number; log?: InMemoryLog; maxBatch?: number; maxInputsPerAppend?: number; logLines?: string[]; store?: (log: InMemoryLog) => EventStore; packed?: boolean } = {},
): Promise<Shard> {
  const { shards = 1, shard = 0, log = new InMemoryLog() } = options;
  const runner = await ShardRunner.open(options.store ? options.store(log) : new InMemoryEventStore(log));
  const ports = kafka.ports({ group: `g.shard-${shard}`, inputs: IN, partitions: [shard], decisions: OUT, deadLetters: DLQ, maxBatch: options.maxBatch, packed: options.packed });
  const worker = await KafkaShardWorker.start({
    runner,
    ports,
    shards,
    shard,
    maxInputsPerAppend: options.maxInputsPerAppend,
    log: options.logLines ? (line) => options.logLines!.push(line) : quiet,
  });
  return { worker, runner, log };
}

const produce = (kafka: InMemoryKafka, events: InputEvent[], shards = 1) => {
  kafka.createTopic(IN, shards);
  kafka.produce(IN, inputMessages(events, new InputRouter(shards)));
};

const caughtUp = (kafka: InMemoryKafka, shard: Shard) => () => shard.worker.committedOffset === String(kafka.topics.get(IN)![shard.worker['shard']]!.length);
const values = (kafka: InMemoryKafka, topic: string) => kafka.messages(topic).map((m) => m.value!.toString());

describe('KafkaShardWorker (in-memory broker)', () => {
  it('turns the inputs topic into decisions keyed by account, with type, schema version, shard and position headers', async () => {
    const kafka = new InMemoryKafka();
    const inputs = ccpMarginCallInputs();
    produce(kafka, inputs);
    const shard = await startShard(kafka, { maxBatch: 7, maxInputsPerAppend: 3 });
    await waitFor('the worker to catch up', caughtUp(kafka, shard));
    await shard.worker.stop();

    const expected = singleProcess(inputs);
    expect(values(kafka, OUT)).toEqual(expected.decisions.map(encodeEvent));
    expect(shard.runner.engine.outputHash).toBe(expected.engine.outputHash);
    const first = kafka.messages(OUT)[0]!;
    expect(first.key).toBe('alice');
    expect(first.headers).toEqual({ type: 'WithdrawalApproved', 'schema-version': '1', shard: '0', position: expect.stringMatching(/^\d+$/) });
    const positions = kafka.messages(OUT).map((m) => Number(m.headers.position));
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(shard.worker.stats).toMatchObject({ consumed: inputs.length, applied: inputs.length, duplicates: 0, deadLettered: 0, decisionsPublished: expected.decisions.length });
    expect(kafka.commits.get(`g.shard-0/${IN}/0`)).toEqual({ offset: String(inputs.length), metadata: `clearsim:published=${shard.runner.head}` });
  });

  it('ignores a redelivery: every input it logs has an id (its own, or its Kafka coordinates)', async () => {
    const kafka = new InMemoryKafka();
    const inputs = ccpMarginCallInputs();
    produce(kafka, inputs);
    const log = new InMemoryLog();
    const first = await startShard(kafka, { log });
    await waitFor('the first run', caughtUp(kafka, first));
    await first.worker.stop();
    const head = first.runner.head;
    const published = kafka.messages(OUT).length;

    // an operator rewinds the group to the start: everything is delivered again
    kafka.commits.set(`g.shard-0/${IN}/0`, { offset: '0', metadata: null });
    const lines: string[] = [];
    const again = await startShard(kafka, { log, logLines: lines });
    await waitFor('the redelivery', caughtUp(kafka, again));
    await again.worker.stop();
    expect(again.worker.stats).toMatchObject({ consumed: inputs.length, applied: 0, duplicates: inputs.length });
    expect(again.runner.head).toBe(head);
    expect(kafka.messages(OUT)).toHaveLength(published);
    expect(lines.join('\n')).toContain('committed without clearsim metadata');
    const logged = [];
    for await (const e of new InMemoryEventStore(log).read()) logged.push(e.event);
    expect(logged.find((e) => e.type === 'PriceUpdated')).toMatchObject({ eventId: `kafka:${IN}/0@2` });
  });

  it('logs a price update the same whatever its layout (encodeEvent\'s, JSON.stringify\'s, a day file\'s, spaced out), with its Kafka coordinates', async () => {
    const kafka = new InMemoryKafka();
    const inputs = twoShardDayInputs();
    kafka.createTopic(IN, 1);
    // the prices' values in turn: encodeEvent's (as produced), type first without "v", ts first, and with spaces (JSON.parse's path)
    let nth = 0;
    const messages = inputMessages(inputs, new InputRouter(1)).map((message) => {
      const event = decodeEvent(JSON.parse(String(message.value)));
      if (event.type !== 'PriceUpdated') return message;
      const fields = { ts: new Date(event.ts).toISOString().replace('.000Z', 'Z'), instrument: event.instrument, price: String(event.price / 100_000_000n) };
      const layouts = [String(message.value), JSON.stringify({ type: event.type, ...fields }), JSON.stringify({ ts: fields.ts, type: event.type, instrument: fields.instrument, price: fields.price }), JSON.stringify({ type: event.type, ...fields }, null, 1)];
      return { ...message, value: layouts[nth++ % layouts.length]! };
    });
    expect(nth).toBeGreaterThanOrEqual(4);
    kafka.produce(IN, messages);
    const shard = await startShard(kafka);
    await waitFor('the worker to catch up', caughtUp(kafka, shard));
    await shard.worker.stop();

    expect(shard.runner.engine.outputHash).toBe(singleProcess(inputs).engine.outputHash);
    const logged: InputEvent[] = [];
    for await (const e of new InMemoryEventStore(shard.log).read()) if (e.event.type === 'PriceUpdated') logged.push(e.event);
    const prices = inputs.filter((input) => input.type === 'PriceUpdated');
    expect(logged).toEqual(prices.map((price) => ({ ...price, postedBy: 'kafka', eventId: expect.stringMatching(new RegExp(`^kafka:${IN}/0@\\d+$`)) })));
  });

  it('decides a batch handed over packed, its price updates decoded by the consumer (the consumer thread\'s columns), exactly as message by message: the same log, decisions, dead letters and stats', async () => {
    const day = inputMessages(twoShardDayInputs(), new InputRouter(1));
    const priceAt = day.flatMap((m, i) => (JSON.parse(String(m.value)).type === 'PriceUpdated' ? [i] : []));
    // what a price update's message may be: its layouts, a header, a version this build does not read, values the core or the codec refuse
    const variants = (value: string): { value: string; headers: Record<string, string> }[] => {
      const e = JSON.parse(value) as { ts: string; instrument: string; price: string };
      const fields = { ts: e.ts, instrument: e.instrument, price: e.price };
      return [
        { value, headers: {} },
        { value: JSON.stringify({ type: 'PriceUpdated', ...fields }), headers: {} },
        { value: JSON.stringify({ ts: e.ts, type: 'PriceUpdated', instrument: e.instrument, price: e.price }), headers: {} },
        { value: JSON.stringify({ type: 'PriceUpdated', ...fields }, null, 1), headers: {} },
        { value, headers: { 'schema-version': '1' } },
        { value, headers: { 'schema-version': '9' } },
        { value: JSON.stringify({ type: 'PriceUpdated', ...fields, instrument: 'NOPE-PERP' }), headers: {} },
        { value: JSON.stringify({ type: 'PriceUpdated', ...fields, price: '0' }), headers: {} },
        { value: JSON.stringify({ type: 'PriceUpdated', ...fields, ts: '2025-12-31T00:00:00Z' }), headers: {} },
      ];
    };
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(8), { minLength: priceAt.length, maxLength: priceAt.length }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 25 }), async (choices, maxBatch, maxInputsPerAppend) => {
        const messages: OutboundMessage[] = day.map((m) => ({ ...m }));
        priceAt.forEach((at, k) => Object.assign(messages[at]!, variants(String(day[at]!.value))[choices[k]!]!));
        const run = async (packed: boolean) => {
          const kafka = new InMemoryKafka();
          kafka.createTopic(IN, 1);
          kafka.produce(IN, messages);
          const shard = await startShard(kafka, { maxBatch, maxInputsPerAppend, packed });
          await waitFor('the worker to catch up', caughtUp(kafka, shard));
          await shard.worker.stop();
          const letters = kafka.messages(DLQ).map((l) => [l.value?.toString(), l.headers]);
          return { log: shard.log.events, decisions: values(kafka, OUT), letters, stats: shard.worker.stats, hash: shard.runner.engine.outputHash };
        };
        const plain = await run(false);
        expect(await run(true)).toEqual(plain);
      }),
      { numRuns: 15 },
    );
  });

  it('logs byte for byte the same file-store lines from a batch handed over packed (its price updates decoded by the consumer) as message by message', async () => {
    const day = inputMessages(twoShardDayInputs(), new InputRouter(1));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 25 }), fc.array(fc.nat(day.length - 1), { maxLength: 3 }), async (maxBatch, maxInputsPerAppend, poisonAt) => {
        const messages: OutboundMessage[] = day.map((m) => ({ ...m }));
        // a refused price update here and there: a step's inputs before it are appended, it is dead-lettered
        for (const at of poisonAt) messages.splice(at, 0, { key: null, value: JSON.stringify({ type: 'PriceUpdated', ts: '2025-12-31T00:00:00Z', instrument: 'BTC-PERP', price: '1' }), headers: {} });
        const run = async (packed: boolean) => {
          const kafka = new InMemoryKafka();
          kafka.createTopic(IN, 1);
          kafka.produce(IN, messages);
          const dir = mkdtempSync(join(tmpdir(), 'clearsim-kafka-lines-'));
          try {
            const store = await openStore(`file:${dir}`);
            const runner = await ShardRunner.open(store);
            const ports = kafka.ports({ group: 'g', inputs: IN, partitions: [0], decisions: OUT, deadLetters: DLQ, maxBatch, packed });
            const worker = await KafkaShardWorker.start({ runner, ports, shards: 1, shard: 0, maxInputsPerAppend, log: quiet });
            await waitFor('the worker to catch up', () => worker.committedOffset === String(messages.length));
            await worker.stop();
            await store.close();
            // the event lines as written (crc included) and the commit records; the header's log id and so the chain are each log's own
            const lines = readFileSync(join(dir, EVENTS_FILE), 'latin1').split('\n').slice(1);
            const log = lines.map((line) => line.replace(/"chain":"[0-9a-f]+"/, '"chain":…'));
            expect(log.filter((line) => line.includes('"type":"PriceUpdated"')).length).toBeGreaterThanOrEqual(7);
            return { log, letters: kafka.messages(DLQ).length, hash: runner.engine.outputHash };
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        };
        const plain = await run(false);
        expect(plain.letters).toBe(poisonAt.length);
        expect(await run(true)).toEqual(plain);
      }),
      { numRuns: 6 },
    );
  });

  it('dead-letters a producer eventId that looks like Kafka coordinates (those are clearsim\'s own, decided by position)', async () => {
    const kafka = new InMemoryKafka();
    const inputs = ccpMarginCallInputs();
    produce(kafka, inputs);
    // a producer's own "kafka:" id at offset N would be taken for the position it names
    kafka.produce(IN, [{ key: 'alice', value: JSON.stringify({ type: 'ClockAdvanced', ts: '2026-01-05T23:00:00Z', eventId: `kafka:${IN}/0@0` }), headers: {} }]);
    const shard = await startShard(kafka);
    await waitFor('the worker to catch up', caughtUp(kafka, shard));
    await shard.worker.stop();
    expect(shard.worker.stats).toMatchObject({ applied: inputs.length, deadLettered: 1 });
    expect(kafka.messages(DLQ).map((l) => [l.headers.error, l.headers.reason])).toEqual([['malformed', expect.stringMatching(/^field "eventId": ids starting "kafka:" are the Kafka coordinates clearsim gives/)]]);
    // the Kafka-coordinate inputs left one position entry, not one key each
    expect([...shard.runner.engine.state.seenIds.keys()].filter((key) => key.startsWith('kafka|position:'))).toEqual([`kafka|position:${IN}/0`]);
  });

  it('dead-letters malformed, refused and misrouted messages with the reason, and goes on', async () => {
    const kafka = new InMemoryKafka();
    const inputs = ccpMarginCallInputs();
    kafka.createTopic(IN, 1);
    const good = inputMessages(inputs, new InputRouter(1));
    const poison: OutboundMessage[] = [
      { key: 'x', value: '{"type":"Deposited","ts":"2026-01-05T09:00:00Z"', headers: {} },
      { key: 'x', value: JSON.stringify({ type: 'MarginCallIssued', ts: '2026-01-05T09:00:00Z' }), headers: {} },
      { key: 'bob', value: JSON.stringify({ type: 'WithdrawalRequested', ts: '2026-01-05T09:05:00Z', requestId: 'wx', account: 'nobody', asset: 'USD', amount: '1' }), headers: {} },
      { key: 'old', value: JSON.stringify({ type: 'PriceUpdated', ts: '2026-01-01T00:00:00Z', instrument: 'BTC-PERP', price: '1' }), headers: {} },
      { key: 'future', value: JSON.stringify({ type: 'ClockAdvanced', ts: '2026-01-05T09:00:00Z' }), headers: { 'schema-version': '9' } },
    ];
    // poison in the middle of the day, inside one batch and one append
    kafka.produce(IN, [...good.slice(0, 8), ...poison, ...good.slice(8)]);
    const shard = await startShard(kafka, { maxBatch: 100, maxInputsPerAppend: 100 });
    await waitFor('the worker to catch up', caughtUp(kafka, shard));
    await shard.worker.stop();

    const letters = kafka.messages(DLQ);
    expect(letters.map((l) => [l.headers.error, l.headers['source-offset']])).toEqual([
      ['malformed', '8'],
      ['malformed', '9'],
      ['rejected', '10'],
      ['rejected', '11'],
      ['malformed', '12'],
    ]);
    expect(letters.map((l) => l.headers.reason)).toEqual([
      expect.stringContaining('malformed JSON'),
      expect.stringContaining('unknown input event type "MarginCallIssued"'),
      expect.stringContaining('field "account": unknown account "nobody"'),
      expect.stringContaining('field "ts": 2026-01-01T00:00:00Z is older than the shard clock'),
      expect.stringContaining('schema version "9"'),
    ]);
    expect(letters[0]!.value!.toString()).toBe(poison[0]!.value);
    // the good inputs, before and after, all applied: the same decisions as without the poison
    const expected = singleProcess(inputs);
    expect(values(kafka, OUT)).toEqual(expected.decisions.map(encodeEvent));
    expect(shard.runner.engine.outputHash).toBe(expected.engine.outputHash);
    expect(shard.worker.stats).toMatchObject({ consumed: inputs.length + poison.length, applied: inputs.length, deadLettered: poison.length });
  });

  it('decodes the next step while an append is made durable, with the same decisions, log and dead letters as one step at a time', async () => {
    const inputs = ccpMarginCallInputs();
    const good = inputMessages(inputs, new InputRouter(1));
    const poison: OutboundMessage[] = [
      { key: 'x', value: '{"type":"Deposited"', headers: {} },
      { key: 'bob', value: JSON.stringify({ type: 'WithdrawalRequested', ts: '2026-01-05T09:05:00Z', requestId: 'wx', account: 'nobody', asset: 'USD', amount: '1' }), headers: {} },
    ];
    const messages = [...good.slice(0, 5), poison[0]!, ...good.slice(5, 9), poison[1]!, ...good.slice(9)];
    // a store whose commit takes a few ms (a file store's fsync): time for the worker to decode the next step
    let committing = false;
    let decodedWhileCommitting = 0;
    const slowCommit = (log: InMemoryLog): EventStore => {
      const store = new InMemoryEventStore(log);
      const begin = store.beginAppend.bind(store);
      store.beginAppend = async (from: number): Promise<AppendTransaction> => {
        const tx = await begin(from);
        return {
          append: (events) => tx.append(events),
          abort: () => tx.abort(),
          commit: async () => {
            committing = true;
            await new Promise((resolve) => setTimeout(resolve, 3));
            committing = false;
            return tx.commit();
          },
        };
      };
      return store;
    };
    const proto = KafkaShardWorker.prototype as unknown as { prepareStep: (...args: unknown[]) => unknown };
    const original = proto.prepareStep;
    const spy = jest.spyOn(proto, 'prepareStep').mockImplementation(function (this: unknown, ...args: unknown[]) {
      if (committing) decodedWhileCommitting++;
      return original.apply(this, args);
    });
    const run = async (store?: (log: InMemoryLog) => EventStore) => {
      const kafka = new InMemoryKafka();
      kafka.createTopic(IN, 1);
      kafka.produce(IN, messages);
      const log = new InMemoryLog();
      const shard = await startShard(kafka, { maxBatch: 50, maxInputsPerAppend: 2, log, store });
      await waitFor('the worker to catch up', caughtUp(kafka, shard));
      await shard.worker.stop();
      const logged: string[] = [];
      for await (const e of new InMemoryEventStore(log).read()) logged.push(encodeEvent(e.event));
      return { decisions: values(kafka, OUT), letters: kafka.messages(DLQ).map((l) => [l.headers.error, l.headers['source-offset']]), logged, outputHash: shard.runner.engine.outputHash, stats: shard.worker.stats };
    };
    try {
      const plain = await run();
      const overlapped = await run(slowCommit);
      expect(decodedWhileCommitting).toBeGreaterThan(0);
      expect(overlapped).toEqual(plain);
      expect(plain.letters).toEqual([
        ['malformed', '5'],
        ['rejected', '10'],
      ]);
      expect(plain.outputHash).toBe(singleProcess(inputs).engine.outputHash);
    } finally {
      spy.mockRestore();
    }
  });

  it('a producer\'s re-sends of every input type are duplicates (the outputHash of one clean delivery); a repeat of an id with other content is dead-lettered as a conflict; a producer may not set postedBy', async () => {
    const kafka = new InMemoryKafka();
    // market-wide inputs carry an eventId (a producer that re-sends must give one); deposits without one are keyed by their content
    const inputs = ccpMarginCallInputs().map((input, i) => (['TradeExecuted', 'WithdrawalRequested', 'Deposited'].includes(input.type) ? input : { ...input, eventId: `m-${i}` }));
    expect(new Set(inputs.map((input) => input.type))).toEqual(new Set(['RulesActivated', 'InstrumentListed', 'PriceUpdated', 'Deposited', 'TradeExecuted', 'WithdrawalRequested', 'ClockAdvanced']));
    const trade = inputs.find((input) => input.type === 'TradeExecuted')!;
    // every input is sent again right after the next one (a trade's re-send with a new eventId: still the same trade)
    const stream: InputEvent[] = [];
    inputs.forEach((input, i) => {
      stream.push(input);
      const previous = inputs[i - 1];
      if (previous) stream.push(previous.type === 'TradeExecuted' ? { ...previous, eventId: 'resent' } : previous);
    });
    stream.push(inputs[inputs.length - 1]!, { ...trade, price: 100_001n * 100_000_000n });
    kafka.createTopic(IN, 1);
    kafka.produce(IN, [
      ...inputMessages(stream, new InputRouter(1)),
      { key: 'alice', value: JSON.stringify({ type: 'Deposited', ts: '2026-01-05T13:00:00Z', eventId: 'd-9', account: 'alice', asset: 'USD', amount: '1', postedBy: 'venue:a-' }), headers: {} },
    ]);
    const shard = await startShard(kafka, { maxBatch: 10, maxInputsPerAppend: 4 });
    await waitFor('the worker to catch up', caughtUp(kafka, shard));
    await shard.worker.stop();

    const expected = singleProcess(inputs);
    expect(shard.runner.engine.outputHash).toBe(expected.engine.outputHash);
    expect(values(kafka, OUT)).toEqual(expected.decisions.map(encodeEvent));
    expect(shard.worker.stats).toMatchObject({ applied: inputs.length, duplicates: inputs.length, deadLettered: 2 });
    expect(kafka.messages(DLQ).map((l) => [l.headers.error, l.headers.reason])).toEqual([
      ['conflict', expect.stringMatching(/^field "tradeId": tradeId "t1" was already used with different content; the first version stands/)],
      ['malformed', expect.stringContaining('field "postedBy": set by clearsim')],
    ]);
    // every key is in the Kafka scope
    expect([...shard.runner.engine.state.seenIds.keys()].every((key) => key.startsWith('kafka|'))).toBe(true);
  });

  it('dead-letters a message produced to the wrong shard', async () => {
    const kafka = new InMemoryKafka();
    const inputs = twoShardDayInputs();
    produce(kafka, inputs, 2);
    kafka.produce(IN, [{ partition: 0, key: 'alice', value: JSON.stringify({ type: 'Deposited', ts: '2026-01-05T12:00:00Z', account: 'alice', asset: 'USD', amount: '5' }) }]);
    const shard = await startShard(kafka, { shards: 2, shard: 0 });
    await waitFor('shard 0', caughtUp(kafka, shard));
    await shard.worker.stop();
    expect(kafka.messages(DLQ).map((m) => [m.headers.error, m.headers.reason])).toEqual([
      ['misrouted', 'account "alice" belongs to shard 1 of 2, not shard 0 (route inputs with routeInput)'],
    ]);
  });

  it('dead-letters rules with market impact on a sharded run (each shard holds its own copy of a mark) and appends nothing of them', async () => {
    const kafka = new InMemoryKafka();
    kafka.createTopic(IN, 2);
    const rules = { ...(twoShardDayInputs()[0] as { rules: Record<string, unknown> }).rules, impact: { instruments: { '*': { law: 'sqrt', k: '0.5', depth: '1000000', halfLifeSeconds: 300 } } } };
    kafka.produce(IN, [{ partition: 0, key: 'RulesActivated', value: JSON.stringify({ type: 'RulesActivated', ts: '2026-01-05T00:00:00Z', rules }) }]);
    const shard = await startShard(kafka, { shards: 2, shard: 0 });
    await waitFor('shard 0', caughtUp(kafka, shard));
    await shard.worker.stop();
    expect(kafka.messages(DLQ).map((m) => [m.headers.error, m.headers.reason])).toEqual([['rejected', expect.stringMatching(/^rules\.impact: not on 2 shards: .*run this market on one shard \(--shards 1\)$/)]]);
    expect(shard.runner.engine.state.rules).toBeUndefined();
  });

  it('publishes decisions again from the log after a failed publish, and commits only after', async () => {
    const kafka = new InMemoryKafka();
    const inputs = ccpMarginCallInputs();
    produce(kafka, inputs);
    kafka.failNextProduce.set(OUT, 2);
    const shard = await startShard(kafka, { maxInputsPerAppend: 5 });
    await waitFor('the worker to catch up', caughtUp(kafka, shard));
    await shard.worker.stop();
    // the first failure may be the background publish (logged), the second fails the batch, which comes again
    expect(kafka.handlerErrors.map((e) => e.message)).toContain(`injected produce failure on ${OUT}`);
    const expected = singleProcess(inputs);
    expect(values(kafka, OUT)).toEqual(expected.decisions.map(encodeEvent));
    expect(shard.worker.stats.duplicates).toBeGreaterThan(0); // the batch came again; its inputs were already logged
  });

  it('republishes on start what a crashed run logged but may not have published (at least once, dedupe by shard + position)', async () => {
    const kafka = new InMemoryKafka();
    const inputs = ccpMarginCallInputs();
    produce(kafka, inputs);
    // a run that logged everything and crashed before any commit
    const log = new InMemoryLog();
    const runner = await ShardRunner.open(new InMemoryEventStore(log));
    await runner.run(inputs.map((input) => ({ input })));
    const shard = await startShard(kafka, { log });
    await waitFor('the worker to catch up', caughtUp(kafka, shard));
    await shard.worker.stop();
    const expected = singleProcess(inputs);
    expect(values(kafka, OUT)).toEqual(expected.decisions.map(encodeEvent));
  });

  it('stopped mid-stream and restarted, loses nothing and duplicates nothing', async () => {
    const kafka = new InMemoryKafka();
    const inputs = longDayInputs(3000);
    produce(kafka, inputs);
    const log = new InMemoryLog();
    const first = await startShard(kafka, { log, maxBatch: 50, maxInputsPerAppend: 20 });
    let stopping: Promise<void> | undefined;
    first.runner.onAppended(() => {
      if (first.runner.head >= 500) stopping ??= first.worker.stop(); // SIGTERM while an append is in flight
    });
    await waitFor('the stop', () => stopping !== undefined);
    await stopping;
    const stoppedAt = Number(first.worker.committedOffset);
    expect(stoppedAt).toBeLessThan(inputs.length);
    expect(first.runner.head).toBeGreaterThan(0);
    const second = await startShard(kafka, { log, maxBatch: 500 });
    await waitFor('the rest', caughtUp(kafka, second));
    await second.worker.stop();
    expect(second.worker.stats.duplicates).toBe(0); // the stop drained: the append in flight was committed
    const expected = singleProcess(inputs);
    expect(second.runner.engine.outputHash).toBe(expected.engine.outputHash);
    expect(values(kafka, OUT)).toEqual(expected.decisions.map(encodeEvent));
  });

  it('two shards together decide, per account, exactly what one shard decides', async () => {
    const inputs = twoShardDayInputs();
    const one = new InMemoryKafka();
    produce(one, inputs, 1);
    const single = await startShard(one);
    await waitFor('one shard', caughtUp(one, single));
    await single.worker.stop();

    const two = new InMemoryKafka();
    produce(two, inputs, 2);
    const shards = [await startShard(two, { shards: 2, shard: 0 }), await startShard(two, { shards: 2, shard: 1 })];
    await waitFor('two shards', () => shards.every((s) => caughtUp(two, s)()));
    await Promise.all(shards.map((s) => s.worker.stop()));

    const parse = (kafka: InMemoryKafka) => decisionsByAccount(values(kafka, OUT).map((v) => decodeEvent(JSON.parse(v))));
    expect(parse(two)).toEqual(parse(one));
    expect(two.messages(DLQ)).toEqual([]);
    expect(shards.map((s) => s.worker.stats.decisionsPublished).every((n) => n > 0)).toBe(true);
    // alice (shard 1) bought from mm (shard 1); bob (shard 0) from mm: novated to shard 0's backstop
    const trades = [];
    for await (const e of shards[0]!.runner.store.read()) if (e.event.type === 'TradeExecuted') trades.push([e.event.tradeId, e.event.buyer, e.event.seller]);
    expect(trades).toEqual([
      ['t2', 'bob', 'backstop'],
      ['t3', 'backstop', 'carol'],
      ['t4', 'dave', 'carol'],
      ['t5', 'carol', 'dave'],
    ]);
  });

  it('refuses an inputs topic whose partition count is not the shard count', async () => {
    const kafka = new InMemoryKafka();
    kafka.createTopic(IN, 3);
    await expect(startShard(kafka, { shards: 2, shard: 0 })).rejects.toThrow('inputs topic "inputs" has 3 partition(s), but 2 shard(s) need exactly 2');
  });

  it('refuses a store that is behind the committed offsets', async () => {
    const kafka = new InMemoryKafka();
    produce(kafka, ccpMarginCallInputs());
    kafka.commits.set(`g.shard-0/${IN}/0`, { offset: '10', metadata: 'clearsim:published=12' });
    await expect(startShard(kafka)).rejects.toThrow(/ends at position 0, but consumer group offsets .* were committed after position 12/);
  });
});

describe('kafkaEventId', () => {
  it('is kafka:<topic>/<partition>@<offset> whatever partitions it was asked about before (its prefix cache is invisible)', () => {
    const asked: [string, number, string][] = [['in', 0, '7'], ['in', 0, '8'], ['in', 1, '8'], ['other', 1, '0'], ['in', 0, '9'], ['in/0', 0, '1']];
    for (const [topic, partition, offset] of [...asked, ...asked.reverse()]) expect(kafkaEventId({ topic, partition, offset })).toBe(`kafka:${topic}/${partition}@${offset}`);
  });

  it('is the concatenation for any topic, partition and offset text (the flat copy, and the fallback for non-ASCII, long or odd offsets)', () => {
    const topic = fc.oneof(fc.constantFrom('in', 'clearsim-b6-581b50f1', 'prices.v2'), fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 6 }));
    const offset = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String), fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 4 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(topic, fc.nat(3), offset), { minLength: 1, maxLength: 8 }), (asked) => {
        for (const [t, partition, o] of asked) {
          const id = kafkaEventId({ topic: t, partition, offset: o });
          expect(id).toBe(`kafka:${t}/${partition}@${o}`);
        }
      }),
    );
  });

  it('kafkaEventIdAt (from the offset as a number) is kafkaEventId of its text', () => {
    const offset = fc.oneof(fc.nat(), fc.maxSafeNat(), fc.constantFrom(0, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 10 ** 15 - 1, 10 ** 15, 9_007_199_254_740_963, Number.MAX_SAFE_INTEGER));
    fc.assert(
      fc.property(fc.constantFrom('in', 'clearsim-b6-581b50f1', 'é'), fc.nat(3), offset, (topic, partition, o) => {
        expect(kafkaEventIdAt(topic, partition, o)).toBe(kafkaEventId({ topic, partition, offset: String(o) }));
      }),
    );
  });

  it('property: the position the worker announces to the core for an input made from the columns is what the core would parse from its id', () => {
    // the worker's input from the columns: eventId kafkaEventIdAt(topic, partition, offset), announced with the
    // partition's kafkaPartitionKey and the offset; the core's answer must be that of parsing the id (a copy, never announced)
    const offset = fc.oneof(fc.nat(), fc.maxSafeNat(), fc.constantFrom(0, 10 ** 15 - 1, 10 ** 15, Number.MAX_SAFE_INTEGER, 2 ** 53, 2 ** 64));
    const base = decodeEvent({ type: 'PriceUpdated', ts: '2026-01-01T00:00:00Z', instrument: 'BTC-PERP', price: '1' }, 'input') as InputEvent;
    fc.assert(
      fc.property(fc.constantFrom('in', 'clearsim-b6-581b50f1', 'é', 'a@b'), fc.nat(3), fc.array(offset, { minLength: 1, maxLength: 6 }), (topic, partition, offsets) => {
        const inputs = offsets.map((o) => ({ ...base, postedBy: 'kafka', eventId: kafkaEventIdAt(topic, partition, o) }) as InputEvent);
        const parsed = inputs.map((one) => kafkaPosition({ ...one }));
        expectKafkaPositions(inputs, kafkaPartitionKey(topic, partition), offsets);
        inputs.forEach((one, i) => expect(kafkaPosition(one)).toEqual(parsed[i]));
      }),
    );
  });
});
