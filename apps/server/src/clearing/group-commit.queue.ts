import { IdConflictRejected, InputRejected, validateInput } from '@clearsim/clearing';
import type { InputEvent } from '@clearsim/events';
import type { LocatedInput, PipelinedRunResult, ShardRunner } from '@clearsim/shard';
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
 *
 * Pipelined: a group's turn of the shard ends once its append is written
 * (`runner.runPipelined`), so the next group is decided — on the state after
 * this one, as before — and written while this one's fsync is in flight; each
 * group is answered when its own `durable` resolves (fsyncs complete in log
 * order). If a fsync fails, that group and every group written after it are
 * refused with the error (the store refuses appends from then on).
 */
export class GroupCommitQueue {
  private readonly waiting: Submission[] = [];
  private draining?: Promise<void>;
  /** Groups decided and written, waiting for their append to be durable before they are answered. */
  private readonly answering = new Set<Promise<void>>();

  constructor(private readonly runner: ShardRunner) {}

  submit(inputs: readonly InputEvent[], indexed: boolean): Promise<Committed> {
    return new Promise<Committed>((resolve, reject) => {
      this.waiting.push({ inputs, indexed, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  /** Resolves once every submission made so far is answered. */
  async idle(): Promise<void> {
    while (this.draining || this.answering.size > 0) {
      if (this.draining) await this.draining;
      await Promise.all(this.answering);
    }
  }

  private async drain(): Promise<void> {
    try {
      // at most two groups in flight: N+1 is decided and written while N's fsync runs; N+2 waits for N (and gathers meanwhile)
      let previous: Promise<void> | undefined;
      while (this.waiting.length > 0) {
        const written = await this.commit(this.nextGroup());
        await previous;
        previous = written?.answered;
      }
    } finally {
      this.draining = undefined;
    }
  }

  /** The next batch alone, or the single-input submissions at the head of the queue. */
  private nextGroup(): Submission[] {
    const first = this.waiting.shift()!;
    const group = [first];
    if (first.inputs.length !== 1) return group;
    while (group.length < MAX_GROUP && this.waiting[0]?.inputs.length === 1) group.push(this.waiting.shift()!);
    return group;
  }

  /** Decides and writes a group; once it is durable, answers each of its submissions. Never throws. */
  private async commit(group: Submission[]): Promise<{ answered: Promise<void> } | undefined> {
    const runner = this.runner;
    const alone = group.length === 1;
    const owner = new Map<InputEvent, Submission>();
    const refused = new Map<Submission, InputRefused>();

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
    }

    let result: PipelinedRunResult;
    try {
      result = await runner.runPipelined(pulled());
    } catch (error) {
      for (const submission of group) submission.reject(error);
      return;
    }
    const answered = result.durable.then(
      () => answer(group, owner, refused, result),
      (error: unknown) => {
        for (const submission of group) submission.reject(error);
      },
    );
    this.answering.add(answered);
    void answered.finally(() => this.answering.delete(answered));
    return { answered };
  }
}

/** Answers a group once its append is durable: each submission its own events, or its refusal. */
function answer(group: readonly Submission[], owner: ReadonlyMap<InputEvent, Submission>, refused: ReadonlyMap<Submission, InputRefused>, result: PipelinedRunResult): void {
  const head = result.head;

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
  for (const stored of result.events) {
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

function refusalOf(error: InputRejected, input: InputEvent, index: number | undefined): InputRefused {
  const issue = error.issues[0];
  if (error instanceof IdConflictRejected) return new IdConflict(issue?.field ?? '', issue?.message ?? error.message, index, error.key, input);
  return new InputRefused(error.code, issue?.field ?? '', issue?.message ?? error.message, index);
}
