import { IdConflictRejected, InputRejected, validateInput } from '@clearsim/clearing';
import type { InputEvent } from '@clearsim/events';
import type { LocatedInput, ShardRunner } from '@clearsim/shard';
import type { StoredEvent } from '@clearsim/store';
import { IdConflict, InputRefused } from './input-refused.error';

/** What one submission appended: its inputs (repeats left out), each preceded by the grace timers its `ts` passed and followed by its decisions, in log order. */
export interface Committed {
  accepted: number;
  duplicates: number;
  events: StoredEvent[];
  head: number;
}

interface Submission {
  inputs: readonly InputEvent[];
  /** Name a refused input by its index (a batch). */
  indexed: boolean;
  resolve(committed: Committed): void;
  reject(error: unknown): void;
}

/** Most single-input submissions decided and appended together. */
const MAX_GROUP = 1000;

/** The commit delay of `clearsim serve` (µs), from the B5 measurements in docs/performance.md. */
export const DEFAULT_COMMIT_DELAY_MICROS = 1000;
/** Other submissions that must be about for the delay to apply. */
export const DEFAULT_COMMIT_SIBLINGS = 1;
/**
 * How long (in delays) other clients count as about once seen: a group
 * decided and made durable faster than the next request is read sees no
 * arrival even with many clients sending.
 */
const SIBLINGS_MEMORY = 10;

export interface GroupCommitOptions {
  /**
   * A bounded commit delay (PostgreSQL's `commit_delay`): a group starts no
   * sooner than this many µs after the previous group started, while other
   * submissions are about (`commitSiblings`), so one append and one fsync
   * serve more inputs. The event loop keeps reading requests meanwhile; the
   * wait is only what is left of the delay after the previous commit, so a
   * commit slower than the delay adds nothing. 0: no delay. Default 0.
   */
  commitDelayMicros?: number;
  /**
   * The delay applies only when other clients are about (PostgreSQL's
   * `commit_siblings`): at least this many submissions came in while a group
   * was being gathered, decided and made durable, in the last
   * SIBLINGS_MEMORY delays. A lone client's next request comes after its
   * answer, so it is never delayed. Default 1.
   */
  commitSiblings?: number;
  /** A monotonic clock in ms (performance.now), for tests. */
  now?: () => number;
}

/**
 * Group commit in front of the shard loop. Submissions wait in arrival order;
 * while one append is being made durable, the single-input submissions that
 * arrive meanwhile gather, and the next `runner.run` decides them one after
 * the other and appends them in one durable append (one fsync for all).
 * Decisions are exactly those of submitting them one by one in that order:
 * the runner still decides input by input; only the appends are shared.
 *
 * Atomicity is per submission: a multi-input submission (a batch) always runs
 * alone, all or nothing. In a group, each input is checked with the core's
 * `validateInput` against the state it is about to be decided on (the runner
 * folds each input before it pulls the next); a refused one is left out and
 * its submission alone is refused. Every submission is answered only after the
 * append that holds it is durable.
 */
export class GroupCommitQueue {
  private readonly waiting: Submission[] = [];
  private draining?: Promise<void>;
  private readonly delayMs: number;
  private readonly siblings: number;
  private readonly now: () => number;
  /** When the last group was taken (`now()`). */
  private lastGroupAt = -Infinity;
  /** A group is being gathered, decided and made durable (until its answers go out); how many submissions came in meanwhile. */
  private busy = false;
  private cameWhileBusy = 0;
  /** Other clients count as about until then (`now()`). */
  private siblingsUntil = -Infinity;

  constructor(
    private readonly runner: ShardRunner,
    options: GroupCommitOptions = {},
  ) {
    this.delayMs = (options.commitDelayMicros ?? 0) / 1000;
    this.siblings = options.commitSiblings ?? DEFAULT_COMMIT_SIBLINGS;
    this.now = options.now ?? (() => performance.now());
  }

  submit(inputs: readonly InputEvent[], indexed: boolean): Promise<Committed> {
    return new Promise<Committed>((resolve, reject) => {
      this.waiting.push({ inputs, indexed, resolve, reject });
      if (this.busy) this.cameWhileBusy++;
      this.draining ??= this.drain();
    });
  }

  /** Resolves once every submission made so far is answered. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        this.busy = true;
        try {
          if (this.delayMs > 0 && this.now() <= this.siblingsUntil) await this.gather();
          const group = this.nextGroup();
          this.lastGroupAt = this.now();
          await this.commit(group);
        } finally {
          this.busy = false;
        }
        if (this.cameWhileBusy >= this.siblings) this.siblingsUntil = this.now() + SIBLINGS_MEMORY * this.delayMs;
        this.cameWhileBusy = 0;
      }
    } finally {
      this.draining = undefined;
    }
  }

  /**
   * The commit delay: lets the event loop read more requests (a `setImmediate`
   * turn at a time: timers cannot wait less than 1 ms) until the delay after
   * the last group's start has passed, or a group is full.
   */
  private gather(): Promise<void> {
    const until = this.lastGroupAt + this.delayMs;
    if (this.now() >= until) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => (this.now() >= until || this.waiting.length >= MAX_GROUP ? resolve() : setImmediate(check));
      setImmediate(check);
    });
  }

  /** The next batch alone, or the single-input submissions at the head of the queue. */
  private nextGroup(): Submission[] {
    const first = this.waiting.shift()!;
    const group = [first];
    if (first.inputs.length !== 1) return group;
    while (group.length < MAX_GROUP && this.waiting[0]?.inputs.length === 1) group.push(this.waiting.shift()!);
    return group;
  }

  /** Decides and appends a group, then answers each of its submissions. Never throws. */
  private async commit(group: Submission[]): Promise<void> {
    const runner = this.runner;
    const alone = group.length === 1;
    const owner = new Map<InputEvent, Submission>();
    const refused = new Map<Submission, InputRefused>();
    const listening: { appended: readonly StoredEvent[]; stop?: () => void } = { appended: [] };

    function* pulled(): Iterable<LocatedInput> {
      for (const submission of group) {
        for (let i = 0; i < submission.inputs.length; i++) {
          const input = submission.inputs[i]!;
          try {
            validateInput(runner.engine.state, input);
          } catch (error) {
            if (!(error instanceof InputRejected)) throw error;
            const refusal = refusalOf(error, input, submission.indexed ? i : undefined);
            // alone, the submission is all or nothing: stop, and the runner appends nothing
            if (alone) throw refusal;
            refused.set(submission, refusal);
            continue;
          }
          owner.set(input, submission);
          yield { input, source: 'request body', line: i + 1 };
        }
      }
      // every input is decided; the runner appends next, in this same exclusive turn of the shard
      listening.stop = runner.onAppended((events) => {
        listening.appended = events;
        listening.stop?.();
      });
    }

    let head: number;
    try {
      head = (await runner.run(pulled())).head;
    } catch (error) {
      this.busy = false; // what the answers bring back (an in-process caller's next submission) is not another client
      for (const submission of group) submission.reject(error);
      return;
    } finally {
      listening.stop?.();
    }

    // the runner logs each accepted input (the object it was given) preceded by the grace timers its ts passed
    // (they always begin with a GracePeriodExpired, and no decision after an input is one) and followed by its decisions
    const events = new Map<Submission, StoredEvent[]>();
    const add = (submission: Submission | undefined, stored: readonly StoredEvent[]) => {
      if (!submission || stored.length === 0) return;
      const own = events.get(submission);
      if (own) own.push(...stored);
      else events.set(submission, [...stored]);
    };
    let current: Submission | undefined;
    let since: StoredEvent[] = []; // decisions logged since the last input
    for (const stored of listening.appended) {
      const next = owner.get(stored.event as InputEvent);
      if (!next) {
        since.push(stored);
        continue;
      }
      const timers = since.findIndex((s) => s.event.type === 'GracePeriodExpired');
      add(current, timers < 0 ? since : since.slice(0, timers));
      add(next, timers < 0 ? [] : since.slice(timers));
      add(next, [stored]);
      current = next;
      since = [];
    }
    add(current, since);
    this.busy = false; // what the answers bring back (an in-process caller's next submission) is not another client
    for (const submission of group) {
      const refusal = refused.get(submission);
      if (refusal) {
        submission.reject(refusal);
        continue;
      }
      const own = events.get(submission) ?? [];
      const accepted = own.filter((stored) => owner.has(stored.event as InputEvent)).length;
      submission.resolve({ accepted, duplicates: submission.inputs.length - accepted, events: own, head });
    }
  }
}

function refusalOf(error: InputRejected, input: InputEvent, index: number | undefined): InputRefused {
  const issue = error.issues[0];
  if (error instanceof IdConflictRejected) return new IdConflict(issue?.field ?? '', issue?.message ?? error.message, index, error.key, input);
  return new InputRefused(error.code, issue?.field ?? '', issue?.message ?? error.message, index);
}
