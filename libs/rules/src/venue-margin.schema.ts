import { z } from 'zod';
import { fixed, fixedBetween, nonNegativeFixed, positiveFixed } from './fixed.schema';
import { accountId } from './id.schema';

/**
 * Venue margin and collateral mechanics (docs/rules.md §15): rules that the
 * plain tier tables cannot write. Every block is optional; absent, margin is
 * exactly the tiers' (and collateral exactly `collateral`'s haircut).
 */

const ONE = 100_000_000n;
const fraction = fixedBetween(0n, ONE, 'a fraction in [0, 1]');

/**
 * dYdX v4 open-interest-scaled initial margin: the IMF rises linearly from the
 * tier's `initialRate` (the base IMF) to 1 between two caps on the instrument's
 * open notional (open interest × mark × multiplier, in the cash asset).
 */
export const OpenInterestScalingSchema = z.strictObject({
  /** Open notional at or below which the IMF is the base IMF. */
  lowerCap: nonNegativeFixed,
  /** Open notional at or above which the IMF is 1 (dYdX's `open_interest_upper_cap`). */
  upperCap: positiveFixed,
});

/** Drift v2 high-leverage mode: lower base ratios for the accounts in `highLeverageAccounts`, their discount shrinking with size. */
export const HighLeverageSchema = z.strictObject({
  initialRate: fixedBetween(1n, ONE, 'a rate in (0, 1]'),
  maintenanceRate: fixedBetween(1n, ONE, 'a rate in (0, 1]'),
});

/** How a position's size (|qty| × multiplier, in units of the underlying) raises its margin rates. */
export const SizeScalingSchema = z.discriminatedUnion('kind', [
  /** Drift v2: ratio = max(MR, MR − ⌊MR/5⌋ + ⌊√size × imfFactor⌋), in units of 10^-4. */
  z.strictObject({
    kind: z.literal('sqrt-premium'),
    /** Drift's `imf_factor` as a decimal (Drift stores it × 10^6: 0.00005 is 50). */
    imfFactor: nonNegativeFixed,
    highLeverage: HighLeverageSchema.optional(),
  }),
  /** Coinbase International: IM rate = max(initialRate, riskParameter × √(size / averageDailyVolume)); MM = IM × numerator / denominator. */
  z.strictObject({
    kind: z.literal('sqrt-volume'),
    riskParameter: nonNegativeFixed,
    /** 30-day average daily traded quantity of the underlying (the ADTV), in units of the underlying. */
    averageDailyVolume: positiveFixed,
    maintenanceNumerator: z.number().int().positive().default(2),
    maintenanceDenominator: z.number().int().positive().default(3),
  }),
  /** Deribit: rate = tier rate + size × perUnit (IM and MM each their own slope). */
  z.strictObject({
    kind: z.literal('linear'),
    initialPerUnit: nonNegativeFixed,
    maintenancePerUnit: nonNegativeFixed,
  }),
]);

export const VenueInstrumentMarginSchema = z.strictObject({
  openInterestScaling: OpenInterestScalingSchema.optional(),
  sizeScaling: SizeScalingSchema.optional(),
});

/** One slice of Binance-style tiered collateral: the part of the held value up to `upToValue` counts at (1 − haircut). */
export const CollateralValueTierSchema = z.strictObject({
  upToValue: positiveFixed.optional(),
  haircut: fraction,
});

export const VenueCollateralSchema = z.strictObject({
  /** Haircuts by the value held (in the cash asset, at the collateral's mark), slice by slice; replaces `collateral.<asset>.haircut`. */
  valueTiers: z.array(CollateralValueTierSchema).min(1, 'at least one tier').optional(),
  /**
   * Drift's `scale_initial_asset_weight_start`: once every account's deposits of the asset together are worth more
   * than this, the initial weight is scaled by threshold / total deposits value (initial margin only).
   */
  depositScaling: z.strictObject({ threshold: positiveFixed }).optional(),
  /** Marked from max(floor, marketWeight × market + (1 − marketWeight) × redemptionPrice), not the market alone. */
  blendedMark: z
    .strictObject({
      redemptionPrice: positiveFixed,
      marketWeight: fraction,
      floor: nonNegativeFixed.default(0n),
    })
    .optional(),
});

export const VenueMarginSchema = z.strictObject({
  /** Per instrument; the key "*" applies to every instrument not named. */
  instruments: z.record(z.string().min(1), VenueInstrumentMarginSchema).default({}),
  /** User-chosen leverage per account and instrument ("*": every other): its reciprocal is a floor on the initial rate. */
  leverage: z.record(z.string().min(1), z.record(z.string().min(1), fixed.refine((v) => v >= ONE, { message: 'leverage must be at least 1' }))).default({}),
  /** Accounts in Drift's high-leverage mode (instruments whose sizeScaling has a highLeverage block). */
  highLeverageAccounts: z.array(accountId).default([]),
  /** Per collateral asset (each must also be in `collateral`). */
  collateral: z.record(z.string().min(1), VenueCollateralSchema).default({}),
});

export type VenueMargin = z.output<typeof VenueMarginSchema>;
export type VenueInstrumentMargin = z.output<typeof VenueInstrumentMarginSchema>;
export type SizeScaling = z.output<typeof SizeScalingSchema>;
export type VenueCollateral = z.output<typeof VenueCollateralSchema>;
export type CollateralValueTier = z.output<typeof CollateralValueTierSchema>;

interface RulesShape {
  model: string;
  collateral: Record<string, unknown>;
  instruments: Record<string, { tiers: { initialRate: bigint; maintenanceRate: bigint }[] }>;
  venueMargin?: VenueMargin;
}

/** Cross-field checks of `venueMargin` (called from RulesSchema's superRefine): where it does not compose, a clear refusal. */
export function refineVenueMargin(rules: RulesShape, ctx: z.RefinementCtx): void {
  const venue = rules.venueMargin;
  if (!venue) return;
  if (rules.model !== 'cross' && rules.model !== 'isolated') {
    ctx.addIssue({ code: 'custom', path: ['venueMargin'], message: `venue margin mechanics scale the tiered models (cross, isolated), not model ${rules.model}` });
    return;
  }
  for (const [instrument, block] of Object.entries(venue.instruments)) {
    const path = ['venueMargin', 'instruments', instrument];
    const tiers = (rules.instruments[instrument] ?? rules.instruments['*'])?.tiers;
    if (!tiers) ctx.addIssue({ code: 'custom', path, message: `no tiers for "${instrument}" in instruments: the venue mechanics scale the tiers' rates` });
    const oi = block.openInterestScaling;
    if (oi && oi.lowerCap > oi.upperCap) ctx.addIssue({ code: 'custom', path: [...path, 'openInterestScaling', 'lowerCap'], message: 'lowerCap must not exceed upperCap' });
    if (oi && tiers?.some((t) => t.initialRate % 100n !== 0n)) {
      ctx.addIssue({ code: 'custom', path: [...path, 'openInterestScaling'], message: 'dYdX margins in parts per million: the tiers\' initialRate must be a multiple of 0.000001' });
    }
    const size = block.sizeScaling;
    if (size?.kind === 'sqrt-premium') {
      // Drift keeps margin ratios in units of 10^-4 (MARGIN_PRECISION) and imf_factor in 10^-6
      const rates = [...(tiers ?? []).flatMap((t) => [t.initialRate, t.maintenanceRate]), ...(size.highLeverage ? [size.highLeverage.initialRate, size.highLeverage.maintenanceRate] : [])];
      if (rates.some((r) => r % 10_000n !== 0n)) ctx.addIssue({ code: 'custom', path: [...path, 'sizeScaling'], message: 'Drift margin ratios are in units of 0.0001: every rate must be a multiple of it' });
      if (size.imfFactor % 100n !== 0n) ctx.addIssue({ code: 'custom', path: [...path, 'sizeScaling', 'imfFactor'], message: 'Drift imf_factor is in units of 0.000001' });
      if (size.highLeverage && size.highLeverage.maintenanceRate > size.highLeverage.initialRate) {
        ctx.addIssue({ code: 'custom', path: [...path, 'sizeScaling', 'highLeverage', 'maintenanceRate'], message: 'maintenanceRate must not exceed initialRate' });
      }
    }
    if (size?.kind === 'sqrt-volume' && size.maintenanceNumerator > size.maintenanceDenominator) {
      ctx.addIssue({ code: 'custom', path: [...path, 'sizeScaling', 'maintenanceNumerator'], message: 'maintenance must not exceed initial margin (numerator ≤ denominator)' });
    }
  }
  for (const [asset, block] of Object.entries(venue.collateral)) {
    const path = ['venueMargin', 'collateral', asset];
    if (!(asset in rules.collateral)) ctx.addIssue({ code: 'custom', path, message: `"${asset}" is not a collateral asset (add it to collateral with its haircut)` });
    (block.valueTiers ?? []).forEach((tier, i) => {
      const previous = block.valueTiers![i - 1];
      if (previous && previous.upToValue === undefined) ctx.addIssue({ code: 'custom', path: [...path, 'valueTiers', i], message: 'only the last tier may omit upToValue' });
      if (previous?.upToValue !== undefined && tier.upToValue !== undefined && tier.upToValue <= previous.upToValue) {
        ctx.addIssue({ code: 'custom', path: [...path, 'valueTiers', i, 'upToValue'], message: 'tiers must be in increasing upToValue' });
      }
    });
  }
}
