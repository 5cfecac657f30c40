import { z } from 'zod';
import { fixed, nonNegativeFixed, positiveFixed, fixedBetween } from './fixed.schema';
import { FundingRulesSchema, VenueLiquidationSchema, venueLiquidationIssues } from './venue-liquidation.schema';
import { refineVenueMargin, VenueMarginSchema } from './venue-margin.schema';
import { AdlRulesSchema, refineAdl } from './adl.schema';
import { accountId } from './id.schema';

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
  /** Short option minimum rate, per unit of quantity × multiplier of short options (see portfolio.shortOptionMinimumMethod). */
  shortOptionMinimum: nonNegativeFixed.default(0n),
});

export const PortfolioRulesSchema = z.strictObject({
  underlyings: z.record(z.string().min(1), UnderlyingScanSchema),
  /** IM = MM × initialToMaintenance. */
  initialToMaintenance: fixed.refine((v) => v >= 100_000_000n, { message: 'must be at least 1' }).default(120_000_000n),
  /** Underlyings that move together in joint scenarios; `offset` is the share of the diversification benefit credited. */
  groups: z.array(z.strictObject({ members: z.array(z.string().min(1)).min(2), offset: fixedBetween(0n, 100_000_000n, 'a fraction in [0, 1]') })).default([]),
  /**
   * How the short option minimum counts short options on an underlying: `max-calls-puts` (CME SPAN's rule:
   * max(short calls, short puts) × rate, a short strangle charged once) or `per-option` (every short option ×
   * rate, the sum clearsim charged before).
   */
  shortOptionMinimumMethod: z.enum(['max-calls-puts', 'per-option']).default('max-calls-puts'),
});

/** How the log's own price history is sampled for the VaR models and dynamic margin. */
export const HistoryRulesSchema = z.strictObject({
  /** One return per this many seconds of log time (close to close of the last price in each period). */
  sampleSeconds: z.number().int().positive().default(86_400),
});

/** Historical-simulation VaR / Expected Shortfall (`model: var`). */
export const VarRulesSchema = z.strictObject({
  method: z.enum(['historical', 'filtered']).default('historical'),
  measure: z.enum(['var', 'es']).default('var'),
  confidence: fixedBetween(50_000_000n, 99_999_999n, 'a confidence level in [0.5, 1)').default(99_000_000n),
  /** Returns looked back at. */
  lookback: z.number().int().positive().default(250),
  /** Margin period of risk, in days (√time scaling of one-sample returns). */
  horizonDays: z.number().int().positive().default(2),
  /** EWMA decay for `filtered` (returns rescaled to today's volatility). */
  lambda: fixedBetween(1n, 99_999_999n, 'a decay in (0, 1)').default(94_000_000n),
  initialToMaintenance: fixed.refine((v) => v >= 100_000_000n, { message: 'must be at least 1' }).default(120_000_000n),
  /** Until an exposed underlying has this many returns, MM = fallbackRate × notional. */
  minimumHistory: z.number().int().positive().default(20),
  fallbackRate: fixedBetween(0n, 100_000_000n, 'a rate in [0, 1]').default(10_000_000n),
});

/** Rates of the tiered models scaled by EWMA volatility (`dynamic`). */
export const DynamicRulesSchema = z.strictObject({
  /** Annualized volatility at which the multiplier is 1. */
  referenceVolatility: positiveFixed,
  lambda: fixedBetween(1n, 99_999_999n, 'a decay in (0, 1)').default(94_000_000n),
  floor: positiveFixed.default(100_000_000n),
  cap: positiveFixed.default(300_000_000n),
  /** Anti-procyclicality: a buffer (≥ 0.25) held in calm times and released in stress, or a stressed-period weight (≥ 0.25). */
  antiProcyclicality: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('none') }),
      z.strictObject({ kind: z.literal('buffer'), buffer: fixed.refine((v) => v >= 25_000_000n, { message: 'at least 0.25 (EMIR RTS 153/2013 Art. 28)' }) }),
      z.strictObject({ kind: z.literal('stressed-weight'), weight: fixed.refine((v) => v >= 25_000_000n, { message: 'at least 0.25' }), stressedVolatility: positiveFixed }),
    ])
    .default({ kind: 'buffer', buffer: 25_000_000n }),
});

/** DeFi lending (`model: lending`, Aave v3 style): collateral with LTV and liquidation threshold, debt in the cash asset. */
export const LendingRulesSchema = z.strictObject({
  assets: z.record(
    z.string().min(1),
    z.strictObject({
      /** Borrowing power per unit of collateral value (loan-to-value). */
      ltv: fixedBetween(0n, 100_000_000n, 'a fraction in [0, 1]'),
      /** Health-factor weight of the collateral value; ≥ ltv. */
      liquidationThreshold: fixedBetween(0n, 100_000_000n, 'a fraction in [0, 1]'),
      /** Share of the liquidation bonus seized in this asset that goes to the protocol (the `fees` account), not the liquidator (Aave's liquidationProtocolFee). */
      liquidationProtocolFee: fixedBetween(0n, 100_000_000n, 'a fraction in [0, 1]').default(0n),
    }),
  ),
  /** Share of the debt one liquidation may repay (Aave's DEFAULT_LIQUIDATION_CLOSE_FACTOR). */
  closeFactor: fixedBetween(1n, 100_000_000n, 'a fraction in (0, 1]').default(50_000_000n),
  /** At or below this health factor the whole debt may be repaid (Aave v3.3's CLOSE_FACTOR_HF_THRESHOLD, 0.95); 0: never. */
  closeFactorHfThreshold: fixedBetween(0n, 100_000_000n, 'a health factor in [0, 1]').default(0n),
  /** The whole debt may be repaid when the collateral asset's value or the debt is below this amount (Aave v3.3's MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD, 2,000); 0: never. */
  minBaseMaxCloseFactorThreshold: nonNegativeFixed.default(0n),
  /** A partial liquidation must leave at least this much debt and collateral value, else it clears the position (Aave v3.3's MIN_LEFTOVER_BASE, 1,000); 0: no rule. */
  minLeftoverBase: nonNegativeFixed.default(0n),
  /** Collateral seized = repaid × (1 + liquidationBonus). */
  liquidationBonus: fixedBetween(0n, 100_000_000n, 'a fraction in [0, 1]').default(5_000_000n),
});

/**
 * Market impact of forced fills (liquidation cascades): each liquidation or ADL
 * fill moves the instrument's mark against the liquidated side by
 * Δp/p = min(capPerFill, k · notional/depth) (`linear`) or
 * min(capPerFill, k · √(notional/depth)) (`sqrt`, the square-root law); the
 * residual (mark − the last mark an input set) decays by half every
 * `halfLifeSeconds`. Absent: fills never move a mark (docs/rules.md §11).
 */
export const ImpactLawSchema = z.strictObject({
  law: z.enum(['linear', 'sqrt']),
  /** The coefficient k of the law. */
  k: nonNegativeFixed,
  /** The notional that moves the mark by k (the book's depth, in the cash asset). */
  depth: positiveFixed,
  /** The largest relative move one fill makes. */
  capPerFill: fixedBetween(1n, 99_999_999n, 'a fraction of the mark in (0, 1)').default(5_000_000n),
  /** Half-life of the residual impact, in seconds of log time. */
  halfLifeSeconds: z.number().int().positive(),
});

export const ImpactRulesSchema = z.strictObject({
  /** Per instrument; the key "*" applies to every instrument not named. */
  instruments: z.record(z.string().min(1), ImpactLawSchema),
  /**
   * The largest distance (a fraction of the mark the input found) fills may move one instrument's mark within
   * one input or one deadline's close-outs: the cascade's guard.
   */
  capPerInput: fixedBetween(1n, 99_999_999n, 'a fraction of the mark in (0, 1)').default(25_000_000n),
});

/**
 * A leveraged token (FTX BULL/BEAR, Binance BLVT style; docs/rules.md §12):
 * a fund `account` whose equity is the token's NAV holds one position on
 * `instrument`, rebalanced to `targetLeverage` × NAV by a trade with
 * `counterparty` at the mark, daily at `dailyAt` (UTC) and whenever the
 * leverage |position notional| / NAV leaves [`band.min`, `band.max`].
 */
export const LeveragedTokenSchema = z.strictObject({
  instrument: z.string().min(1),
  /** The token's fund account: its equity is the NAV, its position the basket. */
  account: accountId,
  /** Who takes the rebalancing trades (a market maker's account). */
  counterparty: accountId,
  /** Signed: 3 a 3× long (BULL) token, −3 a 3× short (BEAR) one. */
  targetLeverage: fixed.refine((v) => v !== 0n, { message: 'must not be 0 (3 for a 3x long token, -3 for a 3x short one)' }),
  /** The intraday rebalance band of |leverage|: outside it the token rebalances at once (FTX: above 4 for a 3x token). */
  band: z.strictObject({ min: nonNegativeFixed.default(0n), max: positiveFixed }),
  /**
   * Fees on a holder's creation and redemption of units (docs/rules.md §12.1), a rate of the amount at NAV paid
   * to the fees account (Binance's BLVTs publish `purchaseFeePct` / `redeemFeePct` per token); absent: none.
   */
  creationFee: fixedBetween(0n, 10_000_000n, 'a rate in [0, 0.1]').optional(),
  redemptionFee: fixedBetween(0n, 10_000_000n, 'a rate in [0, 0.1]').optional(),
  /** The daily rebalance, "HH:MM" or "HH:MM:SS" UTC (FTX: 00:02); absent: band rebalances only. */
  dailyAt: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, 'must be a UTC time of day, "HH:MM" or "HH:MM:SS" (e.g. "00:02")')
    .optional(),
});

export const RulesSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    model: z.enum(['cross', 'isolated', 'portfolio', 'var', 'lending']),
    lending: LendingRulesSchema.optional(),
    history: HistoryRulesSchema.default({ sampleSeconds: 86_400 }),
    var: VarRulesSchema.optional(),
    dynamic: DynamicRulesSchema.optional(),
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
    /** ADL policy and fill (adl.schema.ts); absent: the queue at the bankruptcy price. */
    adl: AdlRulesSchema.optional(),
    accounts: z.strictObject({
      insurance: accountId,
      fees: accountId,
      backstop: accountId,
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
    isolatedAccounts: z.array(accountId).default([]),
    /** Per instrument; the key "*" applies to every instrument not named (tiered models). */
    instruments: z.record(z.string().min(1), InstrumentRulesSchema).default({}),
    /** Market impact of liquidation and ADL fills (cascades); absent: none. */
    impact: ImpactRulesSchema.optional(),
    /** Leveraged tokens rebalanced by the saga (docs/rules.md §12); absent: none. */
    tokens: z.record(z.string().min(1), LeveragedTokenSchema).optional(),
    /** Venue liquidation mechanics (dYdX, Drift); absent: the generic waterfall. */
    venueLiquidation: VenueLiquidationSchema.optional(),
    /** Funding computed from the premium index (Binance, Deribit); absent: a FundingRateApplied's rate is paid as given. */
    funding: FundingRulesSchema.optional(),
    /** Venue margin and collateral mechanics (venue-margin.schema.ts); absent: the tiers and haircuts alone. */
    venueMargin: VenueMarginSchema.optional(),
  })
  .superRefine((rules, ctx) => {
    for (const issue of venueLiquidationIssues(rules)) ctx.addIssue({ code: 'custom', ...issue });
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
    if (rules.isolatedAccounts.length > 0 && rules.model !== 'cross' && rules.model !== 'isolated') {
      ctx.addIssue({ code: 'custom', path: ['isolatedAccounts'], message: `isolated margin applies to the tiered models (cross, isolated), not to model ${rules.model}` });
    }
    if (rules.dynamic && rules.dynamic.floor > rules.dynamic.cap) {
      ctx.addIssue({ code: 'custom', path: ['dynamic', 'floor'], message: 'floor must not exceed cap' });
    }
    if (rules.dynamic?.antiProcyclicality.kind === 'stressed-weight' && rules.dynamic.antiProcyclicality.weight > 100_000_000n) {
      ctx.addIssue({ code: 'custom', path: ['dynamic', 'antiProcyclicality', 'weight'], message: 'must be at most 1' });
    }
    const grouped = new Map<string, number>();
    for (const [i, group] of (rules.portfolio?.groups ?? []).entries()) {
      for (const member of group.members) {
        if (grouped.has(member)) ctx.addIssue({ code: 'custom', path: ['portfolio', 'groups', i, 'members'], message: `"${member}" is already in group ${grouped.get(member)}: an underlying belongs to at most one group` });
        grouped.set(member, i);
      }
    }
    if (rules.model === 'lending' && !rules.lending) {
      ctx.addIssue({ code: 'custom', path: ['lending'], message: 'model: lending needs a lending section (assets with ltv and liquidationThreshold)' });
    }
    for (const [asset, a] of Object.entries(rules.lending?.assets ?? {})) {
      if (a.ltv > a.liquidationThreshold) ctx.addIssue({ code: 'custom', path: ['lending', 'assets', asset, 'ltv'], message: 'ltv must not exceed liquidationThreshold' });
    }
    if (rules.model === 'var' && !rules.var) {
      ctx.addIssue({ code: 'custom', path: ['var'], message: 'model: var needs a var section (method, measure, confidence, lookback, horizonDays)' });
    }
    if (rules.model === 'portfolio' && !rules.portfolio) {
      ctx.addIssue({ code: 'custom', path: ['portfolio'], message: 'model: portfolio needs a portfolio section (underlyings with their scan ranges)' });
    }
    for (const [i, group] of (rules.portfolio?.groups ?? []).entries()) {
      for (const member of group.members) {
        if (!Object.hasOwn(rules.portfolio!.underlyings, member)) ctx.addIssue({ code: 'custom', path: ['portfolio', 'groups', i, 'members'], message: `"${member}" is not an underlying of portfolio.underlyings` });
      }
    }
    refineAdl(rules, ctx);
    const { insurance, fees, backstop } = rules.accounts;
    const tokenAccounts = new Map<string, string>();
    for (const [token, spec] of Object.entries(rules.tokens ?? {})) {
      const path = ['tokens', token];
      if (rules.model !== 'cross') ctx.addIssue({ code: 'custom', path, message: `leveraged tokens need model: cross (a token's fund nets its position against its NAV), not ${rules.model}` });
      const target = spec.targetLeverage < 0n ? -spec.targetLeverage : spec.targetLeverage;
      if (!(spec.band.min < target && target < spec.band.max)) ctx.addIssue({ code: 'custom', path: [...path, 'band'], message: 'the band must enclose |targetLeverage| strictly (min < |target| < max)' });
      if (spec.account === spec.counterparty) ctx.addIssue({ code: 'custom', path: [...path, 'counterparty'], message: 'must not be the token\'s own account' });
      for (const field of ['account', 'counterparty'] as const) {
        if ([insurance, fees, backstop].includes(spec[field])) ctx.addIssue({ code: 'custom', path: [...path, field], message: `"${spec[field]}" is a system account (insurance, fees, backstop): a token trades with an ordinary account` });
      }
      if (rules.isolatedAccounts.includes(spec.account)) ctx.addIssue({ code: 'custom', path: [...path, 'account'], message: `"${spec.account}" is in isolatedAccounts: a token's fund is cross-margined` });
      const other = tokenAccounts.get(spec.account);
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: [...path, 'account'], message: `"${spec.account}" is already the account of token ${other}: one fund per token` });
      tokenAccounts.set(spec.account, token);
    }
    if (new Set([insurance, fees, backstop]).size !== 3) {
      ctx.addIssue({ code: 'custom', path: ['accounts'], message: 'insurance, fees and backstop must be three different accounts' });
    }
    refineVenueMargin(rules, ctx);
  });

export type Tier = z.output<typeof TierSchema>;
export type UnderlyingScan = z.output<typeof UnderlyingScanSchema>;
export type PortfolioRules = z.output<typeof PortfolioRulesSchema>;
export type VarRules = z.output<typeof VarRulesSchema>;
export type LendingRules = z.output<typeof LendingRulesSchema>;
export type DynamicRules = z.output<typeof DynamicRulesSchema>;
export type InstrumentRules = z.output<typeof InstrumentRulesSchema>;
export type Rules = z.output<typeof RulesSchema>;
export type ImpactLaw = z.output<typeof ImpactLawSchema>;
export type ImpactRules = z.output<typeof ImpactRulesSchema>;
export type LeveragedToken = z.output<typeof LeveragedTokenSchema>;
/** The rules as written (decimal strings), the form recorded in `RulesActivated`. */
export type RulesInput = z.input<typeof RulesSchema>;
