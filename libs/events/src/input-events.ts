import { z } from 'zod';
import { fixed, positiveFixed } from '@clearsim/rules';
import { timestamp } from './timestamp';

/**
 * Inputs: facts from outside. Every input has `type` and `ts`; an optional
 * `eventId` is the idempotency key of inputs without a natural one (trades
 * have `tradeId`, withdrawal requests `requestId`); see docs/idempotency.md.
 */
const id = z.string().min(1, 'must not be empty');
/**
 * `postedBy`: who posted the input — `admin`, `venue:<prefix>` or `kafka` —
 * the scope of its idempotency key. Written by the server and the Kafka worker
 * (a client that sends it is refused), logged with the input so replay
 * decides repeats as live did; absent on inputs of the CLI's files.
 */
const base = { ts: timestamp, eventId: id.optional(), postedBy: id.optional(), v: z.literal(1).optional() };

export const RulesActivatedSchema = z.strictObject({
  type: z.literal('RulesActivated'),
  ...base,
  // validated in depth by @clearsim/rules (kept raw here so the log records it as written)
  rules: z.record(z.string(), z.unknown()),
});

export const InstrumentListedSchema = z.strictObject({
  type: z.literal('InstrumentListed'),
  ...base,
  instrument: id,
  kind: z.enum(['perpetual', 'future', 'option', 'index']),
  underlying: id.optional(),
  settlementAsset: id.default('USD'),
  multiplier: positiveFixed.default(100_000_000n),
  expiry: timestamp.optional(),
  optionType: z.enum(['call', 'put']).optional(),
  strike: positiveFixed.optional(),
});

export const DepositedSchema = z.strictObject({
  type: z.literal('Deposited'),
  ...base,
  account: id,
  asset: id,
  amount: positiveFixed,
});

export const WithdrawalRequestedSchema = z.strictObject({
  type: z.literal('WithdrawalRequested'),
  ...base,
  requestId: id,
  account: id,
  asset: id,
  amount: positiveFixed,
});

export const PriceUpdatedSchema = z.strictObject({
  type: z.literal('PriceUpdated'),
  ...base,
  instrument: id,
  price: positiveFixed,
});

export const TradeExecutedSchema = z
  .strictObject({
    type: z.literal('TradeExecuted'),
    ...base,
    tradeId: id,
    instrument: id,
    buyer: id,
    seller: id,
    qty: positiveFixed,
    price: positiveFixed,
    // a negative fee is a rebate paid by the fee account
    buyerFee: fixed.default(0n),
    sellerFee: fixed.default(0n),
  })
  .refine((t) => t.buyer !== t.seller, { message: 'buyer and seller must be different accounts', path: ['seller'] });

export const FundingRateAppliedSchema = z.strictObject({
  type: z.literal('FundingRateApplied'),
  ...base,
  instrument: id,
  rate: fixed,
});

export const InstrumentSettledSchema = z.strictObject({
  type: z.literal('InstrumentSettled'),
  ...base,
  instrument: id,
  price: positiveFixed,
});

export const VolatilityUpdatedSchema = z.strictObject({
  type: z.literal('VolatilityUpdated'),
  ...base,
  underlying: id,
  volatility: positiveFixed,
  strike: positiveFixed.optional(),
  expiry: timestamp.optional(),
});

export const ClockAdvancedSchema = z.strictObject({
  type: z.literal('ClockAdvanced'),
  ...base,
});

export const INPUT_SCHEMAS = {
  RulesActivated: RulesActivatedSchema,
  InstrumentListed: InstrumentListedSchema,
  Deposited: DepositedSchema,
  WithdrawalRequested: WithdrawalRequestedSchema,
  PriceUpdated: PriceUpdatedSchema,
  TradeExecuted: TradeExecutedSchema,
  FundingRateApplied: FundingRateAppliedSchema,
  InstrumentSettled: InstrumentSettledSchema,
  VolatilityUpdated: VolatilityUpdatedSchema,
  ClockAdvanced: ClockAdvancedSchema,
} as const;

export type RulesActivated = z.output<typeof RulesActivatedSchema>;
export type InstrumentListed = z.output<typeof InstrumentListedSchema>;
export type Deposited = z.output<typeof DepositedSchema>;
export type WithdrawalRequested = z.output<typeof WithdrawalRequestedSchema>;
export type PriceUpdated = z.output<typeof PriceUpdatedSchema>;
export type TradeExecuted = z.output<typeof TradeExecutedSchema>;
export type FundingRateApplied = z.output<typeof FundingRateAppliedSchema>;
export type InstrumentSettled = z.output<typeof InstrumentSettledSchema>;
export type VolatilityUpdated = z.output<typeof VolatilityUpdatedSchema>;
export type ClockAdvanced = z.output<typeof ClockAdvancedSchema>;

export type InputEvent =
  | RulesActivated
  | InstrumentListed
  | Deposited
  | WithdrawalRequested
  | PriceUpdated
  | TradeExecuted
  | FundingRateApplied
  | InstrumentSettled
  | VolatilityUpdated
  | ClockAdvanced;

export type InputType = InputEvent['type'];
export const INPUT_TYPES = Object.keys(INPUT_SCHEMAS) as InputType[];
