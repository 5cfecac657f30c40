import { ClearingEngine, type HandleResult } from '@clearsim/clearing';
import { InputError, type ClearingEvent, type InputEvent, type Sha256State, type Timestamp } from '@clearsim/events';
import type { AppendTransaction, EncodedEvents, EventStore, StoredEvent } from '@clearsim/store';
import { LINE_INPUT, LINE_MARK } from './line-kinds';

/** An input with where it came from, so a refusal can name the file and line. */
export interface LocatedInput {
  input: InputEvent;
  source?: string;
  line?: number;
}

/**
 * Inputs of one source with no object per input (what `clearsim run` hands over per read chunk of a file):
 * `inputs[i]` is line `lines[i]` of `source`. The same to the runner as the LocatedInput array of those pairs.
 */
export interface SourcedInputs {
  readonly inputs: readonly InputEvent[];
  readonly source: string;
  readonly lines: ArrayLike<number>;
}

export { LINE_BLANK, LINE_INPUT, LINE_MARK } from './line-kinds';

/**
 * Consecutive lines of one source, the commonest input as columns (what `clearsim run`'s decode thread hands over):
 * line `firstLine + i` is, by `kinds[i]`, LINE_MARK — the price update `{ type: 'PriceUpdated', ts: ts[i],
 * instrument: names[instrument[i]], price: units[i] ledger units }` with no eventId or postedBy, no object made for
 * it — LINE_INPUT, the decoded `inputs[i]`, or LINE_BLANK, nothing. Where `json` is given, a mark's canonical JSON
 * is `json[jsonStart[i], jsonEnd[i])`, its CRC-32 `crc[i]`: a store that takes encoded events copies them.
 */
export interface MarkColumns {
  readonly source: string;
  readonly firstLine: number;
  readonly count: number;
  readonly kinds: Uint8Array;
  readonly inputs: readonly (InputEvent | undefined)[];
  readonly ts: Float64Array;
  readonly units: Float64Array;
  readonly instrument: Int32Array;
  readonly names: readonly string[];
  readonly json?: Uint8Array;
  readonly jsonStart?: Int32Array;
  readonly jsonEnd?: Int32Array;
  readonly crc?: Int32Array;
  /**
   * The marks' JSON is not here but held by the thread that decoded them, under this id (`json` absent; a mark whose
   * `jsonStart[i]` is ≥ 0 is held): a transaction that writes through that thread (RunOptions.wrapTransaction) takes
   * them by reference (HeldEncodedEvents); any other gets the marks' events.
   */
  readonly held?: number;
}

/**
 * EncodedEvents of a chunk whose marks may be held by the thread that decoded them (MarkColumns.held): mark k is
 * held when `held[k]` ≥ 0 — the batch's id — as line `heldLine[k]` of that batch (its `json[k]` is then absent).
 */
export interface HeldEncodedEvents extends EncodedEvents {
  readonly held: Int32Array;
  readonly heldLine: Int32Array;
}

/** An array of inputs: located one by one, of one source (SourcedInputs), or as columns (MarkColumns). */
export type InputBatch = readonly LocatedInput[] | SourcedInputs | MarkColumns;

export const isMarkColumns = (batch: InputBatch): batch is MarkColumns => !Array.isArray(batch) && 'kinds' in batch;

/** The input of line `i` of a MarkColumns batch (an event made for a mark), undefined for a blank line. */
export function columnInput(batch: MarkColumns, i: number): InputEvent | undefined {
  const kind = batch.kinds[i];
  if (kind === LINE_INPUT) return batch.inputs[i];
  if (kind !== LINE_MARK) return undefined;
  return { type: 'PriceUpdated', ts: batch.ts[i]!, instrument: batch.names[batch.instrument[i]!]!, price: BigInt(batch.units[i]!) } as InputEvent;
}

/**
 * Inputs handed over an array at a time (a chunk of a file's lines): the run
 * awaits once per array instead of once per input.
 */
export type InputBatches = AsyncIterable<InputBatch> | Iterable<InputBatch>;

/** The batch's inputs one by one, located (for a caller that takes them one at a time). */
export function* locatedInputs(batch: InputBatch): Iterable<LocatedInput> {
  if (isLocatedArray(batch)) yield* batch;
  else if (isMarkColumns(batch)) {
    for (let i = 0; i < batch.count; i++) {
      const input = columnInput(batch, i);
      if (input !== undefined) yield { input, source: batch.source, line: batch.firstLine + i };
    }
  } else for (let i = 0; i < batch.inputs.length; i++) yield { input: batch.inputs[i]!, source: batch.source, line: batch.lines[i] };
}

export const isLocatedArray = (batch: InputBatch): batch is readonly LocatedInput[] => Array.isArray(batch);

export interface RunResult {
  inputsAccepted: number;
  duplicates: number;
  /** How many events this call appended (inputs and decisions), from `head − appended + 1` to `head`. */
  appended: number;
  /** How many decisions this call appended, and how many of each type (a run keeps counts, not the decisions: see `RunOptions.onDecisions`). */
  decisionCount: number;
  decisionsByType: Record<string, number>;
  head: number;
}

/**
 * Inputs and decisions appended per chunk of a run: what a run holds in memory besides the engine's state.
 * Small, so that a chunk's events die in the young generation instead of being promoted and filling the old
 * one between full collections (docs/performance.md, B1-scale); a chunk costs one write, not an fsync.
 */
export const RUN_CHUNK_EVENTS = 2_000;

export interface RunOptions {
  /** Called with the number of inputs accepted so far, every 10,000 inputs. */
  onProgress?: (inputsAccepted: number) => void;
  /** Called with the number of inputs accepted once every input is decided and appended, before the commit (which makes the run durable) begins. */
  onCommitting?: (inputsAccepted: number) => void;
  /**
   * Called with each chunk's decisions, in log order, as the chunk is added to the run's transaction: before the
   * run is committed, so a caller writing them somewhere must discard them if `run` rejects. Awaited.
   */
  onDecisions?: (decisions: readonly ClearingEvent[]) => void | Promise<void>;
  /** Events (inputs and decisions) per chunk (default RUN_CHUNK_EVENTS); the decisions and the log do not depend on it. */
  chunkEvents?: number;
  /**
   * The store's transaction as the run uses it (once, at its first chunk): `clearsim run` hands its log's writing to
   * its decode thread this way. The wrapper's appendEncoded is given HeldEncodedEvents. The log must be the same.
   */
  wrapTransaction?: (transaction: AppendTransaction, decisionsHash?: Sha256State) => AppendTransaction | Promise<AppendTransaction>;
  /**
   * With `wrapTransaction`: the engine does not hash the run's decisions into its outputHash; the wrapper is given the
   * hash's running state (`decisionsHash`) and its transaction, a DecisionHashingTransaction, hashes every decision
   * appended through it and answers the state after them once committed (`clearsim run`'s decode thread, which
   * encodes the decisions for the log anyway). A wrapper whose transaction does not hash leaves it to the engine.
   * The outputHash is the same.
   */
  decisionsHashedByTransaction?: boolean;
}

export interface OpenOptions {
  /** Stop before the first event later than this time (time travel; ignores snapshots). */
  at?: Timestamp;
  /** Called for every event folded while opening. */
  onEvent?: (event: ClearingEvent, position: number) => void;
  /** Save a snapshot whenever this many events have been appended since the last one (0: never). */
  snapshotEvery?: number;
  /** Ignore snapshots and fold the whole log (verify does; so can a user who distrusts them). */
  fullReplay?: boolean;
  /** Where non-fatal problems go (a snapshot that could not be saved). */
  warn?: (message: string) => void;
}

export type AppendListener = (events: readonly StoredEvent[]) => void;

/** A transaction that hashes the decisions appended through it (RunOptions.decisionsHashedByTransaction). */
export interface DecisionHashingTransaction extends AppendTransaction {
  /** The outputHash's running state after every decision appended, once committed. */
  decisionsHashAfterCommit(): Sha256State;
}

export const hashesDecisions = (transaction: AppendTransaction): transaction is DecisionHashingTransaction =>
  typeof (transaction as Partial<DecisionHashingTransaction>).decisionsHashAfterCommit === 'function';

/**
 * The shard loop of the shell (STYLE habit 6): validate → decide → append →
 * publish. It owns one engine and one store; every clearing decision is the
 * core's. Calls are serialized (one writer per shard). `run` streams its
 * inputs in chunks through one append transaction and is all or nothing: a
 * refused input aborts the transaction, and the engine is rebuilt from the
 * store so it holds exactly what the log holds. Listeners (SSE, Kafka
 * producer, metrics) hear of events only after they are durable.
 */
export class ShardRunner {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<AppendListener>();

  private constructor(
    readonly store: EventStore,
    private current: ClearingEngine,
    private position: number,
    private snapshotPosition: number,
    private readonly options: OpenOptions,
  ) {}

  /** Opens a shard: the latest snapshot (unless `at`/`fullReplay`) plus the tail of the log, folded (replay decides nothing). */
  static async open(store: EventStore, options: OpenOptions = {}): Promise<ShardRunner> {
    const { engine, position, snapshotPosition } = await ShardRunner.load(store, options);
    return new ShardRunner(store, engine, position, snapshotPosition, options);
  }

  private static async load(store: EventStore, options: OpenOptions): Promise<{ engine: ClearingEngine; position: number; snapshotPosition: number }> {
    let engine = ClearingEngine.create();
    let position = 0;
    if (options.at === undefined && !options.fullReplay) {
      const snapshot = await store.latestSnapshot();
      const restored = snapshot && ClearingEngine.fromSnapshot(snapshot.state);
      if (snapshot && restored) {
        engine = restored;
        position = snapshot.position;
      }
    }
    const snapshotPosition = position;
    for await (const stored of store.read(position + 1)) {
      if (options.at !== undefined && stored.event.ts > options.at) break;
      engine.apply(stored.event);
      position = stored.position;
      options.onEvent?.(stored.event, stored.position);
    }
    return { engine, position, snapshotPosition };
  }

  get engine(): ClearingEngine {
    return this.current;
  }

  get head(): number {
    return this.position;
  }

  /** Where the state was restored from on open (0: a full replay). */
  get restoredFrom(): number {
    return this.snapshotPosition;
  }

  /** Hears every durable append (after it is durable), in log order. Returns an unsubscribe function. */
  onAppended(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs `fn` when every earlier call has finished: one writer per shard. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Decides the inputs one by one and appends inputs and decisions in log
   * order (each input preceded by the decisions of the grace timers its `ts`
   * passed, followed by its own decisions), a chunk at a time, through one append transaction of the store:
   * memory holds the engine's state and one chunk, not the input. All or
   * nothing: on a refused input (InputError, with source and line) or any other
   * error, the transaction is aborted — the log is exactly as before the call —
   * and the engine is rebuilt from the store (unless nothing had been folded
   * yet). Listeners hear of the run's events once it is committed; only while
   * some listener is registered are the run's events kept until then.
   */
  run(inputs: AsyncIterable<LocatedInput> | Iterable<LocatedInput>, options: RunOptions = {}): Promise<RunResult> {
    return this.exclusive(() => this.decideAndAppend({ inputs }, options));
  }

  /** `run` over inputs in arrays (what `clearsim run` reads a chunk of lines at a time): the same decisions, log and contract. */
  runBatches(batches: InputBatches, options: RunOptions = {}): Promise<RunResult> {
    return this.exclusive(() => this.decideAndAppend({ batches }, options));
  }

  private async decideAndAppend(source: { inputs: AsyncIterable<LocatedInput> | Iterable<LocatedInput> } | { batches: InputBatches }, options: RunOptions): Promise<RunResult> {
    const chunkEvents = Math.max(1, options.chunkEvents ?? RUN_CHUNK_EVENTS);
    const from = this.position;
    // a chunk's entries in log order: an event, or (a mark of a MarkColumns batch) the index of its line in `marks`
    let chunk: (ClearingEvent | number)[] = [];
    let chunkDecisions: ClearingEvent[] = [];
    const marks = new ChunkMarks();
    const heard: StoredEvent[] = [];
    const decisionsByType: Record<string, number> = {};
    let decisionCount = 0;
    let accepted = 0;
    let duplicates = 0;
    let appended = 0;
    let transaction: AppendTransaction | undefined;
    // the run's decisions hashed by the wrapped transaction: the engine's hash from where it stands now
    let decisionsHash = options.decisionsHashedByTransaction && options.wrapTransaction ? this.current.detachOutputHash() : undefined;
    const flush = async () => {
      if (chunk.length === 0) return;
      if (transaction === undefined) {
        transaction = await this.store.beginAppend(from);
        if (options.wrapTransaction) transaction = await options.wrapTransaction(transaction, decisionsHash);
        if (decisionsHash !== undefined && !hashesDecisions(transaction)) {
          // the wrapper's transaction does not hash (a store whose transactions it cannot take): the engine does
          // again, this first chunk's decisions first (every decision of the run so far)
          this.current.attachOutputHash(decisionsHash);
          this.current.hashDecisions(chunkDecisions);
          decisionsHash = undefined;
        }
      }
      // the marks' own bytes where the store takes them; their events for any other store, and for listeners
      const encoded = marks.count > 0 && transaction.appendEncoded !== undefined && this.listeners.size === 0 && marks.hasAllJson(options.wrapTransaction !== undefined);
      const events = marks.count === 0 ? (chunk as ClearingEvent[]) : encoded ? undefined : marks.events(chunk);
      if (events === undefined) await transaction.appendEncoded!(chunk, marks);
      else await transaction.append(events);
      if (this.listeners.size > 0) for (let i = 0; i < chunk.length; i++) heard.push({ position: from + appended + 1 + i, event: events![i]! });
      appended += chunk.length;
      const decided = chunkDecisions;
      chunk = [];
      chunkDecisions = [];
      marks.clear();
      if (options.onDecisions && decided.length > 0) await options.onDecisions(decided);
    };
    /** Adds a decided input (`entry`: the event, or a mark's index in `marks`) and its decisions to the chunk, in log order; true when the chunk is full. */
    const record = (result: HandleResult, entry: ClearingEvent | number): boolean => {
      accepted++;
      const { decisions } = result;
      // log order: the grace timers the input's ts passed (stamped with their deadlines), the input, its decisions
      const beforeInput = result.beforeInput ?? 0;
      if (beforeInput === 0) chunk.push(entry);
      if (decisions.length > 0) {
        for (let i = 0; i < decisions.length; i++) {
          const decision = decisions[i]!;
          chunk.push(decision);
          if (i + 1 === beforeInput) chunk.push(entry);
          chunkDecisions.push(decision);
          decisionsByType[decision.type] = (decisionsByType[decision.type] ?? 0) + 1;
        }
        decisionCount += decisions.length;
      }
      if (options.onProgress && accepted % 10000 === 0) options.onProgress(accepted);
      return chunk.length >= chunkEvents;
    };
    /** Decides one input (from `source`, `line`) into the chunk; true when the chunk is full (the caller flushes it). */
    const decide = (input: InputEvent, source: string | undefined, line: number | undefined): boolean => {
      let result;
      try {
        result = this.current.handle(input);
      } catch (error) {
        if (error instanceof InputError) throw error.withLocation(source, line);
        throw error;
      }
      if (result.duplicate) {
        duplicates++;
        return false;
      }
      return record(result, input);
    };
    /** Decides line `i` of a MarkColumns batch, a mark (never a duplicate: it has no eventId), with no event object. */
    const decideMark = (batch: MarkColumns, i: number): boolean => {
      let result;
      try {
        result = this.current.handlePrice(batch.ts[i]!, batch.names[batch.instrument[i]!]!, batch.units[i]!);
      } catch (error) {
        if (error instanceof InputError) throw error.withLocation(batch.source, batch.firstLine + i);
        throw error;
      }
      return record(result, marks.add(batch, i));
    };
    try {
      if ('batches' in source) {
        // by index: a for-of over the array inside this async function allocates an iterator result per input
        for await (const batch of source.batches) {
          if (isLocatedArray(batch)) {
            for (let i = 0; i < batch.length; i++) {
              const located = batch[i]!;
              if (decide(located.input, located.source, located.line)) await flush();
            }
          } else if (isMarkColumns(batch)) {
            const { kinds, inputs, source: from, firstLine } = batch;
            for (let i = 0; i < batch.count; i++) {
              const kind = kinds[i];
              if (kind === LINE_MARK ? decideMark(batch, i) : kind === LINE_INPUT && decide(inputs[i]!, from, firstLine + i)) await flush();
            }
          } else {
            const { inputs, source: from, lines } = batch;
            for (let i = 0; i < inputs.length; i++) if (decide(inputs[i]!, from, lines[i])) await flush();
          }
        }
      } else {
        for await (const located of source.inputs) if (decide(located.input, located.source, located.line)) await flush();
      }
      await flush();
      options.onCommitting?.(accepted);
      if (transaction) this.position = await transaction.commit();
      if (decisionsHash !== undefined) {
        // committed: the hash after the run's decisions (no transaction: the run decided nothing, and it is where it was)
        this.current.attachOutputHash(transaction && hashesDecisions(transaction) ? transaction.decisionsHashAfterCommit() : decisionsHash);
        decisionsHash = undefined;
      }
    } catch (error) {
      // the engine hashes again (from the run's start: a reload below replaces it; a run refused at its first input
      // decided nothing)
      if (decisionsHash !== undefined) this.current.attachOutputHash(decisionsHash);
      if (transaction) {
        try {
          await transaction.abort();
        } catch (abortError) {
          this.options.warn?.(`aborting the run's append failed: ${(abortError as Error).message}`);
        }
      }
      // the core refuses an input before changing anything: a run refused at its first input left the engine
      // as the log has it (a bad single request costs no reload); anything else is rebuilt from the store
      const untouched = error instanceof InputError && accepted === 0 && duplicates === 0;
      if (!untouched) await this.reload();
      throw error;
    }
    if (heard.length > 0) for (const listener of this.listeners) listener(heard);
    await this.maybeSnapshot();
    return { inputsAccepted: accepted, duplicates, appended, decisionCount, decisionsByType, head: this.position };
  }

  /** Writes a snapshot of the current state at the current head. */
  snapshot(): Promise<number> {
    return this.exclusive(async () => {
      await this.store.saveSnapshot({ position: this.position, state: this.current.snapshot() });
      this.snapshotPosition = this.position;
      return this.position;
    });
  }

  /** A snapshot is an optimisation: failing to save one must not fail a batch that is already durable. */
  private async maybeSnapshot(): Promise<void> {
    const every = this.options.snapshotEvery ?? 0;
    if (every > 0 && this.position - this.snapshotPosition >= every) {
      try {
        await this.store.saveSnapshot({ position: this.position, state: this.current.snapshot() });
        this.snapshotPosition = this.position;
      } catch (error) {
        this.options.warn?.(`snapshot at position ${this.position} not saved: ${(error as Error).message}`);
      }
    }
  }

  /** Rebuilds the engine from the store (after a refused batch left it ahead of the log). */
  private async reload(): Promise<void> {
    const { engine, position, snapshotPosition } = await ShardRunner.load(this.store, { ...this.options, onEvent: undefined });
    this.current = engine;
    this.position = position;
    this.snapshotPosition = snapshotPosition;
  }
}

/**
 * The marks of a run's chunk that came as MarkColumns lines: where each one's canonical JSON is (EncodedEvents, for a
 * store's appendEncoded), and its batch and line, to make its event for a store that takes events only. Grown once,
 * reused by every chunk; a chunk keeps its batches alive until it is appended.
 */
class ChunkMarks implements HeldEncodedEvents {
  count = 0;
  json: Uint8Array[] = [];
  // empty until the first mark: a run of event objects (a server's group commit) allocates no columns
  start = new Int32Array(0);
  end = new Int32Array(0);
  crc = new Int32Array(0);
  held = new Int32Array(0);
  heldLine = new Int32Array(0);
  private batches: MarkColumns[] = [];
  private lines = new Int32Array(0);

  /** Notes line `i` of `batch`; answers its index. */
  add(batch: MarkColumns, i: number): number {
    const k = this.count++;
    if (k === this.lines.length) this.grow();
    this.batches[k] = batch;
    this.lines[k] = i;
    this.held[k] = -1;
    if (batch.json !== undefined) {
      this.json[k] = batch.json;
      this.start[k] = batch.jsonStart![i]!;
      this.end[k] = batch.jsonEnd![i]!;
      this.crc[k] = batch.crc![i]!;
    } else {
      this.start[k] = -1;
      if (batch.held !== undefined && batch.jsonStart![i]! >= 0) {
        this.held[k] = batch.held;
        this.heldLine[k] = i;
      }
    }
    return k;
  }

  /** `entries` with each mark's index replaced by its event (a store without appendEncoded, listeners). */
  events(entries: readonly (ClearingEvent | number)[]): ClearingEvent[] {
    return entries.map((entry) => (typeof entry === 'number' ? (columnInput(this.batches[entry]!, this.lines[entry]!) as ClearingEvent) : entry));
  }

  /** Every mark has its JSON (what appendEncoded takes), here or (`heldToo`: the transaction takes them) held by its decoder. */
  hasAllJson(heldToo: boolean): boolean {
    for (let k = 0; k < this.count; k++) if (this.start[k]! < 0 && !(heldToo && this.held[k]! >= 0)) return false;
    return true;
  }

  clear(): void {
    // forget the batches (their buffers can go) but keep the arrays grown
    for (let k = 0; k < this.count; k++) {
      this.batches[k] = undefined!;
      this.json[k] = undefined!;
    }
    this.count = 0;
  }

  private grow(): void {
    const size = Math.max(1024, 2 * this.lines.length);
    const grown = (from: Int32Array): Int32Array<ArrayBuffer> => {
      const to = new Int32Array(size);
      to.set(from);
      return to;
    };
    this.start = grown(this.start);
    this.end = grown(this.end);
    this.crc = grown(this.crc);
    this.held = grown(this.held);
    this.heldLine = grown(this.heldLine);
    this.lines = grown(this.lines);
  }
}
