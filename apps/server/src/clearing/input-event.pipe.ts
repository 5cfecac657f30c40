import { Inject, Injectable, type PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { fastDecodeInput, INPUT_TYPES, isInputType } from '@clearsim/events';
import { badRequest, validationMessages } from '../common/validation';
import { DEFAULT_MAX_BATCH, SERVER_OPTIONS, type ServerOptions } from '../config/server-options';
import { MetricsService } from '../metrics/metrics.service';
import { INPUT_DTOS } from './dto/input-events.dto';

/**
 * Validates the body of POST /v1/inputs (one event) or /v1/inputs/batch (a
 * non-empty array): `type` first, then the DTO of that type, collecting
 * every field error of every item before answering 400 (`[2].price: must be
 * greater than 0`). Passes the items on untouched: the command handler
 * decodes them with the codec.
 */
abstract class InputEventPipe implements PipeTransform<unknown, unknown[]> {
  constructor(
    private readonly batch: boolean,
    private readonly maxBatch: number,
    private readonly metrics: MetricsService,
  ) {}

  transform(body: unknown): unknown[] {
    let items: unknown[];
    if (this.batch) {
      if (!Array.isArray(body)) throw this.refuse(['body: must be a JSON array of input events']);
      if (body.length === 0) throw this.refuse(['body: must hold at least one input event']);
      if (body.length > this.maxBatch) throw this.refuse([`body: at most ${this.maxBatch} input events per batch (got ${body.length})`]);
      items = body;
    } else {
      items = [body];
    }
    const messages = items.flatMap((item, i) => validateInput(item, this.batch ? `[${i}]` : ''));
    if (messages.length > 0) throw this.refuse(messages);
    return items;
  }

  private refuse(messages: string[]) {
    this.metrics.inputsRefused.labels('invalid').inc();
    return badRequest(messages);
  }
}

@Injectable()
export class SingleInputPipe extends InputEventPipe {
  constructor(metrics: MetricsService) {
    super(false, 1, metrics);
  }
}

@Injectable()
export class BatchInputPipe extends InputEventPipe {
  constructor(@Inject(SERVER_OPTIONS) options: ServerOptions, metrics: MetricsService) {
    super(true, options.maxBatch ?? DEFAULT_MAX_BATCH, metrics);
  }
}

/** The verdict of the DTOs (class-validator): `path: problem` lines, none if the item is a valid input event. */
export function validateInput(item: unknown, prefix: string): string[] {
  if (takenByFastPath(item)) return [];
  return validateByDto(item, prefix);
}

/**
 * Whether the item is a hot input of the plain shape the codec's fast
 * decoder takes (libs/events/src/fast-codec.ts: a PriceUpdated, TradeExecuted,
 * Deposited or ClockAdvanced with exactly its own fields, plain decimal
 * strings, a `…Z` timestamp of a real date), and carries no `postedBy`
 * (which the DTOs refuse as an unknown field). The DTOs accept every such
 * item — input-event.pipe.unit.spec.ts checks it on random inputs and on the
 * validation corpus — so class-validator, ~10 % of the server's time per
 * request, runs only on the others, and it alone words every 400.
 */
export function takenByFastPath(item: unknown): boolean {
  return typeof item === 'object' && item !== null && !Object.hasOwn(item, 'postedBy') && fastDecodeInput(item) !== undefined;
}

/** class-validator's verdict alone: the authority takenByFastPath must agree with. */
export function validateByDto(item: unknown, prefix: string): string[] {
  const at = (field: string) => (prefix === '' ? field : `${prefix}.${field}`);
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return [`${prefix || 'body'}: must be a JSON object (an input event)`];
  const type = (item as { type?: unknown }).type;
  if (typeof type !== 'string' || !isInputType(type)) {
    const got = type === undefined ? 'is required' : `${JSON.stringify(type)} is not an input type`;
    return [`${at('type')}: ${got}; one of ${INPUT_TYPES.join(', ')}`];
  }
  const dto = plainToInstance(INPUT_DTOS[type], item);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true });
  return validationMessages(errors, prefix);
}
