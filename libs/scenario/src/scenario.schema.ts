import { z } from 'zod';
import { decodeEvent, InputError, parseTimestamp, type Timestamp } from '@clearsim/events';
import { SCALE, type Fixed } from '@clearsim/money';
import { fixedBetween, positiveFixed } from '@clearsim/rules';

/**
 * The scenario file (docs/scenarios.md): a compact description of a market
 * history — instruments, piecewise-linear price paths, explicit accounts and
 * generated populations of leveraged traders — from which `generateInputs`
 * derives the input events, deterministically from `seed`.
 */

const id = z.string().min(1, 'must not be empty');

/** An ISO-8601 UTC timestamp (a string; a YAML 1.1 timestamp parsed to a Date is accepted too). */
const timestamp = z.union([z.string(), z.date()]).transform((value, ctx): Timestamp => {
  const ms = typeof value === 'string' ? parseTimestamp(value) : Number.isFinite(value.getTime()) ? value.getTime() : undefined;
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(String(value))} is not an ISO-8601 UTC timestamp (e.g. 2020-03-12T00:00:00Z)` });
    return z.NEVER;
  }
  return ms;
});

/** A non-negative integer seed (a JSON number, or a string of digits for seeds above 2^53). */
const seed = z.union([z.number().int('must be an integer').nonnegative('must not be negative'), z.string().regex(/^\d+$/, 'must be a non-negative integer')]).transform((v) => BigInt(v));

/** `[lo, hi]`, two decimals with 0 < lo <= hi. */
const positiveRange = z.tuple([positiveFixed, positiveFixed]).refine(([lo, hi]) => lo <= hi, { message: 'must be [low, high] with low <= high' });

export const InstrumentSpecSchema = z.strictObject({
  kind: z.enum(['perpetual', 'future', 'option', 'index']),
  underlying: id.optional(),
  settlementAsset: id.default('USD'),
  multiplier: positiveFixed.default(SCALE),
  expiry: timestamp.optional(),
  optionType: z.enum(['call', 'put']).optional(),
  strike: positiveFixed.optional(),
  /** `inverse`: coin-margined, `multiplier` the face value in the quote currency, `settlementAsset` the coin (InstrumentListed.payoff). */
  payoff: z.enum(['linear', 'inverse']).optional(),
});

export const WaypointSchema = z.strictObject({ at: timestamp, price: positiveFixed });

export const PricesSchema = z.strictObject({
  /** Seconds between two generated `PriceUpdated` of one instrument. */
  every: z.number().int('must be a whole number of seconds').positive('must be at least 1 second'),
  /** Relative amplitude of the seeded jitter around the path: price × (1 + noise × u), u uniform in [−1, 1]. */
  noise: fixedBetween(0n, SCALE / 2n, 'a relative amplitude between 0 and 0.5').default(0n),
  /** Decimal places of generated prices (rounded half-even); waypoints may not be finer. */
  decimals: z.number().int('must be an integer').min(0, 'must be between 0 and 8').max(8, 'must be between 0 and 8').default(2),
  paths: z.record(id, z.array(WaypointSchema).min(1, 'at least one waypoint')),
});

export const AccountSpecSchema = z.strictObject({
  deposit: positiveFixed.optional(),
  asset: id.default('USD'),
});

export const PopulationSchema = z.strictObject({
  prefix: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'must be letters, digits, "_", ".", ":" or "-", starting with a letter or digit'),
  count: z.number().int('must be an integer').positive('must be at least 1').max(1_000_000, 'must be at most 1000000'),
  side: z.enum(['long', 'short']),
  instrument: id,
  leverage: positiveRange,
  collateral: positiveRange,
  counterparty: id,
});

/**
 * Units of a leveraged token of the rules (`tokens:` there, docs/rules.md §12)
 * issued at `start` at a NAV per unit: the fund receives units × nav and buys
 * (or, a short token, sells) its basket from the token's counterparty at the
 * start price.
 */
export const TokenIssueSchema = z.strictObject({
  units: positiveFixed,
  /** NAV per unit at issue, in the instrument's settlement asset. */
  nav: positiveFixed,
  /**
   * Accounts of the scenario (explicit or generated) that create the units
   * (TokenUnitsCreated, docs/rules.md §12), split equally in written order
   * (the last takes the remainder); each is first deposited what it pays.
   * Without holders the units are no account's (the fund is deposited
   * units × nav).
   */
  holders: z.array(id).min(1, 'at least one holder').optional(),
});

/** A finite number (YAML/JSON number) with a lower bound, for the stress model's float parameters. */
const floatAtLeast = (min: number, inclusive: boolean, what: string) =>
  z.number({ error: `must be a number (${what})` }).refine((v) => Number.isFinite(v) && (inclusive ? v >= min : v > min), { message: `must be ${inclusive ? '>=' : '>'} ${min} (${what})` });

/**
 * `clearsim stress`'s path model (docs/stress.md): per instrument, GARCH(1,1)
 * log-returns plus Poisson jumps, one step per generated tick, the diffusive
 * shocks of the instruments sharing one common factor. Optional: a scenario
 * without it is unchanged, and `stress` uses these defaults. Floats: this is
 * risk math; the prices it makes are rounded to the scenario's price step.
 */
export const StressSchema = z
  .strictObject({
    garch: z
      .strictObject({
        /** Constant of the variance recursion, per step (a variance of log-returns). */
        omega: floatAtLeast(0, true, 'a per-step variance').default(5e-8),
        /** Weight of the last squared return. */
        alpha: floatAtLeast(0, true, 'a weight').default(0.05),
        /** Weight of the last variance (persistence). */
        beta: floatAtLeast(0, true, 'a weight').default(0.9),
      })
      .superRefine((g, ctx) => {
        if (g.alpha + g.beta >= 1) ctx.addIssue({ code: 'custom', path: ['beta'], message: `alpha + beta must be < 1 for a stationary GARCH(1,1) (got ${g.alpha} + ${g.beta} = ${g.alpha + g.beta})` });
      })
      .default({ omega: 5e-8, alpha: 0.05, beta: 0.9 }),
    jumps: z
      .strictObject({
        /** Expected number of jumps per step (Poisson). */
        intensity: floatAtLeast(0, true, 'expected jumps per step').refine((v) => v <= 10, { message: 'must be <= 10 (expected jumps per step)' }).default(0.001),
        /** Mean of one jump's log-size. */
        mean: z.number({ error: 'must be a number (mean jump log-size)' }).refine(Number.isFinite, { message: 'must be finite' }).default(-0.02),
        /** Standard deviation of one jump's log-size. */
        stdev: floatAtLeast(0, true, 'a standard deviation').default(0.03),
      })
      .default({ intensity: 0.001, mean: -0.02, stdev: 0.03 }),
    /** Correlation of the instruments' diffusive shocks (one common factor), in [0, 1]. */
    correlation: floatAtLeast(0, true, 'a correlation in [0, 1]').refine((v) => v <= 1, { message: 'must be <= 1 (a correlation in [0, 1])' }).default(0.8),
  });

export const ScenarioSchema = z
  .strictObject({
    name: id,
    description: z.string().optional(),
    /** A preset name, a path relative to the scenario file, or the rules inline. */
    rules: z.union([id, z.record(z.string(), z.unknown())]),
    seed,
    start: timestamp,
    end: timestamp.optional(),
    instruments: z.record(id, InstrumentSpecSchema).refine((r) => Object.keys(r).length > 0, { message: 'at least one instrument' }),
    prices: PricesSchema,
    accounts: z.record(id, AccountSpecSchema).default({}),
    population: z.array(PopulationSchema).default([]),
    /** Leveraged tokens of the rules issued at start (docs/scenarios.md). */
    tokens: z.record(id, TokenIssueSchema).default({}),
    events: z.array(z.record(z.string(), z.unknown())).default([]),
    /** `clearsim stress`'s path model; optional (docs/stress.md). */
    stress: StressSchema.optional(),
  })
  .superRefine((s, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const instruments = Object.keys(s.instruments);
    const step = 10n ** BigInt(8 - s.prices.decimals);

    for (const instrument of instruments) {
      if (!Object.hasOwn(s.prices.paths, instrument)) issue(['prices', 'paths', instrument], `missing: instrument "${instrument}" needs a price path`);
    }
    let lastWaypoint = s.start;
    for (const [instrument, path] of Object.entries(s.prices.paths)) {
      const where = ['prices', 'paths', instrument];
      if (!Object.hasOwn(s.instruments, instrument)) issue(where, `"${instrument}" is not in instruments`);
      path.forEach((point, i) => {
        if (i === 0 && point.at !== s.start) issue([...where, 0, 'at'], 'the first waypoint must be at start');
        if (i > 0 && point.at <= path[i - 1]!.at) issue([...where, i, 'at'], 'waypoints must be in strictly increasing time');
        if (point.price % step !== 0n) issue([...where, i, 'price'], `has more than prices.decimals (${s.prices.decimals}) decimal places`);
        if (point.at > lastWaypoint) lastWaypoint = point.at;
      });
    }
    if (s.end !== undefined && s.end < lastWaypoint) issue(['end'], 'must not be before the last waypoint');

    const populationIds = new Set<string>();
    const prefixes = new Set<string>();
    s.population.forEach((group, i) => {
      const where = ['population', i];
      if (!Object.hasOwn(s.instruments, group.instrument)) issue([...where, 'instrument'], `"${group.instrument}" is not in instruments`);
      if (!Object.hasOwn(s.accounts, group.counterparty)) issue([...where, 'counterparty'], `"${group.counterparty}" is not in accounts`);
      if (prefixes.has(group.prefix)) issue([...where, 'prefix'], `"${group.prefix}" is used by another population group`);
      prefixes.add(group.prefix);
      for (const account of populationAccountIds(group.prefix, group.count)) {
        if (Object.hasOwn(s.accounts, account) || populationIds.has(account)) {
          issue([...where, 'prefix'], `generated account "${account}" collides with another account`);
          break;
        }
        populationIds.add(account);
      }
    });

    s.events.forEach((raw, i) => {
      try {
        const event = decodeEvent(raw, 'input');
        if (event.ts < s.start) issue(['events', i, 'ts'], 'must not be before start');
        if (s.end !== undefined && event.ts > s.end) issue(['events', i, 'ts'], 'must not be after end');
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        for (const { field, message } of error.issues) issue(['events', i, ...(field ? field.split('.') : [])], message);
      }
    });
  });

/** The generated account ids of a population group: `prefix-001` … `prefix-400`, zero-padded to the width of `count`. */
export function populationAccountIds(prefix: string, count: number): string[] {
  const width = String(count).length;
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(width, '0')}`);
}

export type Scenario = z.output<typeof ScenarioSchema>;
/** The scenario as written (YAML / JSON), before validation. */
export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type InstrumentSpec = z.output<typeof InstrumentSpecSchema>;
export type Waypoint = z.output<typeof WaypointSchema>;
export type PopulationGroup = z.output<typeof PopulationSchema>;
export type StressParameters = z.output<typeof StressSchema>;
export type TokenIssue = z.output<typeof TokenIssueSchema>;
export type { Fixed, Timestamp };
