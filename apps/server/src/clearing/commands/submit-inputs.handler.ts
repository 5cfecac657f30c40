import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { InputRejected, validateInput } from '@clearsim/clearing';
import { decodeEvent, InputError, isDecision, toCanonicalJson, type InputEvent } from '@clearsim/events';
import type { LocatedInput, ShardRunner } from '@clearsim/shard';
import type { StoredEvent } from '@clearsim/store';
import { AccessDenied, assertMayWrite } from '../../auth/access-policy';
import { MetricsService } from '../../metrics/metrics.service';
import { InputRefused } from '../input-refused.error';
import { ShardService } from '../shard.service';
import { SubmitInputsCommand, type SubmitInputsResult } from './submit-inputs.command';

/**
 * Decodes (400), authorizes (403), then hands the inputs to the shard loop
 * (`ShardRunner.run`: decide and append, all or nothing). Decisions are the
 * core's; this only moves them and measures.
 */
@CommandHandler(SubmitInputsCommand)
export class SubmitInputsHandler implements ICommandHandler<SubmitInputsCommand, SubmitInputsResult> {
  constructor(
    private readonly shard: ShardService,
    private readonly metrics: MetricsService,
  ) {}

  async execute({ inputs: raws, principal, batch }: SubmitInputsCommand): Promise<SubmitInputsResult> {
    let inputs: InputEvent[];
    try {
      inputs = decodeAll(raws, batch);
      assertMayWrite(principal, inputs, batch);
    } catch (error) {
      this.metrics.inputsRefused.labels(error instanceof AccessDenied ? 'forbidden' : 'invalid').inc();
      throw error;
    }
    const runner = this.shard.runner;
    const pull: Pull = { index: 0 };
    const stopTimer = this.metrics.appendLatency.startTimer();
    try {
      const result = await runner.run(pulledInOrder(runner, inputs, pull));
      stopTimer();
      const appended = pull.appended ?? [];
      return {
        accepted: result.inputsAccepted,
        duplicates: result.duplicates,
        appended: result.appended === 0 ? null : { from: result.head - result.appended + 1, to: result.head },
        head: result.head,
        decisions: appended.filter(({ event }) => isDecision(event)).map(({ position, event }) => ({ position, ...toCanonicalJson(event) })),
      };
    } catch (error) {
      if (error instanceof InputRejected) {
        this.metrics.inputsRefused.labels(error.code).inc();
        const issue = error.issues[0];
        throw new InputRefused(error.code, issue?.field ?? '', issue?.message ?? error.message, batch ? pull.index : undefined);
      }
      throw error;
    } finally {
      pull.stopListening?.();
    }
  }
}

/** Where the runner is in pulling a submission's inputs, and what it appended. */
interface Pull {
  index: number;
  appended?: readonly StoredEvent[];
  stopListening?: () => void;
}

/** Decodes every item with the codec (as the CLI and Kafka do), collecting the issues of all of them into one InputError. */
function decodeAll(raws: readonly unknown[], batch: boolean): InputEvent[] {
  const inputs: InputEvent[] = [];
  const issues: { field: string; message: string }[] = [];
  raws.forEach((raw, i) => {
    try {
      inputs.push(decodeEvent(raw, 'input') as InputEvent);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      for (const issue of error.issues) {
        const field = batch ? (issue.field ? `[${i}].${issue.field}` : `[${i}]`) : issue.field || 'body';
        issues.push({ field, message: issue.message });
      }
    }
  });
  if (issues.length > 0) throw new InputError(issues);
  return inputs;
}

/**
 * Yields the inputs to the runner one at a time. The runner folds each input
 * before it pulls the next, so when item i is pulled the engine holds exactly
 * the state it will be decided against: the core's own `validateInput` runs on
 * it there, so a refusal keeps its reason code and the index of the item (the
 * runner re-wraps errors of its own step as plain InputErrors). Throwing here
 * makes the runner append nothing and roll back, as for any refusal. After the
 * last input it listens for the append, to answer with the decisions' positions.
 */
function* pulledInOrder(runner: ShardRunner, inputs: readonly InputEvent[], pull: Pull): Iterable<LocatedInput> {
  for (let i = 0; i < inputs.length; i++) {
    pull.index = i;
    validateInput(runner.engine.state, inputs[i]!);
    yield { input: inputs[i]!, source: 'request body', line: i + 1 };
  }
  // Every input is decided and the runner appends next, in this same exclusive
  // turn of the shard: the next append its listeners hear of is this one.
  pull.stopListening = runner.onAppended((events) => {
    pull.appended = events;
    pull.stopListening?.();
  });
}
