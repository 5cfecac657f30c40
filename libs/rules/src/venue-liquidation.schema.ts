import { z } from 'zod';
import { fixed, fixedBetween, nonNegativeFixed, positiveFixed } from './fixed.schema';

const fraction = (what: string) => fixedBetween(0n, 100_000_000n, what);

/**
 * Venue liquidation mechanics (docs/rules.md, "Venue liquidation mechanics"): the price, size and
 * insurance-fund share of each liquidation fill, as dYdX v4 and Drift v2
 * publish them. Absent: the generic waterfall (docs/rules.md §5).
 */
export const VenueLiquidationSchema = z.strictObject({
  /**
   * dYdX v4 fillable price: mark ∓ ABR × SMMR × PMMR / |position|, with
   * ABR = clamp(BA × (1 − TNC / TMMR), 0, 1) — at the mark while the account is at
   * its maintenance margin, moving towards the bankruptcy side as its health falls.
   */
  fillablePrice: z
    .strictObject({
      /** BA (dYdX `bankruptcy_adjustment_ppm` / 10^6). */
      bankruptcyAdjustment: fixed.refine((v) => v >= 100_000_000n, { message: 'must be at least 1' }).default(100_000_000n),
      /** SMMR (dYdX `spread_to_maintenance_margin_ratio_ppm` / 10^6). */
      spreadToMaintenanceMarginRatio: positiveFixed.default(10_000_000n),
    })
    .optional(),
  /**
   * dYdX's insurance-fund delta: the fill against the position's bankruptcy
   * value (its share of the account's net collateral by its share of the total
   * maintenance margin); above it the fund keeps at most this fraction of the
   * fill's notional, below it the fund pays the difference.
   */
  maxLiquidationFee: fraction('a fraction of the fill notional in [0, 1]').optional(),
  /** dYdX position block limits: per position and input, at most `maxPositionPortion` of its notional, but at least `minPositionNotional`. */
  positionBlockLimits: z
    .strictObject({
      minPositionNotional: nonNegativeFixed.default(0n),
      maxPositionPortion: fixedBetween(1n, 100_000_000n, 'a fraction of the position in (0, 1]').default(100_000_000n),
    })
    .optional(),
  /** dYdX subaccount block limits: per account and input, the notional liquidated and the insurance fund's payments. */
  accountBlockLimits: z
    .strictObject({
      maxNotionalLiquidated: positiveFixed.optional(),
      maxInsuranceLost: nonNegativeFixed.optional(),
    })
    .optional(),
  /** Order step size (quantity) per instrument; "*" for every instrument not named. A size is rounded down to a multiple, at least one step. */
  stepSizes: z.record(z.string().min(1), positiveFixed).default({}),
  /**
   * Drift v2 sizing: close the quantity that covers the margin shortage net of the liquidator's and the
   * insurance fund's fees; the whole position when the shortage is below `fullBelowShortage`.
   * The fill is at mark ∓ liquidatorFee (the liquidator's discount), and `insuranceFee` × notional goes to the fund.
   */
  marginShortage: z
    .strictObject({
      liquidatorFee: fraction('a fraction in [0, 1]'),
      insuranceFee: fraction('a fraction in [0, 1]').default(0n),
      fullBelowShortage: nonNegativeFixed.default(0n),
      /** Drift's calculate_perp_if_fee: the fund's fee is the smaller of `insuranceFee` and the one the shortage implies. */
      impliedInsuranceFee: z.boolean().default(false),
      /**
       * Drift's liquidation margin buffer (State.liquidation_margin_buffer_ratio): liquidation starts below the
       * maintenance margin and brings the unit to MM + Σ ⌊notionalᵢ × buffer⌋; the shortage is measured to it and
       * each unit closed frees its maintenance ratio plus the buffer.
       */
      liquidationBuffer: fraction('a fraction of the notional in [0, 1]').default(0n),
    })
    .optional(),
  /**
   * Drift v2 `get_liquidation_fee`: the liquidator's fee (`marginShortage.liquidatorFee`, the base) grows
   * with the time since the account's liquidation began (its liquidation clock, docs/rules.md §13):
   * the base until `graceSeconds`, then base + elapsed whole seconds × `increasePerSecond`, at most `maxFee`.
   */
  escalatingFee: z
    .strictObject({
      maxFee: fraction('a fraction in [0, 1]'),
      graceSeconds: z.number().int().nonnegative(),
      increasePerSecond: nonNegativeFixed,
    })
    .optional(),
  /**
   * Hyperliquid's partial liquidation: a position whose notional at the mark is above `aboveNotional` is
   * liquidated `portion` at a time (rounded down to the step, at least one step) — unless a position of the
   * account was partially liquidated less than `cooldownSeconds` ago, when the whole position goes.
   */
  partial: z
    .strictObject({
      aboveNotional: nonNegativeFixed,
      portion: fixedBetween(1n, 100_000_000n, 'a fraction of the position in (0, 1]'),
      cooldownSeconds: z.number().int().nonnegative(),
    })
    .optional(),
  /**
   * Which open position of a unit is liquidated next: the largest maintenance margin first (absent), or
   * dYdX v4's `GetPerpetualPositionToLiquidate` (`pseudo-random-rotation`): the positions in listing order,
   * from an offset drawn from the input's time in whole seconds, the first not yet liquidated in the input.
   */
  positionOrder: z.enum(['largest-maintenance', 'pseudo-random-rotation']).optional(),
  /**
   * Hyperliquid's backstop liquidation: a unit whose equity is below this fraction of its maintenance margin
   * (Hyperliquid: ⅔) and not below zero is taken over whole — every position closed at the mark to the backstop
   * account (the liquidator vault) and the margin left, the maintenance margin not returned, to the insurance
   * account — instead of being liquidated through the book. Below zero the bankruptcy waterfall decides, as before.
   */
  backstopBelow: fixedBetween(1n, 100_000_000n, 'a fraction of the maintenance margin in (0, 1]').optional(),
});

/** One perpetual's funding formula (docs/rules.md, "Funding from the premium index"). */
export const FundingFormulaSchema = z.strictObject({
  /**
   * The instrument (usually `kind: index`) whose mark is the index price: the premium index is
   * (mark − index) / index at the funding time. Absent: a `FundingRateApplied`'s `rate` is read as the premium index.
   */
  index: z.string().min(1).optional(),
  /** Binance: the interest component I, per interval (0.0001 = 0.01 % per 8 h). */
  interestRate: fixed.default(0n),
  /** Binance: F = P + clamp(I − P, −clamp, +clamp). */
  clamp: nonNegativeFixed.optional(),
  /** Deribit: F = max(deadBand, P) + min(−deadBand, P) (a damper: 0 within ±deadBand). */
  deadBand: nonNegativeFixed.optional(),
  /** The largest |F| per interval (Binance's cap, Deribit's Maximum_Cap). */
  cap: positiveFixed.optional(),
  /** The interval the rate is quoted for, in seconds (8 h). */
  intervalSeconds: z.number().int().positive().default(28_800),
  /** The time one `FundingRateApplied` settles, in seconds: the rate paid is F × periodSeconds / intervalSeconds (Deribit's time fraction). */
  periodSeconds: z.number().int().positive().optional(),
  /** The price the position's notional is taken at: the mark (Binance) or the index (Deribit's linear contracts). */
  notionalAt: z.enum(['mark', 'index']).default('mark'),
});

export const FundingRulesSchema = z.strictObject({
  /** Per instrument; the key "*" applies to every perpetual not named. */
  instruments: z.record(z.string().min(1), FundingFormulaSchema),
});

type Issue = { path: (string | number)[]; message: string };

/** The compositions these blocks refuse (called from RulesSchema's refinement). */
export function venueLiquidationIssues(rules: { model: string; venueLiquidation?: VenueLiquidation; funding?: FundingRules }): Issue[] {
  const issues: Issue[] = [];
  if (rules.venueLiquidation && rules.model !== 'cross' && rules.model !== 'isolated') {
    issues.push({ path: ['venueLiquidation'], message: `venue liquidation mechanics apply to the tiered models (cross, isolated), not to model ${rules.model}` });
  }
  if (rules.venueLiquidation?.marginShortage && rules.venueLiquidation.fillablePrice) {
    issues.push({ path: ['venueLiquidation', 'marginShortage'], message: 'marginShortage (Drift) prices the fill at mark ∓ liquidatorFee: it does not compose with fillablePrice (dYdX)' });
  }
  const escalating = rules.venueLiquidation?.escalatingFee;
  if (escalating && !rules.venueLiquidation?.marginShortage) {
    issues.push({ path: ['venueLiquidation', 'escalatingFee'], message: 'escalatingFee escalates the liquidator fee of marginShortage (Drift): it needs marginShortage' });
  } else if (escalating && escalating.maxFee < rules.venueLiquidation!.marginShortage!.liquidatorFee) {
    issues.push({ path: ['venueLiquidation', 'escalatingFee', 'maxFee'], message: 'maxFee must be at least marginShortage.liquidatorFee (the base it escalates from)' });
  }
  for (const [instrument, f] of Object.entries(rules.funding?.instruments ?? {})) {
    if (f.clamp !== undefined && f.deadBand !== undefined) {
      issues.push({ path: ['funding', 'instruments', instrument, 'deadBand'], message: 'a formula has either a clamp around the interest rate (Binance) or a dead band (Deribit), not both' });
    }
    if (f.notionalAt === 'index' && f.index === undefined) {
      issues.push({ path: ['funding', 'instruments', instrument, 'notionalAt'], message: 'notionalAt: index needs an index instrument' });
    }
  }
  return issues;
}

export type VenueLiquidation = z.output<typeof VenueLiquidationSchema>;
export type FundingFormula = z.output<typeof FundingFormulaSchema>;
export type FundingRules = z.output<typeof FundingRulesSchema>;
