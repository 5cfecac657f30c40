import { applyDecorators, Body, Controller, HttpCode, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '../auth/api-keys';
import { Caller } from '../auth/auth.decorators';
import { ApiErrorResponses, ApiGuardedRoute, ApiJsonBodyRoute } from '../common/api-responses';
import { SubmitInputsCommand, type SubmitInputsResult } from './commands/submit-inputs.command';
import { INPUT_DTO_CLASSES, INPUT_EVENT_SCHEMA } from './dto/input-events.dto';
import { SubmitInputsResponse } from './dto/submit-inputs.response';
import { BatchInputPipe, SingleInputPipe } from './input-event.pipe';

const SUBMITTED_EXAMPLE = {
  accepted: 1,
  duplicates: 0,
  appended: { from: 7, to: 8 },
  head: 8,
  decisions: [{ position: 8, type: 'MarginCallIssued', v: 1, ts: '2026-01-01T00:02:00Z', account: 'a-alice', amount: '495', deadline: '2026-01-01T01:02:00Z', equity: '450', initialMargin: '945', maintenanceMargin: '472.5' }],
};

/** The answers of both routes: the submission's result, or why nothing was appended. */
const ApiSubmission = () =>
  applyDecorators(
    ApiOkResponse({ description: 'Appended (or ignored as a repeat). The decisions the input caused, with their log positions.', type: SubmitInputsResponse, example: SUBMITTED_EXAMPLE }),
    ApiGuardedRoute(),
    ApiJsonBodyRoute(),
    ApiErrorResponses(
      [403, 'A venue key posting a market-wide input or an account outside its prefix; nothing was appended.'],
      [409, 'A repeat of an idempotency key (tradeId, requestId, eventId; scoped to the posting key) with other content: the first version stands; `code: id-conflict`, `field`, and `conflict` {position | index, differences: [{field, first, repeat}]} (docs/idempotency.md). Also: the server is one shard of several (inputs come through Kafka only). Nothing was appended.'],
      [422, 'The core refused an input against the current state (reason `code`); nothing of the submission was appended.'],
    ),
  );

/** Inputs in: one event, or an atomic batch. */
@ApiTags('inputs')
@ApiExtraModels(...INPUT_DTO_CLASSES)
@Controller({ path: 'inputs', version: '1' })
export class InputsController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Post one input event',
    description:
      'Validated (400 listing every field error), authorized (venue keys: Deposited, WithdrawalRequested, TradeExecuted and MultiLegTradeExecuted on their own accounts only), then decided and durably appended with its decisions before the answer. ' +
      'Idempotency (docs/idempotency.md): the key is `tradeId` for a trade, `requestId` for a withdrawal request, else `eventId` (a Deposited without one is keyed by account, asset, amount and ts; other inputs without one are applied each time they are posted), scoped to the posting key (admin, or venue:<prefix>) and logged as `postedBy` — set by the server; a body that sends it gets 400. ' +
      'A repeat with the same content is ignored (200, `duplicates: 1`, nothing appended); with other content it is a 409 listing the differing fields.',
  })
  @ApiBody({
    schema: INPUT_EVENT_SCHEMA,
    examples: {
      deposit: { value: { type: 'Deposited', ts: '2026-01-01T00:00:00Z', account: 'a-alice', asset: 'USD', amount: '1000' } },
      price: { value: { type: 'PriceUpdated', ts: '2026-01-01T00:00:00Z', instrument: 'BTC-PERP', price: '10000' } },
      trade: { value: { type: 'TradeExecuted', ts: '2026-01-01T00:01:00Z', tradeId: 't1', instrument: 'BTC-PERP', buyer: 'a-alice', seller: 'a-mm', qty: '1', price: '10000' } },
      marketMove: {
        value: {
          type: 'MarketMoved',
          ts: '2026-01-01T00:02:00Z',
          marks: [
            { instrument: 'BTC', price: '9900' },
            { instrument: 'BTC-PERP', price: '9905' },
          ],
          volatilities: [{ underlying: 'BTC', volatility: '0.6' }],
        },
      },
      spread: {
        value: {
          type: 'MultiLegTradeExecuted',
          ts: '2026-01-01T00:03:00Z',
          tradeId: 'cal-1',
          legs: [
            { instrument: 'BTC-PERP', buyer: 'a-alice', seller: 'a-mm', qty: '1', price: '10000' },
            { instrument: 'BTC-0327', buyer: 'a-mm', seller: 'a-alice', qty: '1', price: '10100' },
          ],
        },
      },
    },
  })
  @ApiSubmission()
  submit(@Body(SingleInputPipe) inputs: unknown[], @Caller() principal: Principal): Promise<SubmitInputsResult> {
    return this.commandBus.execute(new SubmitInputsCommand(inputs, principal, false));
  }

  @Post('batch')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Post a batch of input events, atomically',
    description:
      'All or nothing: one invalid, forbidden, refused or conflicting item refuses the whole batch (its index in the field: `[2].price`) and nothing is appended. Decided in order, appended in one durable append. Idempotency as for POST /v1/inputs: repeats within the batch or of earlier inputs are counted in `duplicates`; a conflict names the first version by log position or batch index.',
  })
  @ApiBody({
    schema: { type: 'array', items: INPUT_EVENT_SCHEMA },
    examples: {
      deposits: {
        value: [
          { type: 'Deposited', ts: '2026-01-01T00:00:00Z', account: 'a-alice', asset: 'USD', amount: '1000' },
          { type: 'Deposited', ts: '2026-01-01T00:00:00Z', account: 'a-mm', asset: 'USD', amount: '1000000' },
        ],
      },
    },
  })
  @ApiSubmission()
  submitBatch(@Body(BatchInputPipe) inputs: unknown[], @Caller() principal: Principal): Promise<SubmitInputsResult> {
    return this.commandBus.execute(new SubmitInputsCommand(inputs, principal, true));
  }
}
