import { z } from 'zod';
import { fixed, positiveFixed, refuseControlCharacters } from '@clearsim/rules';
import { timestamp } from './timestamp-schema';
import { MAX_ID_LENGTH } from './id-limits';

export { controlCharacterProblem, ID_CHARACTERS_PATTERN, MAX_ID_LENGTH } from './id-limits';

/**
 * Inputs: facts from outside. Every input has `type` and `ts`; an optional
 * `eventId` is the idempotency key of inputs without a natural one (trades
 * have `tradeId`, withdrawal requests `requestId`); see docs/idempotency.md.
 * An id is 1 to MAX_ID_LENGTH characters, none of them a control character
 * (libs/rules/src/id-characters.ts: ids are written raw into tables and reports).
 */
const id = refuseControlCharacters(z.string().min(1, 'must not be empty').max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`));
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
  /**
   * `inverse`: a coin-margined contract of face value `multiplier` (quote currency) per contract, settled in
   * `settlementAsset` (the coin): PnL = multiplier × qty × (1/entry − 1/exit). Absent: linear (and not encoded,
   * so existing logs keep their bytes).
   */
  payoff: z.enum(['linear', 'inverse']).optional(),
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

/** The fields of a bilateral trade: a TradeExecuted's, and each leg of a MultiLegTradeExecuted. */
const bilateralTrade = {
  instrument: id,
  buyer: id,
  seller: id,
  qty: positiveFixed,
  price: positiveFixed,
  // a negative fee is a rebate paid by the fee account
  buyerFee: fixed.default(0n),
  sellerFee: fixed.default(0n),
};
const differentParties = (t: { buyer: string; seller: string }) => t.buyer !== t.seller;
const DIFFERENT_PARTIES = { message: 'buyer and seller must be different accounts', path: ['seller'] };

export const TradeExecutedSchema = z
  .strictObject({
    type: z.literal('TradeExecuted'),
    ...base,
    tradeId: id,
    ...bilateralTrade,
  })
  .refine(differentParties, DIFFERENT_PARTIES);

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

/** One element of a MarketMoved: an instrument's new mark. */
export const MarkSchema = z.strictObject({ instrument: id, price: positiveFixed });

/** One element of a MarketMoved: an implied volatility (of the whole underlying, or of one strike and expiry). */
export const VolatilitySchema = z
  .strictObject({
    underlying: id,
    volatility: positiveFixed,
    strike: positiveFixed.optional(),
    expiry: timestamp.optional(),
  })
  .refine((v) => (v.strike === undefined) === (v.expiry === undefined), { message: 'strike and expiry go together (both for one point of the surface, neither for the whole underlying)', path: ['strike'] });

/** The key of a volatility point: one underlying, the whole surface or one (strike, expiry). */
const volatilityPoint = (v: { underlying: string; strike?: bigint; expiry?: number }): string => JSON.stringify([v.underlying, v.strike?.toString() ?? null, v.expiry ?? null]);

/** Adds an issue for every element whose key an earlier element already has (index and field named). */
function refuseRepeats<T>(items: readonly T[], key: (item: T) => string, list: string, field: string, what: (item: T) => string, ctx: z.RefinementCtx): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const k = key(item);
    const earlier = first.get(k);
    if (earlier === undefined) first.set(k, i);
    else ctx.addIssue({ code: 'custom', path: [list, i, field], message: `${what(item)} is already moved by ${list}.${earlier}: one input moves it once` });
  });
}

/**
 * Several marks (and implied volatilities) moving at one instant: folded as
 * the PriceUpdated of each mark in written order, then the VolatilityUpdated
 * of each volatility, and margined once after all of them — so a spread or a
 * hedge is never checked on a half-moved market.
 */
export const MarketMovedSchema = z
  .strictObject({
    type: z.literal('MarketMoved'),
    ...base,
    marks: z.array(MarkSchema).default([]),
    volatilities: z.array(VolatilitySchema).default([]),
  })
  .superRefine((m, ctx) => {
    if (m.marks.length + m.volatilities.length === 0) ctx.addIssue({ code: 'custom', path: ['marks'], message: 'a market move needs at least one mark or volatility' });
    refuseRepeats(m.marks, (mark) => mark.instrument, 'marks', 'instrument', (mark) => `instrument "${mark.instrument}"`, ctx);
    refuseRepeats(m.volatilities, volatilityPoint, 'volatilities', 'underlying', (v) => `the volatility of "${v.underlying}"${v.strike === undefined ? '' : ' at this strike and expiry'}`, ctx);
  });

/** One leg of a MultiLegTradeExecuted: a bilateral trade like TradeExecuted, without its own id. */
export const TradeLegSchema = z.strictObject(bilateralTrade).refine(differentParties, DIFFERENT_PARTIES);

/**
 * A multi-leg trade (a calendar spread, a protective put, a strategy): legs
 * booked together in written order under one `tradeId`, margined once after
 * the last; refused as a whole if any leg is.
 */
export const MultiLegTradeExecutedSchema = z.strictObject({
  type: z.literal('MultiLegTradeExecuted'),
  ...base,
  tradeId: id,
  legs: z.array(TradeLegSchema).min(1, 'a trade needs at least one leg'),
});

/**
 * A holder creates units of a leveraged token (rules `tokens`, docs/rules.md
 * §12): it pays the fund NAV per unit × units (rounded up, against the
 * holder) from its cash, and the fund trades back to its target at once.
 * `nav` is the issue price per unit, given only for the first creation of a
 * token with no units outstanding (its NAV per unit is the fund's after).
 */
export const TokenUnitsCreatedSchema = z.strictObject({
  type: z.literal('TokenUnitsCreated'),
  ...base,
  requestId: id,
  account: id,
  token: id,
  units: positiveFixed,
  nav: positiveFixed.optional(),
});

/** A holder redeems units of a leveraged token: the fund pays it NAV per unit × units (rounded down, against the holder). */
export const TokenUnitsRedeemedSchema = z.strictObject({
  type: z.literal('TokenUnitsRedeemed'),
  ...base,
  requestId: id,
  account: id,
  token: id,
  units: positiveFixed,
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
  MarketMoved: MarketMovedSchema,
  MultiLegTradeExecuted: MultiLegTradeExecutedSchema,
  TokenUnitsCreated: TokenUnitsCreatedSchema,
  TokenUnitsRedeemed: TokenUnitsRedeemedSchema,
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
export type MarketMoved = z.output<typeof MarketMovedSchema>;
export type MultiLegTradeExecuted = z.output<typeof MultiLegTradeExecutedSchema>;
export type TradeLeg = MultiLegTradeExecuted['legs'][number];
export type TokenUnitsCreated = z.output<typeof TokenUnitsCreatedSchema>;
export type TokenUnitsRedeemed = z.output<typeof TokenUnitsRedeemedSchema>;
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
  | MarketMoved
  | MultiLegTradeExecuted
  | TokenUnitsCreated
  | TokenUnitsRedeemed
  | ClockAdvanced;

export type InputType = InputEvent['type'];
export const INPUT_TYPES = Object.keys(INPUT_SCHEMAS) as InputType[];
