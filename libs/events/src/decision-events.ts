import { z } from 'zod';
import { computedFixed, computedNonNegativeFixed, computedPositiveFixed } from '@clearsim/rules';
import { timestamp } from './timestamp-schema';

/**
 * Decisions: what the margin saga decided. They are appended to the log right
 * after the input that caused them and carry that input's `ts` — except those
 * of a grace timer the input's `ts` passed, which are appended before it and
 * carry the timer's deadline (the moment they were due).
 * `instrument` on a margin decision means the isolated position it is about;
 * without it the decision is about the whole (cross-margined) account.
 */
// a decision's amounts are the engine's: products and sums of inputs, beyond an input's 30 digits (the log's reader
// must read back whatever the engine wrote)
const fixed = computedFixed;
const nonNegativeFixed = computedNonNegativeFixed;
const positiveFixed = computedPositiveFixed;
const id = z.string().min(1);
const base = { ts: timestamp, v: z.literal(1).optional() };
const marginUnit = { account: id, instrument: id.optional() };

export const MarginCallIssuedSchema = z.strictObject({
  type: z.literal('MarginCallIssued'),
  ...base,
  ...marginUnit,
  equity: fixed,
  initialMargin: nonNegativeFixed,
  maintenanceMargin: nonNegativeFixed,
  amount: positiveFixed,
  /** Absent for a call without a grace timer (`graceSeconds: 0`): a warning; liquidation comes at MM. */
  deadline: timestamp.optional(),
});

export const MarginCallMetSchema = z.strictObject({
  type: z.literal('MarginCallMet'),
  ...base,
  ...marginUnit,
  equity: fixed,
  cureLevel: nonNegativeFixed,
});

export const GracePeriodExpiredSchema = z.strictObject({
  type: z.literal('GracePeriodExpired'),
  ...base,
  ...marginUnit,
  deadline: timestamp,
});

export const LiquidationReasonSchema = z.enum(['grace-period-expired', 'below-immediate-threshold', 'below-maintenance']);

export const LiquidationStartedSchema = z.strictObject({
  type: z.literal('LiquidationStarted'),
  ...base,
  ...marginUnit,
  reason: LiquidationReasonSchema,
  equity: fixed,
  maintenanceMargin: nonNegativeFixed,
});

/** `qty` is the signed change to the liquidated account's position; the counterparty gets the opposite. */
export const PositionLiquidatedSchema = z.strictObject({
  type: z.literal('PositionLiquidated'),
  ...base,
  account: id,
  instrument: id,
  qty: fixed.refine((v) => v !== 0n, 'must not be zero'),
  price: positiveFixed,
  counterparty: id,
  fee: nonNegativeFixed,
});

/**
 * A lending liquidation (`model: lending`): `counterparty` repays `repaid` of
 * the account's debt and takes `amount` of its `asset` collateral, worth
 * repaid × (1 + liquidation bonus) at `price`.
 */
export const CollateralLiquidatedSchema = z.strictObject({
  type: z.literal('CollateralLiquidated'),
  ...base,
  account: id,
  asset: id,
  /** Collateral units the liquidator (`counterparty`) receives. */
  amount: positiveFixed,
  price: positiveFixed,
  repaid: positiveFixed,
  counterparty: id,
  /** Collateral units of the bonus that go to the protocol (the rules' `fees` account), besides `amount`. */
  protocolFee: positiveFixed.optional(),
});

export const InsuranceFundDrawnSchema = z.strictObject({
  type: z.literal('InsuranceFundDrawn'),
  ...base,
  ...marginUnit,
  fund: id,
  amount: positiveFixed,
});

export const AccountBankruptedSchema = z.strictObject({
  type: z.literal('AccountBankrupted'),
  ...base,
  ...marginUnit,
  deficit: positiveFixed,
});

/** `qty` is the signed change to `account`'s (the deleveraged trader's) position, traded with the bankrupt `counterparty`. */
export const PositionAutoDeleveragedSchema = z.strictObject({
  type: z.literal('PositionAutoDeleveraged'),
  ...base,
  account: id,
  instrument: id,
  qty: fixed.refine((v) => v !== 0n, 'must not be zero'),
  price: positiveFixed,
  counterparty: id,
  rank: z.number().int().positive(),
});

/**
 * The losses of an input's bankruptcies that no fund or ADL covered, shared
 * once over the accounts in profit: `losses` lists each bankrupt unit and what
 * it receives, `shares` each position charged (against its gain, see
 * docs/rules.md §6); both sum to `amount`. `account`/`instrument` name the
 * first of the losses (the message key).
 */
export const LossSocializedSchema = z.strictObject({
  type: z.literal('LossSocialized'),
  ...base,
  ...marginUnit,
  amount: positiveFixed,
  losses: z.array(z.strictObject({ ...marginUnit, amount: positiveFixed })).min(1),
  shares: z.array(z.strictObject({ account: id, instrument: id, amount: positiveFixed })),
});

export const WithdrawalApprovedSchema = z.strictObject({
  type: z.literal('WithdrawalApproved'),
  ...base,
  requestId: id,
  account: id,
  asset: id,
  amount: positiveFixed,
});

export const WithdrawalRejectionReasonSchema = z.enum(['insufficient-free-collateral', 'insufficient-balance', 'account-under-margin-call']);

export const WithdrawalRejectedSchema = z.strictObject({
  type: z.literal('WithdrawalRejected'),
  ...base,
  requestId: id,
  account: id,
  asset: id,
  amount: positiveFixed,
  reason: WithdrawalRejectionReasonSchema,
  freeCollateral: fixed,
});

/** `amount` is signed from the account's view: positive received, negative paid. */
export const FundingSettledSchema = z.strictObject({
  type: z.literal('FundingSettled'),
  ...base,
  account: id,
  instrument: id,
  rate: fixed,
  amount: fixed,
});

/**
 * The market impact of forced fills (rules `impact`, docs/rules.md §11): the
 * instrument's mark moves from `from` to `to`. `cause` `liquidation`/`adl`: a
 * fill of `notional` pushed it against the liquidated side; `decay`: the
 * residual impact decayed toward the last mark an input set (`notional` 0).
 */
export const MarkImpactedSchema = z.strictObject({
  type: z.literal('MarkImpacted'),
  ...base,
  instrument: id,
  from: positiveFixed,
  to: positiveFixed,
  notional: nonNegativeFixed,
  cause: z.enum(['liquidation', 'adl', 'rebalance', 'decay']),
});

/**
 * A leveraged token's rebalance (rules `tokens`, docs/rules.md §12): its fund
 * `account` trades `qty` (its signed change) of `instrument` with
 * `counterparty` at `price` (the mark), bringing its leverage from `leverage`
 * back to the target. `nav` is the fund's equity before the trade (a trade at
 * the mark leaves it unchanged); `reason`: the daily rebalance, the band, or
 * a holder's creation or redemption of units (the fund trades at once).
 */
export const TokenRebalancedSchema = z.strictObject({
  type: z.literal('TokenRebalanced'),
  ...base,
  token: id,
  account: id,
  counterparty: id,
  instrument: id,
  qty: fixed,
  price: positiveFixed,
  // 0 only when the last units' redemption emptied the fund, which then closes its position
  nav: nonNegativeFixed,
  leverage: fixed,
  reason: z.enum(['schedule', 'band', 'creation', 'redemption']),
});

export const DECISION_SCHEMAS = {
  MarginCallIssued: MarginCallIssuedSchema,
  MarginCallMet: MarginCallMetSchema,
  GracePeriodExpired: GracePeriodExpiredSchema,
  LiquidationStarted: LiquidationStartedSchema,
  PositionLiquidated: PositionLiquidatedSchema,
  CollateralLiquidated: CollateralLiquidatedSchema,
  InsuranceFundDrawn: InsuranceFundDrawnSchema,
  AccountBankrupted: AccountBankruptedSchema,
  PositionAutoDeleveraged: PositionAutoDeleveragedSchema,
  LossSocialized: LossSocializedSchema,
  WithdrawalApproved: WithdrawalApprovedSchema,
  WithdrawalRejected: WithdrawalRejectedSchema,
  FundingSettled: FundingSettledSchema,
  MarkImpacted: MarkImpactedSchema,
  TokenRebalanced: TokenRebalancedSchema,
} as const;

export type MarginCallIssued = z.output<typeof MarginCallIssuedSchema>;
export type MarginCallMet = z.output<typeof MarginCallMetSchema>;
export type GracePeriodExpired = z.output<typeof GracePeriodExpiredSchema>;
export type LiquidationReason = z.output<typeof LiquidationReasonSchema>;
export type LiquidationStarted = z.output<typeof LiquidationStartedSchema>;
export type PositionLiquidated = z.output<typeof PositionLiquidatedSchema>;
export type CollateralLiquidated = z.output<typeof CollateralLiquidatedSchema>;
export type InsuranceFundDrawn = z.output<typeof InsuranceFundDrawnSchema>;
export type AccountBankrupted = z.output<typeof AccountBankruptedSchema>;
export type PositionAutoDeleveraged = z.output<typeof PositionAutoDeleveragedSchema>;
export type LossSocialized = z.output<typeof LossSocializedSchema>;
export type WithdrawalApproved = z.output<typeof WithdrawalApprovedSchema>;
export type WithdrawalRejectionReason = z.output<typeof WithdrawalRejectionReasonSchema>;
export type WithdrawalRejected = z.output<typeof WithdrawalRejectedSchema>;
export type FundingSettled = z.output<typeof FundingSettledSchema>;
export type MarkImpacted = z.output<typeof MarkImpactedSchema>;
export type TokenRebalanced = z.output<typeof TokenRebalancedSchema>;

export type DecisionEvent =
  | MarginCallIssued
  | MarginCallMet
  | GracePeriodExpired
  | LiquidationStarted
  | PositionLiquidated
  | CollateralLiquidated
  | InsuranceFundDrawn
  | AccountBankrupted
  | PositionAutoDeleveraged
  | LossSocialized
  | WithdrawalApproved
  | WithdrawalRejected
  | FundingSettled
  | MarkImpacted
  | TokenRebalanced;

export type DecisionType = DecisionEvent['type'];
