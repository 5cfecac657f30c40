import fc from 'fast-check';
import { InputError, decodeEvent, encodeEvent, isDecision, OutputHasher, type ClearingEvent, type InputEvent, type Sha256State } from '@clearsim/events';
import { at, rulesFor } from '@clearsim/clearing/testing';
import { InMemoryEventStore, type AppendTransaction } from '@clearsim/store';
import { crc32 } from 'node:zlib';
import { decodeLine } from '@clearsim/events';
import { LINE_BLANK, LINE_INPUT, LINE_MARK, ShardRunner, type DecisionHashingTransaction, type HeldEncodedEvents, type InputBatch, type LocatedInput, type MarkColumns } from './shard-runner';

/** An in-memory store that records what the runner did with its transactions. */
class RecordingStore extends InMemoryEventStore {
  transactions = 0;
  chunks = 0;
  aborted = 0;
  override async beginAppend(expectedPosition: number): Promise<AppendTransaction> {
    const transaction = await super.beginAppend(expectedPosition);
    this.transactions++;
    return {
      append: (events) => {
        this.chunks++;
        return transaction.append(events);
      },
      commit: () => transaction.commit(),
      abort: () => {
        this.aborted++;
        return transaction.abort();
      },
    };
  }
}

/** A RecordingStore whose transactions take encoded marks (appendEncoded): each one's bytes decoded back, and its CRC checked. */
class EncodedRecordingStore extends RecordingStore {
  encodedLines = 0;
  override async beginAppend(expectedPosition: number): Promise<AppendTransaction> {
    const transaction = await super.beginAppend(expectedPosition);
    return {
      ...transaction,
      appendEncoded: (entries, encoded) => {
        const events = entries.map((entry) => {
          if (typeof entry !== 'number') return entry;
          this.encodedLines++;
          const bytes = Buffer.from(encoded.json[entry]!.subarray(encoded.start[entry], encoded.end[entry]));
          expect(encoded.crc[entry]! >>> 0).toBe(crc32(bytes));
          return decodeLine(bytes.toString('utf8'), 'any');
        });
        return transaction.append(events);
      },
    };
  }
}

/**
 * `lines` as a MarkColumns batch from line `firstLine`, each followed by a blank line: the price updates with no
 * eventId as columns (with their canonical JSON and CRC when `withJson`), the rest as decoded inputs. `names` is the
 * name table shared by a run's batches.
 */
function markColumns(lines: readonly LocatedInput[], firstLine: number, names: string[], withJson: boolean): MarkColumns {
  const count = 2 * lines.length;
  const kinds = new Uint8Array(count).fill(LINE_BLANK);
  const inputs: (InputEvent | undefined)[] = new Array(count);
  const ts = new Float64Array(count);
  const units = new Float64Array(count);
  const instrument = new Int32Array(count);
  const json: Buffer[] = [];
  const jsonStart = new Int32Array(count);
  const jsonEnd = new Int32Array(count);
  const crc = new Int32Array(count);
  let offset = 0;
  lines.forEach(({ input }, k) => {
    const i = 2 * k;
    if (input.type === 'PriceUpdated' && input.eventId === undefined && input.postedBy === undefined) {
      kinds[i] = LINE_MARK;
      ts[i] = input.ts;
      units[i] = Number(input.price);
      if (!names.includes(input.instrument)) names.push(input.instrument);
      instrument[i] = names.indexOf(input.instrument);
      const bytes = Buffer.from(encodeEvent(input), 'utf8');
      json.push(bytes);
      jsonStart[i] = offset;
      jsonEnd[i] = offset += bytes.length;
      crc[i] = crc32(bytes);
    } else {
      kinds[i] = LINE_INPUT;
      inputs[i] = input;
    }
  });
  const columns = { source: 'day.jsonl', firstLine, count, kinds, inputs, ts, units, instrument, names };
  return withJson ? { ...columns, json: new Uint8Array(Buffer.concat(json)), jsonStart, jsonEnd, crc } : columns;
}

const located = (raw: Record<string, unknown>, line: number): LocatedInput => ({ input: decodeEvent(raw, 'input') as InputEvent, source: 'day.jsonl', line });

/**
 * A small venue day: rules, one perpetual, four traders with 1,000 each against a market maker, one trade each
 * (long 1 @ 10,000 for a and c, short for b and d), then a walk of marks. IM 10 % = 1,000 per position, MM 5 %:
 * a move of ±5 % (10,000 → 9,450) puts the longs under MM (equity 450 < 472.5), so the walk makes calls and
 * liquidations, and their decisions land in the chunks along with the inputs.
 */
function day(moves: readonly number[]): LocatedInput[] {
  const lines: Record<string, unknown>[] = [
    { type: 'RulesActivated', ts: at(0), rules: rulesFor() },
    { type: 'InstrumentListed', ts: at(0), instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC' },
    { type: 'Deposited', ts: at(0), account: 'mm', asset: 'USD', amount: '10000000' },
    { type: 'PriceUpdated', ts: at(0), instrument: 'BTC-PERP', price: '10000' },
  ];
  const traders = ['a', 'b', 'c', 'd'];
  traders.forEach((account, i) => {
    lines.push({ type: 'Deposited', ts: at(1), account, asset: 'USD', amount: '1000' });
    const long = i % 2 === 0;
    lines.push({ type: 'TradeExecuted', ts: at(1), tradeId: `t${i}`, instrument: 'BTC-PERP', buyer: long ? account : 'mm', seller: long ? 'mm' : account, qty: '1', price: '10000' });
  });
  let price = 10000;
  moves.forEach((move, i) => {
    price = Math.max(1000, Math.round(price * (1 + move)));
    lines.push({ type: 'PriceUpdated', ts: at(60 * (i + 2)), instrument: 'BTC-PERP', price: String(price) });
  });
  return lines.map((raw, i) => located(raw, i + 1));
}

async function runAll(inputs: LocatedInput[], chunkEvents: number) {
  const store = new RecordingStore();
  const runner = await ShardRunner.open(store);
  const decided: ClearingEvent[] = [];
  const result = await runner.run(inputs, { chunkEvents, onDecisions: (chunk) => void decided.push(...chunk) });
  const log: string[] = [];
  for await (const { event } of store.read(1)) log.push(encodeEvent(event));
  return { store, runner, result, decided: decided.map(encodeEvent), log };
}

/** Runs `batches` through runBatches on `store` and expects the log, decisions, result and outputHash of `one` (a runAll of the same inputs). */
async function expectRunBatchesAsOne(store: RecordingStore, batches: AsyncIterable<InputBatch | MarkColumns>, chunkEvents: number, one: Awaited<ReturnType<typeof runAll>>) {
  const runner = await ShardRunner.open(store);
  const decided: ClearingEvent[] = [];
  const result = await runner.runBatches(batches, { chunkEvents, onDecisions: (chunk) => void decided.push(...chunk) });
  const log: string[] = [];
  for await (const { event } of store.read(1)) log.push(encodeEvent(event));
  expect(log).toEqual(one.log);
  expect(decided.map(encodeEvent)).toEqual(one.decided);
  expect(result).toEqual(one.result);
  expect(runner.engine.outputHash).toBe(one.runner.engine.outputHash);
}

/** A day's mark moves (fractions of the price), the sizes of the batches the reader hands over, and the run's chunk size. */
const markMoves = fc.array(fc.double({ min: -0.08, max: 0.08, noNaN: true }), { minLength: 1, maxLength: 40 });
const batchSizes = fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 10 });
const chunkSizes = fc.integer({ min: 1, max: 25 });

describe('ShardRunner.run streams in chunks through one transaction', () => {
  it('a chunked run decides and logs exactly what a one-chunk run does, for any chunk size', async () => {
    await fc.assert(
      fc.asyncProperty(markMoves, chunkSizes, async (moves, chunkEvents) => {
        const inputs = day(moves);
        const whole = await runAll(inputs, 1_000_000);
        const chunked = await runAll(inputs, chunkEvents);
        expect(whole.store.chunks).toBe(1);
        // chunks of `chunkEvents` events at least (an input and its decisions are never split): at most ⌈log / chunk⌉
        expect(chunked.store.chunks).toBeLessThanOrEqual(Math.ceil(whole.log.length / chunkEvents));
        expect(chunked.store.transactions).toBe(1);
        expect(chunked.log).toEqual(whole.log);
        expect(chunked.decided).toEqual(whole.decided);
        expect(chunked.runner.engine.outputHash).toBe(whole.runner.engine.outputHash);
        expect(chunked.result).toEqual(whole.result);
        expect(chunked.result.head).toBe(whole.log.length);
        expect(chunked.result.decisionCount).toBe(whole.decided.length);
      }),
      { numRuns: 40 },
    );
  });

  it('runBatches (inputs an array at a time) decides, logs and counts exactly what run does, for any split into arrays', async () => {
    await fc.assert(
      fc.asyncProperty(markMoves, batchSizes, chunkSizes, async (moves, sizes, chunkEvents) => {
        const inputs = day(moves);
        const one = await runAll(inputs, chunkEvents);
        // the same inputs cut into arrays of the given sizes (cycled), handed over by an async generator as `run` reads a
        // file; an array of even size goes as SourcedInputs (inputs and line numbers side by side), as `run` hands a file's
        const batches: InputBatch[] = [];
        for (let i = 0, k = 0; i < inputs.length; k++) {
          const slice = inputs.slice(i, i + sizes[k % sizes.length]!);
          batches.push(sizes[k % sizes.length]! % 2 === 0 ? { inputs: slice.map((l) => l.input), source: 'day.jsonl', lines: slice.map((l) => l.line!) } : slice);
          i += sizes[k % sizes.length]!;
        }
        async function* arrays() {
          yield* batches;
        }
        const store = new RecordingStore();
        await expectRunBatchesAsOne(store, arrays(), chunkEvents, one);
        expect(store.chunks).toBe(one.store.chunks);
      }),
      { numRuns: 40 },
    );
  });

  it('MarkColumns batches (marks as columns, with or without their JSON) decide and log exactly what run does, on a store with appendEncoded or without', async () => {
    await fc.assert(
      fc.asyncProperty(
        markMoves,
        batchSizes,
        chunkSizes,
        fc.boolean(),
        fc.boolean(),
        async (moves, sizes, chunkEvents, withJson, encodedStore) => {
          const inputs = day(moves);
          const one = await runAll(inputs, chunkEvents);
          // blank lines between some inputs (line numbers run on), marks as columns, everything else as decoded inputs
          const batches: MarkColumns[] = [];
          const names: string[] = [];
          for (let i = 0, k = 0, line = 1; i < inputs.length; k++) {
            const slice = inputs.slice(i, i + sizes[k % sizes.length]!);
            i += slice.length;
            batches.push(markColumns(slice, line, names, withJson && k % 3 !== 2));
            line += 2 * slice.length;
          }
          async function* arrays() {
            yield* batches;
          }
          const store = encodedStore ? new EncodedRecordingStore() : new RecordingStore();
          await expectRunBatchesAsOne(store, arrays(), chunkEvents, one);
          // the store took the marks' bytes whenever every mark of a chunk had them (withJson: two batches in three)
          if (store instanceof EncodedRecordingStore && withJson && batches.every((b) => b.json !== undefined)) expect(store.encodedLines).toBe(moves.length + 1);
          if (!(store instanceof EncodedRecordingStore) || !withJson) expect(store instanceof EncodedRecordingStore ? store.encodedLines : 0).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('MarkColumns batches whose marks\' JSON is held elsewhere (MarkColumns.held) log exactly what run does through a wrapped transaction that takes them by reference', async () => {
    await fc.assert(
      fc.asyncProperty(
        markMoves,
        batchSizes,
        chunkSizes,
        fc.boolean(),
        async (moves, sizes, chunkEvents, someWithoutJson) => {
          const inputs = day(moves);
          const one = await runAll(inputs, chunkEvents);
          // as the decode thread does once told to hold: some batches' JSON kept by it (by id), earlier ones with their JSON, some without
          const holder = new Map<number, MarkColumns>();
          const batches: MarkColumns[] = [];
          const names: string[] = [];
          for (let i = 0, k = 0, line = 1; i < inputs.length; k++) {
            const slice = inputs.slice(i, i + sizes[k % sizes.length]!);
            i += slice.length;
            const columns = markColumns(slice, line, names, !(someWithoutJson && k % 4 === 3));
            if (k % 4 === 1 || k % 4 === 2) {
              holder.set(k, columns);
              batches.push({ ...columns, json: undefined, jsonEnd: undefined, crc: undefined, held: k });
            } else batches.push(columns);
            line += 2 * slice.length;
          }
          async function* arrays() {
            yield* batches;
          }
          const store = new RecordingStore();
          let byReference = 0;
          const wrap = (transaction: AppendTransaction): AppendTransaction => ({
            ...transaction,
            appendEncoded: (entries, encoded) => {
              const { held, heldLine } = encoded as HeldEncodedEvents;
              const events = entries.map((entry) => {
                if (typeof entry !== 'number') return entry;
                let json: Uint8Array | undefined = encoded.json[entry];
                let start = encoded.start[entry]!;
                let end = encoded.end[entry]!;
                if (held[entry]! >= 0) {
                  // a held mark: its bytes are the holder's
                  byReference++;
                  const batch = holder.get(held[entry]!)!;
                  expect(json).toBeUndefined();
                  json = batch.json;
                  start = batch.jsonStart![heldLine[entry]!]!;
                  end = batch.jsonEnd![heldLine[entry]!]!;
                }
                return decodeLine(Buffer.from(json!.subarray(start, end)).toString('utf8'), 'any');
              });
              return transaction.append(events);
            },
          });
          const runner = await ShardRunner.open(store);
          const decided: ClearingEvent[] = [];
          const result = await runner.runBatches(arrays(), { chunkEvents, wrapTransaction: wrap, onDecisions: (chunk) => void decided.push(...chunk) });
          const log: string[] = [];
          for await (const { event } of store.read(1)) log.push(encodeEvent(event));
          expect(log).toEqual(one.log);
          expect(decided.map(encodeEvent)).toEqual(one.decided);
          expect(result).toEqual(one.result);
          // every held mark went by reference, unless its chunk had a mark with no JSON at all (then the chunk's events)
          const heldMarks = batches.filter((b) => b.held !== undefined).reduce((n, b) => n + [...b.kinds].filter((kind) => kind === LINE_MARK).length, 0);
          expect(byReference).toBeLessThanOrEqual(heldMarks);
          if (!someWithoutJson) expect(byReference).toBe(heldMarks);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('decisions hashed by the wrapped transaction (decisionsHashedByTransaction): the same outputHash and log; a wrapper that does not hash, or a refusal, leaves the engine hashing as before', async () => {
    await fc.assert(
      fc.asyncProperty(markMoves, chunkSizes, fc.constantFrom('hashes', 'does not hash', 'refused'), async (moves, chunkEvents, wrapper) => {
        // a first fall of 6 % liquidates the longs: every run has decisions to hash, wherever the walk goes after it
        const inputs = day([-0.06, ...moves]);
        const one = await runAll(inputs, chunkEvents);
        const store = new RecordingStore();
        const runner = await ShardRunner.open(store);
        // an earlier run: the hash the wrapper is given is carried over from it, not from nothing
        await runner.run(day([0.01]).slice(0, 4));
        const before = runner.engine.outputHash;
        let given: Sha256State | undefined;
        let hashed = 0;
        const wrap = (transaction: AppendTransaction, decisionsHash?: Sha256State): AppendTransaction => {
          given = decisionsHash;
          // while the run goes, the engine's own hash is not to be read: it misses the decisions
          expect(() => runner.engine.outputHash).toThrow('detached');
          if (wrapper === 'does not hash') return transaction;
          const hasher = new OutputHasher(decisionsHash);
          return {
            ...transaction,
            append: (events) => {
              for (const event of events) {
                if (!isDecision(event)) continue;
                hasher.add(event);
                hashed++;
              }
              return transaction.append(events);
            },
            decisionsHashAfterCommit: () => hasher.state(),
          } as DecisionHashingTransaction;
        };
        const refused = located({ type: 'TradeExecuted', ts: at(100_000), tradeId: 'bad', instrument: 'BTC-PERP', buyer: 'nobody', seller: 'mm', qty: '1', price: '10000' }, inputs.length + 1);
        const run = runner.run(wrapper === 'refused' ? [...inputs.slice(4), refused] : inputs.slice(4), { chunkEvents, wrapTransaction: wrap, decisionsHashedByTransaction: true });
        if (wrapper === 'refused') {
          await expect(run).rejects.toBeInstanceOf(InputError);
          expect(runner.engine.outputHash).toBe(before);
          return;
        }
        const result = await run;
        expect(given).toBeDefined();
        const log: string[] = [];
        for await (const { event } of store.read(1)) log.push(encodeEvent(event));
        // the same log and hash as one run of the same inputs (this one came in two)
        expect(log).toEqual(one.log);
        expect(runner.engine.outputHash).toBe(one.runner.engine.outputHash);
        expect(result.decisionCount).toBeGreaterThan(0);
        expect(hashed).toBe(wrapper === 'hashes' ? result.decisionCount : 0);
        // and the engine hashes again after the run: a snapshot carries the hash
        expect(() => runner.engine.snapshot()).not.toThrow();
      }),
      { numRuns: 60 },
    );
  });

  it('a mark of a MarkColumns batch that the engine refuses names its line (firstLine + i) and leaves the store as before', async () => {
    const store = new RecordingStore();
    const runner = await ShardRunner.open(store);
    await runner.run(day([0.01]));
    const headBefore = runner.head;
    // the batch's lines from 10: the mark at 10, a blank line, the mark at 12 that prices an instrument not listed
    const lines = [
      located({ type: 'PriceUpdated', ts: at(10_000), instrument: 'BTC-PERP', price: '10100' }, 10),
      located({ type: 'PriceUpdated', ts: at(10_001), instrument: 'ETH-PERP', price: '100' }, 12),
    ];
    const batch = markColumns(lines, 10, [], true);
    const error = await runner.runBatches([batch], { chunkEvents: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(/^day\.jsonl:line 12: field "instrument"/);
    expect(store.aborted).toBe(1);
    expect(await store.head()).toBe(headBefore);
  });

  it('runBatches: a refused input in the middle of an array names its line and leaves the store as before', async () => {
    const store = new RecordingStore();
    const runner = await ShardRunner.open(store);
    await runner.run(day([0.01]));
    const headBefore = runner.head;
    const deposits = Array.from({ length: 6 }, (_, i) => located({ type: 'Deposited', ts: at(10_000), account: `x${i}`, asset: 'USD', amount: '1' }, i + 1));
    const refused = located({ type: 'TradeExecuted', ts: at(10_000), tradeId: 'bad', instrument: 'BTC-PERP', buyer: 'nobody', seller: 'mm', qty: '1', price: '10000' }, 7);
    // arrays [1–4], [5, 6, 7 (refused), 8]: chunks of 2 events, so chunks 1 and 2 are in the transaction when line 7 is refused;
    // the second array as SourcedInputs (inputs and line numbers side by side): the line is still named
    const second = [...deposits.slice(4), refused, located({ type: 'Deposited', ts: at(10_000), account: 'x9', asset: 'USD', amount: '1' }, 8)];
    const error = await runner.runBatches([deposits.slice(0, 4), { inputs: second.map((l) => l.input), source: 'day.jsonl', lines: Int32Array.from(second, (l) => l.line!) }], { chunkEvents: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(/day\.jsonl.*line 7/);
    expect(store.chunks).toBeGreaterThanOrEqual(2);
    expect(store.aborted).toBe(1);
    expect(await store.head()).toBe(headBefore);
    expect(runner.engine.state.ledger.accounts.has('x0')).toBe(false);
  });

  it('counts decisions by type instead of keeping them', async () => {
    // 10,000 → 9,000: the longs a and c fall under MM (equity 1,000 − 1,000 = 0 < 450: at once below half of MM →
    // liquidated without a call); the shorts gain
    const { result, decided } = await runAll(day([-0.1]), 5);
    const types = decided.map((d) => JSON.parse(d).type as string);
    const counted: Record<string, number> = {};
    for (const type of types) counted[type] = (counted[type] ?? 0) + 1;
    expect(result.decisionsByType).toEqual(counted);
    expect(result.decisionCount).toBe(types.length);
    expect(types.length).toBeGreaterThan(0);
    expect(result).not.toHaveProperty('decisions');
  });

  it('a refused input in chunk 3 leaves the store as before and the engine rebuilt from it', async () => {
    const store = new RecordingStore();
    const runner = await ShardRunner.open(store);
    const first = day([0.01, -0.02]);
    await runner.run(first);
    const logBefore: string[] = [];
    for await (const { event } of store.read(1)) logBefore.push(encodeEvent(event));
    const headBefore = runner.head;
    const stateBefore = JSON.stringify(runner.engine.summary({ accounts: true }));
    store.chunks = 0;
    // 10 deposits of 1 each (no decisions), 4 events per chunk: chunks 1 and 2 (deposits 1–8) go into the
    // transaction; the 11th input (line 11) names an account that never deposited and is refused while chunk 3
    // (deposits 9 and 10) is being filled
    const more = Array.from({ length: 10 }, (_, i) => located({ type: 'Deposited', ts: at(10_000), account: `x${i}`, asset: 'USD', amount: '1' }, i + 1));
    const refused = located({ type: 'TradeExecuted', ts: at(10_000), tradeId: 'bad', instrument: 'BTC-PERP', buyer: 'nobody', seller: 'mm', qty: '1', price: '10000' }, 11);
    const heard: number[] = [];
    runner.onAppended((events) => heard.push(events.length));
    const error = await runner.run([...more, refused], { chunkEvents: 4 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(/day\.jsonl.*line 11/);
    expect(store.chunks).toBe(2);
    expect(store.aborted).toBe(1);
    const logAfter: string[] = [];
    for await (const { event } of store.read(1)) logAfter.push(encodeEvent(event));
    expect(logAfter).toEqual(logBefore);
    expect(await store.head()).toBe(headBefore);
    expect(runner.head).toBe(headBefore);
    expect(JSON.stringify(runner.engine.summary({ accounts: true }))).toBe(stateBefore);
    expect(runner.engine.state.ledger.accounts.has('x0')).toBe(false);
    expect(heard).toEqual([]);
    // the shard carries on from the log
    const next = await runner.run([located({ type: 'Deposited', ts: at(10_000), account: 'x0', asset: 'USD', amount: '1' }, 1)]);
    expect(next.head).toBe(headBefore + 1);
  });

  it('any other error while streaming aborts the transaction too', async () => {
    const store = new RecordingStore();
    const runner = await ShardRunner.open(store);
    const inputs = day([0.01]);
    function* failing(): Iterable<LocatedInput> {
      yield* inputs;
      throw new Error('the input file went away');
    }
    await expect(runner.run(failing(), { chunkEvents: 3 })).rejects.toThrow('the input file went away');
    expect(store.chunks).toBeGreaterThan(1);
    expect(store.aborted).toBe(1);
    expect(await store.head()).toBe(0);
    expect(runner.head).toBe(0);
    expect(runner.engine.state.ledger.accounts.size).toBe(0);
  });

  it('listeners hear the whole run once, after the commit, with its positions', async () => {
    const store = new RecordingStore();
    const runner = await ShardRunner.open(store);
    const heard: { position: number; type: string }[][] = [];
    runner.onAppended((events) => heard.push(events.map((e) => ({ position: e.position, type: e.event.type }))));
    let heardBeforeCommit = -1;
    const result = await runner.run(day([-0.1, 0.05]), { chunkEvents: 3, onCommitting: () => (heardBeforeCommit = heard.length) });
    expect(heardBeforeCommit).toBe(0);
    expect(store.chunks).toBeGreaterThan(1);
    expect(heard).toHaveLength(1);
    expect(heard[0]!.map((e) => e.position)).toEqual(Array.from({ length: result.head }, (_, i) => i + 1));
    const logged: string[] = [];
    for await (const { event } of store.read(1)) logged.push(event.type);
    expect(heard[0]!.map((e) => e.type)).toEqual(logged);
  });
});
