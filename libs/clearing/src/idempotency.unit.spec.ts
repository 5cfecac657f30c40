import fc from 'fast-check';
import { decodeEvent, type ClearingEvent, type InputEvent } from '@clearsim/events';
import { ClearingEngine } from './clearing-engine';
import { contentDifferences, contentDigest, expectKafkaPositions, idempotencyKey, kafkaPartitionKey, kafkaPosition } from './idempotency';
import { at, rulesFor } from './testing/given';
import { IdConflictRejected } from './validate';

const input = (raw: Record<string, unknown>): InputEvent => decodeEvent(raw, 'input') as InputEvent;

const SETUP = [
  { type: 'RulesActivated', ts: at(0), rules: rulesFor() },
  { type: 'InstrumentListed', ts: at(0), instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC', multiplier: '1' },
  { type: 'Deposited', ts: at(0), eventId: 'seed-a', account: 'a-alice', asset: 'USD', amount: '10000' },
  { type: 'Deposited', ts: at(0), eventId: 'seed-m', account: 'b-mm', asset: 'USD', amount: '1000000' },
  { type: 'PriceUpdated', ts: at(0), instrument: 'BTC-PERP', price: '10000' },
].map(input);

/** An engine after SETUP, and the log it wrote (inputs and decisions, in order). */
function engineWithLog(): { engine: ClearingEngine; log: ClearingEvent[]; feed(raw: Record<string, unknown>): ReturnType<ClearingEngine['handle']> } {
  const engine = ClearingEngine.create();
  const log: ClearingEvent[] = [];
  const feed = (raw: Record<string, unknown> | InputEvent) => {
    const event = 'ts' in raw && typeof raw.ts === 'number' ? (raw as InputEvent) : input(raw);
    const result = engine.handle(event);
    if (!result.duplicate) log.push(event, ...result.decisions);
    return result;
  };
  for (const event of SETUP) feed(event);
  return { engine, log, feed };
}

const TRADE = { type: 'TradeExecuted', ts: at(60), tradeId: 't-1', instrument: 'BTC-PERP', buyer: 'a-alice', seller: 'b-mm', qty: '1', price: '10000', postedBy: 'admin' };
const qtyOf = (engine: ClearingEngine, account: string) => engine.state.ledger.accounts.get(account)!.positions.get('BTC-PERP')?.qty;
const cashOf = (engine: ClearingEngine, account: string) => engine.state.ledger.accounts.get(account)?.cash;

describe('idempotency: the key is the natural id, scoped to who posted', () => {
  it('a trade\'s key is its tradeId: t-1 posted with eventId e1, then with e2, is booked once', () => {
    const { engine, feed } = engineWithLog();
    expect(feed({ ...TRADE, eventId: 'e1' }).duplicate).toBe(false);
    expect(feed({ ...TRADE, eventId: 'e2' }).duplicate).toBe(true);
    expect(qtyOf(engine, 'a-alice')).toBe(100_000_000n); // 1 BTC, not 2
    expect(engine.state.stats).toMatchObject({ eventsIn: SETUP.length + 1, duplicates: 1 });
  });

  it('a withdrawal request\'s key is its requestId (an eventId does not override it)', () => {
    const { engine, feed } = engineWithLog();
    const request = { type: 'WithdrawalRequested', ts: at(60), requestId: 'w-1', account: 'a-alice', asset: 'USD', amount: '100', postedBy: 'venue:a-' };
    expect(feed({ ...request, eventId: 'x' }).decisions.map((d) => d.type)).toEqual(['WithdrawalApproved']);
    expect(feed({ ...request, eventId: 'y' }).duplicate).toBe(true);
    expect(cashOf(engine, 'a-alice')).toBe(9_900n * 100_000_000n); // 10,000 − 100, once
  });

  it('the same tradeId with another price is a conflict naming tradeId: refused, nothing changes, the first version stands', () => {
    const { engine, feed } = engineWithLog();
    feed(TRADE);
    const before = engine.snapshot();
    let thrown: unknown;
    try {
      feed({ ...TRADE, price: '10001' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(IdConflictRejected);
    expect((thrown as IdConflictRejected).code).toBe('id-conflict');
    expect((thrown as IdConflictRejected).issues).toEqual([{ field: 'tradeId', message: expect.stringMatching(/^tradeId "t-1" was already used with different content; the first version stands/) }]);
    expect((thrown as IdConflictRejected).key).toBe('admin|trade:t-1');
    expect(engine.snapshot()).toBe(before);
  });

  it('a conflict is checked before the clock: an old repeat is a duplicate or a conflict, never clock-went-backwards', () => {
    const { feed } = engineWithLog();
    feed(TRADE);
    feed({ type: 'ClockAdvanced', ts: at(3600), postedBy: 'admin' });
    expect(feed(TRADE).duplicate).toBe(true);
    expect(() => feed({ ...TRADE, qty: '2' })).toThrow(IdConflictRejected);
  });

  it('ids are scoped: venue V\'s deposit "B-dep-42" does not make venue B\'s own "B-dep-42" a duplicate', () => {
    const { engine, feed } = engineWithLog();
    const deposit = { type: 'Deposited', ts: at(60), eventId: 'B-dep-42', asset: 'USD', amount: '5' };
    expect(feed({ ...deposit, account: 'v-x', postedBy: 'venue:v-' }).duplicate).toBe(false);
    expect(feed({ ...deposit, account: 'b-bob', postedBy: 'venue:b-' }).duplicate).toBe(false);
    expect(cashOf(engine, 'b-bob')).toBe(5n * 100_000_000n);
    // the same holds for a tradeId: the admin's t-1 and venue b-'s t-1 are two trades
    feed(TRADE);
    expect(feed({ ...TRADE, postedBy: 'venue:b-', buyer: 'b-bob', seller: 'b-mm', qty: '0.0001' }).duplicate).toBe(false);
  });

  it('over HTTP/Kafka (postedBy set) a deposit without eventId is keyed by account, asset, amount and ts; in a CLI file every line counts', () => {
    const { engine, feed } = engineWithLog();
    const deposit = { type: 'Deposited', ts: at(60), account: 'a-alice', asset: 'USD', amount: '7', postedBy: 'venue:a-' };
    expect(idempotencyKey(input(deposit))).toBe('venue:a-|deposit:a-alice/USD/7@2026-01-01T00:01:00Z');
    expect(feed(deposit).duplicate).toBe(false);
    expect(feed({ ...deposit, amount: '7.00' }).duplicate).toBe(true); // the same amount, written differently
    expect(feed({ ...deposit, amount: '8' }).duplicate).toBe(false); // another deposit
    expect(cashOf(engine, 'a-alice')).toBe(10_015n * 100_000_000n); // 10,000 + 7 + 8
    const { postedBy: _scope, ...fromFile } = deposit;
    expect(idempotencyKey(input(fromFile))).toBeUndefined();
    feed(fromFile);
    feed(fromFile);
    expect(cashOf(engine, 'a-alice')).toBe(10_029n * 100_000_000n); // + 7 + 7: a file's lines are positional
  });

  it('the digest ignores eventId, postedBy, field order and how a decimal is written; it sees every other field', () => {
    const a = input({ ...TRADE, eventId: 'e1' });
    const b = input({ price: '10000.0', qty: '1.000', eventId: 'e2', postedBy: 'venue:x-', seller: 'b-mm', buyer: 'a-alice', instrument: 'BTC-PERP', tradeId: 't-1', ts: at(60), type: 'TradeExecuted', buyerFee: '0' });
    expect(contentDigest(b)).toBe(contentDigest(a));
    for (const change of [{ price: '10001' }, { qty: '2' }, { ts: at(61) }, { buyerFee: '1' }, { instrument: 'ETH-PERP' }]) {
      expect(contentDigest(input({ ...TRADE, ...change }))).not.toBe(contentDigest(a));
    }
    expect(contentDifferences(a, input({ ...TRADE, price: '10001', ts: at(61) }))).toEqual([
      { field: 'price', first: '10000', repeat: '10001' },
      { field: 'ts', first: '2026-01-01T00:01:00Z', repeat: '2026-01-01T00:01:01Z' },
    ]);
  });

  it('replay (and a snapshot) decides repeats as live did: the keys and digests come from the logged inputs', () => {
    const { engine, log, feed } = engineWithLog();
    feed(TRADE);
    feed({ type: 'Deposited', ts: at(60), account: 'a-alice', asset: 'USD', amount: '7', postedBy: 'venue:a-' });
    const replayed = ClearingEngine.create();
    for (const event of log) replayed.apply(event);
    const restored = ClearingEngine.fromSnapshot(engine.snapshot())!;
    for (const other of [replayed, restored]) {
      expect([...other.state.seenIds]).toEqual([...engine.state.seenIds]);
      expect(other.handle(input(TRADE)).duplicate).toBe(true);
      expect(() => other.handle(input({ ...TRADE, price: '1' }))).toThrow(IdConflictRejected);
      expect(other.handle(input({ type: 'Deposited', ts: at(60), account: 'a-alice', asset: 'USD', amount: '7', postedBy: 'venue:a-' })).duplicate).toBe(true);
    }
  });

  it('property: any retries (identical repeats, in any order after the first) leave the same outputHash, state and log as a clean run', () => {
    // keyed inputs of every kind a venue posts, in ts order; retries are copies inserted later in the stream
    const clean: Record<string, unknown>[] = [];
    for (let i = 0; i < 12; i++) {
      const ts = at(60 + i * 60);
      clean.push({ type: 'Deposited', ts, account: 'a-alice', asset: 'USD', amount: String(100 + i), postedBy: 'venue:a-' });
      clean.push({ ...TRADE, ts, tradeId: `t-${i}`, qty: '0.1', price: String(10000 - i * 150), eventId: `e-${i}` });
      clean.push({ type: 'PriceUpdated', ts, instrument: 'BTC-PERP', price: String(10000 - i * 150), eventId: `p-${i}`, postedBy: 'admin' });
      clean.push({ type: 'WithdrawalRequested', ts, requestId: `w-${i}`, account: 'a-alice', asset: 'USD', amount: '50', postedBy: 'venue:a-' });
      clean.push({ type: 'ClockAdvanced', ts, eventId: `c-${i}`, postedBy: 'admin' });
    }
    const reference = engineWithLog();
    for (const raw of clean) reference.feed(raw);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(clean.length - 1), fc.nat(clean.length - 1), fc.constantFrom('e-retry', undefined)), { maxLength: 40 }), (retries) => {
        const stream = clean.map((raw) => [raw]);
        for (const [which, after, eventId] of retries) {
          // a retry of input `which`, delivered after input max(which, after); a trade retried with a new eventId is still the same trade
          const retry = eventId && clean[which]!.type === 'TradeExecuted' ? { ...clean[which]!, eventId } : clean[which]!;
          stream[Math.max(which, after)]!.push(retry);
        }
        const run = engineWithLog();
        for (const raw of stream.flat()) run.feed(raw);
        expect(run.engine.outputHash).toBe(reference.engine.outputHash);
        expect(run.log).toEqual(reference.log);
        expect(run.engine.state.stats.duplicates).toBe(retries.length);
      }),
      { numRuns: 60 },
    );
  });
});

describe('idempotency: a Kafka coordinate key is a position, not a record', () => {
  // what the Kafka worker logs for an input with no id of its own: eventId = kafka:<topic>/<partition>@<offset>
  const price = (offset: number, value: string, topic = 'in') => ({ type: 'PriceUpdated', ts: at(60), instrument: 'BTC-PERP', price: value, postedBy: 'kafka', eventId: `kafka:${topic}/0@${offset}` });

  it('an offset at or below the highest applied of its partition is a duplicate, above it is new; one entry per partition', () => {
    const { engine, feed } = engineWithLog();
    const before = engine.state.seenIds.size;
    for (const offset of [10, 11, 14]) expect(feed(price(offset, '10010')).duplicate).toBe(false);
    // redeliveries after a crash: 11 and 14 were applied (even with other content: an offset's content never changes in Kafka)
    expect(feed(price(11, '10010')).duplicate).toBe(true);
    expect(feed(price(14, '9000')).duplicate).toBe(true);
    expect(feed(price(15, '10020')).duplicate).toBe(false);
    // another topic (or partition) is another position
    expect(feed(price(3, '10030', 'other')).duplicate).toBe(false);
    expect(engine.state.seenIds.size).toBe(before + 2);
    expect(engine.state.seenIds.get('kafka|position:in/0')).toBe(15);
    expect(engine.state.seenIds.get('kafka|position:other/0')).toBe(3);
    expect(engine.state.stats.duplicates).toBe(2);
  });

  it('only the Kafka scope\'s coordinate ids are positional: natural ids, other scopes and the CLI keep the per-key check', () => {
    expect(kafkaPosition(input(price(7, '1')))).toEqual({ partitionKey: 'kafka|position:in/0', offset: 7 });
    // a trade's key is its tradeId whatever its eventId; another scope's "kafka:" id is just an id
    expect(kafkaPosition(input({ ...TRADE, postedBy: 'kafka', eventId: 'kafka:in/0@7' }))).toBeUndefined();
    expect(kafkaPosition(input({ ...price(7, '1'), postedBy: 'venue:a-' }))).toBeUndefined();
    expect(kafkaPosition(input({ ...price(7, '1'), postedBy: undefined }))).toBeUndefined();
    expect(kafkaPosition(input({ ...price(7, '1'), eventId: 'kafka:in/0@7x' }))).toBeUndefined();
    const { engine, feed } = engineWithLog();
    feed({ ...price(7, '10010'), postedBy: 'venue:a-' });
    // over HTTP a lower "offset" is simply another id, and a repeat with other content is a conflict
    expect(feed({ ...price(6, '10010'), postedBy: 'venue:a-' }).duplicate).toBe(false);
    expect(() => feed({ ...price(7, '10020'), postedBy: 'venue:a-' })).toThrow(IdConflictRejected);
    expect(engine.state.seenIds.has('venue:a-|event:kafka:in/0@7')).toBe(true);
  });

  it('property: kafkaPosition reads kafka:<topic/partition>@<offset> exactly, whatever ids it read before and in any order of asking (its caches are invisible)', () => {
    const reference = (id: string) => {
      const match = /^kafka:([^@]*)@([0-9]{1,15})$/.exec(id);
      return match ? { partitionKey: `kafka|position:${match[1]}`, offset: Number(match[2]) } : undefined;
    };
    const base = input(price(0, '1'));
    const piece = fc.constantFrom('kafka:', 'in', '/', '0', '7', '@', '12', 'x');
    const id = fc.array(piece, { maxLength: 8 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.array(id, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 20 }), (ids, again) => {
        const inputs = ids.map((eventId) => ({ ...base, eventId }));
        for (const one of inputs) expect(kafkaPosition(one)).toEqual(reference(one.eventId));
        // asked again, the same input twice in a row (as checkRepeat and evolve do) or any earlier one: the same answers
        for (const n of again) {
          const one = inputs[n % inputs.length]!;
          expect(kafkaPosition(one)).toEqual(reference(one.eventId));
          expect(kafkaPosition(one)).toEqual(reference(one.eventId));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('expectKafkaPositions: the worker\'s word on a position is taken without parsing the id', () => {
    // kafka:in/0@7 announced as offset 7 of in/0: the answer is built from the numbers (the same as parsing it)
    const announced = input(price(7, '1'));
    expectKafkaPositions([announced], kafkaPartitionKey('in', 0), [7]);
    expect(kafkaPosition(announced)).toEqual({ partitionKey: 'kafka|position:in/0', offset: 7 });
    // the key of a partition is what positionOf reads; a topic with '@' has ids positionOf reads as no position
    expect(kafkaPartitionKey('in', 3)).toBe('kafka|position:in/3');
    expect(kafkaPartitionKey('a@b', 0)).toBeUndefined();
  });

  it('property: after expectKafkaPositions, kafkaPosition answers as positionOf does for every input the worker hands over, in any order of asking', () => {
    // what the worker hands over: price updates with their position for id (offsets up to past 2^53, topics with odd
    // characters), inputs with their own ids, trades, other scopes; announced offsets are true or -1 (no word)
    const base = input(price(0, '1'));
    const topic = fc.constantFrom('in', 'inputs.v1', 'a@b', 'é', 'x/y');
    const offset = fc.oneof(fc.nat(1000), fc.constantFrom(0, 999_999_999_999_999, 1_000_000_000_000_000, 2 ** 53 - 1, 2 ** 53), fc.maxSafeNat());
    const item = fc.oneof(
      offset.map((at) => ({ kind: 'position' as const, at })),
      fc.constantFrom('own-id', 'kafka:in/0@x', 'kafka:in/0@', 'other').map((id) => ({ kind: 'other' as const, id })),
    );
    const idOf = (t: string, partition: number, at: number) => `kafka:${t}/${partition}@${Number.isSafeInteger(at) ? at : String(at)}`;
    fc.assert(
      fc.property(topic, fc.nat(20), fc.array(item, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 12 }), (t, partition, items, order) => {
        const inputs: InputEvent[] = [];
        const offsets: number[] = [];
        for (const one of items) {
          if (one.kind === 'position') {
            inputs.push({ ...base, eventId: idOf(t, partition, one.at) } as InputEvent);
            offsets.push(one.at);
          } else if (one.id === 'other') {
            inputs.push({ ...(input(TRADE) as object), postedBy: 'kafka', eventId: idOf(t, partition, 1) } as InputEvent);
            offsets.push(-1);
          } else {
            inputs.push({ ...base, eventId: one.id } as InputEvent);
            offsets.push(-1);
          }
        }
        // the reference: the same inputs copied (never announced), so each id is parsed
        const parsed = inputs.map((one) => kafkaPosition({ ...one }));
        expectKafkaPositions(inputs, kafkaPartitionKey(t, partition), offsets);
        // in order, each twice (checkRepeat, then evolve), as the core asks
        inputs.forEach((one, i) => {
          expect(kafkaPosition(one)).toEqual(parsed[i]);
          expect(kafkaPosition(one)).toEqual(parsed[i]);
        });
        // announced again, then asked out of order or skipping some
        expectKafkaPositions(inputs, kafkaPartitionKey(t, partition), offsets);
        for (const n of order) expect(kafkaPosition(inputs[n % inputs.length]!)).toEqual(parsed[n % inputs.length]);
      }),
      { numRuns: 500 },
    );
  });

  it('a state from a snapshot that kept coordinate keys one by one (no position yet) still sees their redelivery as a duplicate', () => {
    const { engine, feed } = engineWithLog();
    const legacy = input(price(5, '10010'));
    // what evolve recorded before positions: the key and the content digest
    engine.state.seenIds.set(idempotencyKey(legacy)!, contentDigest(legacy));
    expect(feed(price(5, '10010')).duplicate).toBe(true);
    expect(feed(price(6, '10020')).duplicate).toBe(false);
    // from then on, the position decides
    expect(engine.state.seenIds.get('kafka|position:in/0')).toBe(6);
    expect(feed(price(6, '10020')).duplicate).toBe(true);
  });

  it('replay and a snapshot keep the position: a redelivery after a restart is still a duplicate', () => {
    const { engine, log, feed } = engineWithLog();
    for (const offset of [0, 1, 2]) feed(price(offset, String(10000 + offset)));
    const replayed = ClearingEngine.create();
    for (const event of log) replayed.apply(event);
    const restored = ClearingEngine.fromSnapshot(engine.snapshot())!;
    for (const other of [replayed, restored]) {
      expect([...other.state.seenIds]).toEqual([...engine.state.seenIds]);
      expect(other.handle(input(price(2, '10002'))).duplicate).toBe(true);
      expect(other.handle(input(price(3, '10003'))).duplicate).toBe(false);
    }
  });
});
