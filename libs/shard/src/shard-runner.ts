import { ClearingEngine } from '@clearsim/clearing';
import { InputError, type ClearingEvent, type InputEvent, type Timestamp } from '@clearsim/events';
import type { AppendTransaction, EventStore, StoredEvent } from '@clearsim/store';

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

/** An array of inputs: located one by one, or of one source (SourcedInputs). */
export type InputBatch = readonly LocatedInput[] | SourcedInputs;

/**
 * Inputs handed over an array at a time (a chunk of a file's lines): the run
 * awaits once per array instead of once per input.
 */
export type InputBatches = AsyncIterable<InputBatch> | Iterable<InputBatch>;

/** The batch's inputs one by one, located (for a caller that takes them one at a time). */
export function* locatedInputs(batch: InputBatch): Iterable<LocatedInput> {
  if (isLocatedArray(batch)) yield* batch;
  else for (let i = 0; i < batch.inputs.length; i++) yield { input: batch.inputs[i]!, source: batch.source, line: batch.lines[i] };
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
    let chunk: ClearingEvent[] = [];
    let chunkDecisions: ClearingEvent[] = [];
    const heard: StoredEvent[] = [];
    const decisionsByType: Record<string, number> = {};
    let decisionCount = 0;
    let accepted = 0;
    let duplicates = 0;
    let appended = 0;
    let transaction: AppendTransaction | undefined;
    const flush = async () => {
      if (chunk.length === 0) return;
      transaction ??= await this.store.beginAppend(from);
      await transaction.append(chunk);
      if (this.listeners.size > 0) for (let i = 0; i < chunk.length; i++) heard.push({ position: from + appended + 1 + i, event: chunk[i]! });
      appended += chunk.length;
      const decided = chunkDecisions;
      chunk = [];
      chunkDecisions = [];
      if (options.onDecisions && decided.length > 0) await options.onDecisions(decided);
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
      accepted++;
      const { decisions } = result;
      // log order: the grace timers the input's ts passed (stamped with their deadlines), the input, its decisions
      const beforeInput = result.beforeInput ?? 0;
      if (beforeInput === 0) chunk.push(input);
      if (decisions.length > 0) {
        for (let i = 0; i < decisions.length; i++) {
          const decision = decisions[i]!;
          chunk.push(decision);
          if (i + 1 === beforeInput) chunk.push(input);
          chunkDecisions.push(decision);
          decisionsByType[decision.type] = (decisionsByType[decision.type] ?? 0) + 1;
        }
        decisionCount += decisions.length;
      }
      if (options.onProgress && accepted % 10000 === 0) options.onProgress(accepted);
      return chunk.length >= chunkEvents;
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
    } catch (error) {
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
