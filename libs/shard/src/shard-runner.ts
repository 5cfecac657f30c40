import { ClearingEngine } from '@clearsim/clearing';
import { InputError, type ClearingEvent, type InputEvent, type Timestamp } from '@clearsim/events';
import type { EventStore, StoredEvent } from '@clearsim/store';

/** An input with where it came from, so a refusal can name the file and line. */
export interface LocatedInput {
  input: InputEvent;
  source?: string;
  line?: number;
}

export interface RunResult {
  inputsAccepted: number;
  duplicates: number;
  /** How many events this call appended (inputs and decisions), from `head − appended + 1` to `head`. */
  appended: number;
  decisions: ClearingEvent[];
  head: number;
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
 * core's. Calls are serialized (one writer per shard). `run` is all or
 * nothing: a refused input fails the whole batch before anything is appended,
 * and the engine is rebuilt from the store so it holds exactly what the log
 * holds. Listeners (SSE, Kafka producer, metrics) hear of events only after
 * they are durable.
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
   * Decides every input, then appends inputs and decisions in log order in
   * one durable append. Throws InputError (with source and line) on the first
   * refused input; the store is then untouched and the engine rebuilt from it
   * (unless nothing had been folded yet).
   */
  run(inputs: AsyncIterable<LocatedInput> | Iterable<LocatedInput>, onProgress?: (done: number) => void): Promise<RunResult> {
    return this.exclusive(async () => {
      const log: ClearingEvent[] = [];
      const decisions: ClearingEvent[] = [];
      let accepted = 0;
      let duplicates = 0;
      try {
        for await (const { input, source, line } of inputs) {
          let result;
          try {
            result = this.current.handle(input);
          } catch (error) {
            if (error instanceof InputError) throw error.withLocation(source, line);
            throw error;
          }
          if (result.duplicate) {
            duplicates++;
            continue;
          }
          accepted++;
          log.push(input, ...result.decisions);
          decisions.push(...result.decisions);
          if (onProgress && accepted % 10000 === 0) onProgress(accepted);
        }
        const from = this.position;
        this.position = await this.store.append(log, from);
        if (this.listeners.size > 0) {
          const appended = log.map((event, i) => ({ position: from + 1 + i, event }));
          for (const listener of this.listeners) listener(appended);
        }
        await this.maybeSnapshot();
        return { inputsAccepted: accepted, duplicates, appended: log.length, decisions, head: this.position };
      } catch (error) {
        // the core refuses an input before changing anything: a batch refused at its first input left the engine
        // as the log has it (a bad single request costs no reload); anything else is rebuilt from the store
        const untouched = error instanceof InputError && log.length === 0 && accepted === 0 && duplicates === 0;
        if (!untouched) await this.reload();
        throw error;
      }
    });
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
