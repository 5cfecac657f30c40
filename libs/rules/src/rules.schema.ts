import { z } from 'zod';
import { fixed, nonNegativeFixed, positiveFixed, fixedBetween } from './fixed.schema';

/**
 * One notional bracket of an instrument's tiered margin (Binance-style).
 * A notional N falls in the first tier with N <= upToNotional; a tier with no
 * `upToNotional` is unbounded; a notional above every bounded tier uses the last.
 */
export const TierSchema = z.strictObject({
  upToNotional: positiveFixed.optional(),
  initialRate: fixedBetween(0n, 100_000_000n, 'a rate between 0 and 1'),
  maintenanceRate: fixedBetween(0n, 100_000_000n, 'a rate between 0 and 1'),
  maintenanceAmount: fixed.default(0n),
});

export const InstrumentRulesSchema = z.strictObject({
  tiers: z.array(TierSchema).min(1, 'at least one tier'),
});

/** SPAN-style scan parameters of one underlying (every instrument on it moves by the same relative amount). */
export const UnderlyingScanSchema = z.strictObject({
  /** Price scan range, a fraction of the price (0.10 = ±10 %). */
  priceScanRange: fixedBetween(1n, 100_000_000n, 'a fraction of the price in (0, 1]'),
  /** Volatility scan range, a fraction of the implied vol (0.25 = vol × 0.75 and × 1.25). */
  volScanRange: fixedBetween(0n, 100_000_000n, 'a fraction of the volatility in [0, 1]').default(0n),
  /** The two extreme scenarios move the price by this multiple of the scan range… */
  extremeMove: z.number().positive().default(2),
  /** …and count this fraction of their loss. */
  extremeCover: fixedBetween(0n, 100_000_000n, 'a fraction in [0, 1]').default(35_000_000n),
  /** Minimum charge per short option (per unit of quantity × multiplier). */
  shortOptionMinimum: nonNegativeFixed.default(0n),
});

export const PortfolioRulesSchema = z.strictObject({
  underlyings: z.record(z.string().min(1), UnderlyingScanSchema),
  /** IM = MM × initialToMaintenance. */
  initialToMaintenance: fixed.refine((v) => v >= 100_000_000n, { message: 'must be at least 1' }).default(120_000_000n),
  /** Underlyings that move together in joint scenarios; `offset` is the share of the diversification benefit credited. */
  groups: z.array(z.strictObject({ members: z.array(z.string().min(1)).min(2), offset: fixedBetween(0n, 100_000_000n, 'a fraction in [0, 1]') })).default([]),
});

export const RulesSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    model: z.enum(['cross', 'isolated', 'portfolio']),
    /** r of Black-76, continuously compounded per year. */
    riskFreeRate: fixed.default(0n),
    /** Scenario margin (`model: portfolio`). */
    portfolio: PortfolioRulesSchema.optional(),
    marginCall: z
      .strictObject({
        graceSeconds: z.number().int().nonnegative(),
        cureAt: z.enum(['initial', 'maintenance']).default('initial'),
        /** Call when equity < callBelow × MM (≥ 1; above 1 it is an early warning, as crypto venues send). */
        callBelow: fixed.refine((v) => v >= 100_000_000n, { message: 'must be at least 1 (a multiple of maintenance margin)' }).default(100_000_000n),
      })
      .default({ graceSeconds: 0, cureAt: 'initial', callBelow: 100_000_000n }),
    liquidation: z
      .strictObject({
        immediateBelow: fixedBetween(0n, 100_000_000n, 'a fraction of maintenance margin between 0 and 1').default(50_000_000n),
        step: fixedBetween(1n, 100_000_000n, 'a fraction of the position in (0, 1]').default(100_000_000n),
        slippage: fixedBetween(0n, 100_000_000n, 'a fraction of mark in [0, 1)').default(0n),
        feeRate: nonNegativeFixed.default(0n),
      })
      .default({ immediateBelow: 50_000_000n, step: 100_000_000n, slippage: 0n, feeRate: 0n }),
    bankruptcy: z.enum(['adl', 'socialize']).default('socialize'),
    accounts: z.strictObject({
      insurance: z.string().min(1),
      fees: z.string().min(1),
      backstop: z.string().min(1),
    }),
    /**
     * Collateral other than the cash asset, valued at its price (the mark of an
     * instrument of the same name, e.g. a `kind: index` "USDC") × (1 − haircut).
     * A depeg is just a price update.
     */
    collateral: z.record(z.string().min(1), z.strictObject({ haircut: fixedBetween(0n, 100_000_000n, 'a fraction in [0, 1]') })).default({}),
    /**
     * Concentration add-on per underlying: `rate` × the part of a position's
     * notional above `threshold`, added to IM and MM (liquidity of large positions).
     */
    concentration: z.record(z.string().min(1), z.strictObject({ threshold: nonNegativeFixed, rate: fixedBetween(0n, 100_000_000n, 'a rate in [0, 1]') })).default({}),
    /** Accounts margined position by position, whatever `model` says for the rest. */
    isolatedAccounts: z.array(z.string().min(1)).default([]),
    /** Per instrument; the key "*" applies to every instrument not named (tiered models). */
    instruments: z.record(z.string().min(1), InstrumentRulesSchema).default({}),
  })
  .superRefine((rules, ctx) => {
    for (const [instrument, { tiers }] of Object.entries(rules.instruments)) {
      tiers.forEach((tier, i) => {
        const path = ['instruments', instrument, 'tiers', i];
        if (tier.maintenanceRate > tier.initialRate) {
          ctx.addIssue({ code: 'custom', path: [...path, 'maintenanceRate'], message: 'maintenanceRate must not exceed initialRate' });
        }
        const previous = tiers[i - 1];
        if (previous && previous.upToNotional === undefined) {
          ctx.addIssue({ code: 'custom', path: [...path], message: 'only the last tier may omit upToNotional' });
        }
        if (previous?.upToNotional !== undefined && tier.upToNotional !== undefined && tier.upToNotional <= previous.upToNotional) {
          ctx.addIssue({ code: 'custom', path: [...path, 'upToNotional'], message: 'tiers must be in increasing upToNotional' });
        }
      });
    }
    if (rules.model === 'portfolio' && !rules.portfolio) {
      ctx.addIssue({ code: 'custom', path: ['portfolio'], message: 'model: portfolio needs a portfolio section (underlyings with their scan ranges)' });
    }
    for (const [i, group] of (rules.portfolio?.groups ?? []).entries()) {
      for (const member of group.members) {
        if (!rules.portfolio!.underlyings[member]) ctx.addIssue({ code: 'custom', path: ['portfolio', 'groups', i, 'members'], message: `"${member}" is not an underlying of portfolio.underlyings` });
      }
    }
    const { insurance, fees, backstop } = rules.accounts;
    if (new Set([insurance, fees, backstop]).size !== 3) {
      ctx.addIssue({ code: 'custom', path: ['accounts'], message: 'insurance, fees and backstop must be three different accounts' });
    }
  });

export type Tier = z.output<typeof TierSchema>;
export type UnderlyingScan = z.output<typeof UnderlyingScanSchema>;
export type PortfolioRules = z.output<typeof PortfolioRulesSchema>;
export type InstrumentRules = z.output<typeof InstrumentRulesSchema>;
export type Rules = z.output<typeof RulesSchema>;
/** The rules as written (decimal strings), the form recorded in `RulesActivated`. */
export type RulesInput = z.input<typeof RulesSchema>;
