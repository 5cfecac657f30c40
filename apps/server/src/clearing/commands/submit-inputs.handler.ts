import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { decodeEvent, InputError, isDecision, toCanonicalJson, type InputEvent } from '@clearsim/events';
import { AccessDenied, assertMayWrite } from '../../auth/access-policy';
import { SERVER_OPTIONS, type ServerOptions } from '../../config/server-options';
import { MetricsService } from '../../metrics/metrics.service';
import { InputRefused } from '../input-refused.error';
import { assertHttpInputsAccepted, ShardedInputsRefused } from '../sharded-inputs';
import { ShardService } from '../shard.service';
import { SubmitInputsCommand, type SubmitInputsResult } from './submit-inputs.command';

/**
 * Decodes (400), authorizes (403), refuses inputs in sharded mode (409: they
 * come through Kafka), then hands the inputs to the shard loop
 * (ShardService.submit → `ShardRunner.run`: decide and append, all or
 * nothing). Decisions are the core's; this only moves them and measures.
 */
@CommandHandler(SubmitInputsCommand)
export class SubmitInputsHandler implements ICommandHandler<SubmitInputsCommand, SubmitInputsResult> {
  constructor(
    private readonly shard: ShardService,
    private readonly metrics: MetricsService,
    @Inject(SERVER_OPTIONS) private readonly options: ServerOptions,
  ) {}

  async execute({ inputs: raws, principal, batch }: SubmitInputsCommand): Promise<SubmitInputsResult> {
    let inputs: InputEvent[];
    try {
      inputs = decodeAll(raws, batch);
      assertMayWrite(principal, inputs, batch);
      assertHttpInputsAccepted(this.options.kafka, inputs, batch);
    } catch (error) {
      this.metrics.inputsRefused.labels(error instanceof AccessDenied ? 'forbidden' : error instanceof ShardedInputsRefused ? 'sharded' : 'invalid').inc();
      throw error;
    }
    const stopTimer = this.metrics.appendLatency.startTimer();
    try {
      const committed = await this.shard.submit(inputs, batch);
      stopTimer();
      const first = committed.events[0]?.position;
      return {
        accepted: committed.accepted,
        duplicates: committed.duplicates,
        appended: first === undefined ? null : { from: first, to: committed.events[committed.events.length - 1]!.position },
        head: committed.head,
        decisions: committed.events.filter(({ event }) => isDecision(event)).map(({ position, event }) => ({ position, ...toCanonicalJson(event) })),
      };
    } catch (error) {
      if (error instanceof InputRefused) this.metrics.inputsRefused.labels(error.code).inc();
      throw error;
    }
  }
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
