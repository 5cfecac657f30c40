import { ClearingEngine } from '@clearsim/clearing';
import { InputError, type ClearingEvent, type InputEvent, type Timestamp } from '@clearsim/events';
import type { EventStore } from '@clearsim/store';

/** An input with where it came from, so a refusal can name the file and line. */
export interface LocatedInput {
  input: InputEvent;
  source?: string;
  line?: number;
}

export interface RunResult {
  inputsAccepted: number;
  duplicates: number;
  decisions: ClearingEvent[];
  appended: number;
  head: number;
}

export interface ReplayOptions {
  /** Stop before the first event later than this time (time travel). */
  at?: Timestamp;
  onEvent?: (event: ClearingEvent, position: number) => void;
}

/**
 * The shard loop of the shell (STYLE habit 6): validate → decide → append.
 * It owns one engine and one store; every clearing decision is the core's.
 * `run` is all or nothing: a refused input fails the whole batch before
 * anything is appended.
 */
export class ShardRunner {
  private constructor(
    readonly store: EventStore,
    readonly engine: ClearingEngine,
    private position: number,
  ) {}

  /** Opens a shard by folding its whole log (replay: decides nothing). */
  static async open(store: EventStore, options: ReplayOptions = {}): Promise<ShardRunner> {
    const engine = new ClearingEngine();
    let position = 0;
    for await (const stored of store.read(1)) {
      if (options.at !== undefined && stored.event.ts > options.at) break;
      engine.apply(stored.event);
      position = stored.position;
      options.onEvent?.(stored.event, stored.position);
    }
    return new ShardRunner(store, engine, position);
  }

  get head(): number {
    return this.position;
  }

  /**
   * Decides every input, then appends inputs and decisions in log order in
   * one durable append. Throws InputError (with source and line) on the first
   * refused input; the store is then untouched.
   */
  async run(inputs: AsyncIterable<LocatedInput> | Iterable<LocatedInput>, onProgress?: (done: number) => void): Promise<RunResult> {
    const log: ClearingEvent[] = [];
    const decisions: ClearingEvent[] = [];
    let accepted = 0;
    let duplicates = 0;
    for await (const { input, source, line } of inputs) {
      let result;
      try {
        result = this.engine.handle(input);
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
    const head = await this.store.append(log, this.position);
    this.position = head;
    return { inputsAccepted: accepted, duplicates, decisions, appended: log.length, head };
  }
}


