import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { contentDifferences, idempotencyKey } from '@clearsim/clearing';
import { decodeEvent, InputError, isDecision, isInput, toCanonicalJson, type InputEvent } from '@clearsim/events';
import { AccessDenied, assertMayWrite, idScopeOf } from '../../auth/access-policy';
import type { Principal } from '../../auth/api-keys';
import { SERVER_OPTIONS, type ServerOptions } from '../../config/server-options';
import { MetricsService } from '../../metrics/metrics.service';
import { IdConflict, InputRefused } from '../input-refused.error';
import { assertHttpInputsAccepted, ShardedInputsRefused } from '../sharded-inputs';
import { ShardService } from '../shard.service';
import { SubmitInputsCommand, type SubmitInputsResult } from './submit-inputs.command';

/**
 * Decodes (400), authorizes (403), refuses inputs in sharded mode (409: they
 * come through Kafka), stamps each input `postedBy` with the caller's id scope
 * (docs/idempotency.md), then hands the inputs to the shard loop
 * (ShardService.submit → `ShardRunner.run`: decide and append, all or
 * nothing). A repeat of an id with other content comes back as IdConflict,
 * answered 409 with the fields that differ from the first version.
 * Decisions are the core's; this only moves them and measures.
 */
@CommandHandler(SubmitInputsCommand)
export class SubmitInputsHandler implements ICommandHandler<SubmitInputsCommand, SubmitInputsResult> {
  constructor(
    private readonly shard: ShardService,
    private readonly metrics: MetricsService,
    @Inject(SERVER_OPTIONS) private readonly options: ServerOptions,
  ) {}

  /** Conflict look-ups read the log: one at a time, so a flood of conflicting repeats costs one reader, never the writer. */
  private lookups: Promise<unknown> = Promise.resolve();

  async execute({ inputs: raws, principal, batch }: SubmitInputsCommand): Promise<SubmitInputsResult> {
    let inputs: InputEvent[];
    try {
      inputs = this.prepare(decodeAll(raws, batch), principal, batch);
    } catch (error) {
      this.metrics.inputsRefused.labels(error instanceof AccessDenied ? 'forbidden' : error instanceof ShardedInputsRefused ? 'sharded' : 'invalid').inc();
      throw error;
    }
    return this.submitPrepared(inputs, batch);
  }

  /**
   * Stamps decoded inputs `postedBy` with the caller's id scope — in place:
   * they are the caller's own, fresh from the codec — and checks that the
   * caller may post them here (AccessDenied, ShardedInputsRefused); counts
   * nothing. The fast route of POST /v1/inputs (fast-inputs.route.ts) calls
   * it too, and leaves any refusal to `execute`.
   */
  prepare(decoded: InputEvent[], principal: Principal, batch: boolean): InputEvent[] {
    const postedBy = idScopeOf(principal);
    for (const input of decoded) input.postedBy = postedBy;
    assertMayWrite(principal, decoded, batch);
    assertHttpInputsAccepted(this.options.kafka, decoded, batch);
    return decoded;
  }

  /** Decides and durably appends prepared inputs (all or nothing), then answers with what was appended; refusals come back as the errors the filter maps. */
  async submitPrepared(inputs: InputEvent[], batch: boolean): Promise<SubmitInputsResult> {
    const stopTimer = this.metrics.appendLatency.startTimer();
    try {
      const committed = await this.shard.submit(inputs, batch);
      stopTimer();
      const events = committed.events;
      const decisions: Record<string, unknown>[] = [];
      for (const { position, event } of events) if (isDecision(event)) decisions.push({ position, ...toCanonicalJson(event) });
      return {
        accepted: committed.accepted,
        duplicates: committed.duplicates,
        appended: events.length === 0 ? null : { from: events[0]!.position, to: events[events.length - 1]!.position },
        head: committed.head,
        decisions,
      };
    } catch (error) {
      if (error instanceof InputRefused) this.metrics.inputsRefused.labels(error.code).inc();
      if (error instanceof IdConflict) throw await this.withFirstVersion(error, inputs);
      throw error;
    }
  }

  /**
   * Finds the first version of a conflicting id — earlier in the same
   * submission, or in the log (a forward scan: the shard keeps only a digest
   * per id) — and names the fields that differ.
   */
  private withFirstVersion(conflict: IdConflict, submitted: readonly InputEvent[]): Promise<IdConflict> {
    const look = async (): Promise<IdConflict> => {
      const before = conflict.index === undefined ? -1 : submitted.slice(0, conflict.index).findIndex((input) => idempotencyKey(input) === conflict.key);
      if (before >= 0) return conflict.withFirst({ index: before, differences: contentDifferences(submitted[before]!, conflict.repeat) });
      const store = this.shard.store;
      for await (const { position, event } of store.read(1, { toPosition: this.shard.head })) {
        if (isInput(event) && idempotencyKey(event) === conflict.key) return conflict.withFirst({ position, differences: contentDifferences(event, conflict.repeat) });
      }
      return conflict;
    };
    const next = this.lookups.then(look, look);
    this.lookups = next.catch(() => undefined);
    return next.catch(() => conflict);
  }
}

/** Decodes every item with the codec (as the CLI and Kafka do), collecting the issues of all of them into one InputError. */
function decodeAll(raws: readonly unknown[], batch: boolean): InputEvent[] {
  const inputs: InputEvent[] = [];
  const issues: { field: string; message: string }[] = [];
  raws.forEach((raw, i) => {
    if (typeof raw === 'object' && raw !== null && Object.hasOwn(raw, 'postedBy')) {
      // the scope of the input's ids comes from the API key, never from the body
      issues.push({ field: batch ? `[${i}].postedBy` : 'postedBy', message: 'is set by the server from the API key (the scope of the input\'s ids); do not send it' });
      return;
    }
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
