import { z } from 'zod';
import { decodeEvent, InputError, MAX_EXACT_DIGITS, MAX_ID_LENGTH, parseTimestamp, type Timestamp } from '@clearsim/events';
import { SCALE, type Fixed } from '@clearsim/money';
import { fixed, refineBetween, refinePositive, refuseControlCharacters } from '@clearsim/rules';

/**
 * The scenario file (docs/scenarios.md): a compact description of a market
 * history — instruments, piecewise-linear price paths, explicit accounts and
 * generated populations of leveraged traders — from which `generateInputs`
 * derives the input events, deterministically from `seed`.
 */

// Limits of what a scenario may generate (docs/scenarios.md, Limits), checked when it is parsed — before anything
// is built. Generation holds the population (its account ids for the collision checks, the traders' draws) but not
// the price path, which generateInputStream makes as it is taken: measured on the generator (Node 20), 1,000,000
// traders (2,000,000 inputs) ~7 s and ~0.6 GB. A command that holds every generated input at once (`clearsim stress`,
// each path's inputs in memory) also refuses more than MAX_GENERATED_INPUTS of them (checkHeldInputs): 3,000,000
// took ~14 s and ~2.3 GB as one array.

/** Traders of one population group. */
export const MAX_POPULATION_COUNT = 1_000_000;
/** Traders of all the groups together: each has an id in memory and two generated inputs. */
export const MAX_POPULATION_TOTAL = 1_000_000;
/** Inputs a scenario may generate (counting each instrument's price marks apart) for a command that holds them all (checkHeldInputs): the population's alone leave room under it. */
export const MAX_GENERATED_INPUTS = 3_000_000;

/** An id that becomes an event's id (instrument, asset, account): the events' own bounds and characters, so the scenario names the field rather than a generated line. */
const id = refuseControlCharacters(z.string().min(1, 'must not be empty').max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`));
/** Text that only names (the scenario, its rules file): no id bound. */
const text = z.string().min(1, 'must not be empty');

/**
 * Why a YAML number cannot be taken as the decimal it was written as, or
 * undefined. The YAML is parsed before the scenario sees it (parseBoundedYaml,
 * @clearsim/rules) and only the float64 is left: the rule is the JSON inputs'
 * (json-limits.ts, MAX_EXACT_DIGITS), applied to the float's shortest text.
 * A decimal of at most 15 significant digits always survives the float64 and
 * comes back from String() with at most as many; more than 15 in String()
 * means the written digits were rounded (12345678901234567 → 12345678901234568)
 * or may have been. (A float64 is not refused for its exponent: 0.00000001 is
 * read as 1e-8, exactly.) What no check on the value can see: more than 15
 * digits that round to a shorter float (0.10000000000000000001 → 0.1).
 */
export function inexactYamlNumber(value: number): string | undefined {
  if (!Number.isFinite(value)) return undefined; // parseFixed names it
  const mantissa = String(Math.abs(value)).split('e')[0]!.replace('.', '');
  const significant = mantissa.replace(/^0+/, '').replace(/0+$/, '').length;
  if (significant <= MAX_EXACT_DIGITS) return undefined;
  return `the YAML number read as ${String(value)} cannot be represented exactly (more than ${MAX_EXACT_DIGITS} significant digits): write it as a decimal string, in quotes`;
}

const refuseInexact = (value: string | number, ctx: z.RefinementCtx): void => {
  const problem = typeof value === 'number' ? inexactYamlNumber(value) : undefined;
  // not continuable: the pipe would hand the float on, and a refinement above would compute with it
  if (problem) ctx.addIssue({ code: 'custom', message: problem, continue: false });
};

/**
 * A decimal (string, or YAML number) parsed exactly: @clearsim/rules' `fixed`,
 * after the exactness check on numbers (the pipe stops at its issue: the
 * rounded float is never parsed).
 */
const decimal = z.union([z.string(), z.number()]).superRefine(refuseInexact).pipe(fixed);
const positiveDecimal = refinePositive(decimal);
const decimalBetween = (lo: Fixed, hi: Fixed, what: string) => refineBetween(decimal, lo, hi, what);

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
const seed = z
  .union([
    z
      .number()
      // zod's int() also refuses integers beyond 2^53 (as too_big): say how to write such a seed
      .int({ error: (issue) => (issue.code === 'too_big' ? 'a seed above 2^53 must be written as a string of digits, in quotes' : 'must be an integer') })
      .nonnegative('must not be negative')
      // 16 digits or more below 2^53: may have been rounded (1234567890123456.7 is read as 1234567890123457); above, int() said it
      .superRefine((value, ctx) => {
        if (Number.isSafeInteger(value)) refuseInexact(value, ctx);
      }),
    z.string().regex(/^\d+$/, 'must be a non-negative integer'),
  ])
  .transform((v) => BigInt(v));

/** `[lo, hi]`, two decimals with 0 < lo <= hi. */
const positiveRange = z.tuple([positiveDecimal, positiveDecimal]).refine(([lo, hi]) => lo <= hi, { message: 'must be [low, high] with low <= high' });

export const InstrumentSpecSchema = z.strictObject({
  kind: z.enum(['perpetual', 'future', 'option', 'index']),
  underlying: id.optional(),
  settlementAsset: id.default('USD'),
  multiplier: positiveDecimal.default(SCALE),
  expiry: timestamp.optional(),
  optionType: z.enum(['call', 'put']).optional(),
  strike: positiveDecimal.optional(),
  /** `inverse`: coin-margined, `multiplier` the face value in the quote currency, `settlementAsset` the coin (InstrumentListed.payoff). */
  payoff: z.enum(['linear', 'inverse']).optional(),
});

export const WaypointSchema = z.strictObject({ at: timestamp, price: positiveDecimal });

export const PricesSchema = z.strictObject({
  /**
   * Seconds between two generated `PriceUpdated` of one instrument. Its checks,
   * as decimals' and count's, `abort`: zod runs an object's refinements after a
   * field failed a plain check (only a type error or an aborting check stops
   * them), and ScenarioSchema's computes with these three — a price step
   * 10^(8 − decimals), the number of marks, the traders' ids.
   */
  every: z.number().int('must be a whole number of seconds').positive({ message: 'must be at least 1 second', abort: true }),
  /** Relative amplitude of the seeded jitter around the path: price × (1 + noise × u), u uniform in [−1, 1]. */
  noise: decimalBetween(0n, SCALE / 2n, 'a relative amplitude between 0 and 0.5').default(0n),
  /** Decimal places of generated prices (rounded half-even); waypoints may not be finer. */
  decimals: z
    .number()
    .int('must be an integer')
    .min(0, { message: 'must be between 0 and 8', abort: true })
    .max(8, { message: 'must be between 0 and 8', abort: true })
    .default(2),
  paths: z.record(id, z.array(WaypointSchema).min(1, 'at least one waypoint')),
});

export const AccountSpecSchema = z.strictObject({
  deposit: positiveDecimal.optional(),
  asset: id.default('USD'),
});

export const PopulationSchema = z
  .strictObject({
    prefix: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'must be letters, digits, "_", ".", ":" or "-", starting with a letter or digit'),
    // aborting (see prices.every): the refinements below build count ids, and 4294967296 of them is no array at all
    count: z
      .number()
      .int('must be an integer')
      .positive({ message: 'must be at least 1', abort: true })
      .max(MAX_POPULATION_COUNT, { message: `must be at most ${MAX_POPULATION_COUNT}`, abort: true }),
    side: z.enum(['long', 'short']),
    instrument: id,
    leverage: positiveRange,
    collateral: positiveRange,
    counterparty: id,
  })
  .superRefine((group, ctx) => {
    // the longest generated id is a trader's opening tradeId, `open-<prefix>-<n>` (n padded to the width of count)
    const room = MAX_ID_LENGTH - 'open-'.length - 1 - String(group.count).length;
    if (group.prefix.length > room) {
      ctx.addIssue({ code: 'custom', path: ['prefix'], message: `must be at most ${room} characters with a count of ${group.count}: its trade ids "open-<prefix>-<n>" are ids of at most ${MAX_ID_LENGTH} characters` });
    }
  });

/**
 * Units of a leveraged token of the rules (`tokens:` there, docs/rules.md §12)
 * issued at `start` at a NAV per unit: the fund receives units × nav and buys
 * (or, a short token, sells) its basket from the token's counterparty at the
 * start price.
 */
export const TokenIssueSchema = z.strictObject({
  units: positiveDecimal,
  /** NAV per unit at issue, in the instrument's settlement asset. */
  nav: positiveDecimal,
  /**
   * Accounts of the scenario (explicit or generated) that create the units
   * (TokenUnitsCreated, docs/rules.md §12), split equally in written order
   * (the last takes the remainder); each is first deposited what it pays.
   * Without holders the units are no account's (the fund is deposited
   * units × nav).
   */
  holders: z.array(id).min(1, 'at least one holder').optional(),
});

/**
 * A finite number (YAML/JSON number) with a lower bound, for the stress model's float parameters. Aborting: the
 * refinements after it (an upper bound, alpha + beta < 1) would otherwise run on a value already refused.
 */
const floatAtLeast = (min: number, inclusive: boolean, what: string) =>
  z.number({ error: `must be a number (${what})` }).refine((v) => Number.isFinite(v) && (inclusive ? v >= min : v > min), { message: `must be ${inclusive ? '>=' : '>'} ${min} (${what})`, abort: true });

/**
 * The largest log-move one step of a stress path may be expected to make: ln(Number.MAX_SAFE_INTEGER) ≈ 36.7368005697,
 * cut to 4 decimals so that the bound the messages print is the bound checked. Why this number: stress-paths.ts
 * (shiftedPrice) turns a tick into base × exp(X) counted in price steps, a whole number from 1 (anything lower is floored
 * to one step) to Number.MAX_SAFE_INTEGER (anything higher is refused: no longer an exact count). Every price of a path
 * therefore lies in a log-range of width ln(MAX_SAFE_INTEGER), whatever the scenario's prices and decimals: a move of
 * more than that takes any price out of it — up, past the largest count (the path cannot be priced: shiftedPrice
 * refuses it), or down, below one step (floored: the path is no longer base × exp(X), and the GARCH variance it feeds, α·r²,
 * carries the steps after it out upwards). The stress block's settings are refused when one step's move at its typical
 * size — the long-run standard deviation of the diffusion, the mean log-size of one jump, its standard deviation, the
 * expected sum of one step's jumps — is already larger than the whole range. The draws stay random: within the bounds a
 * path may still leave the range (then shiftedPrice names the instrument and the tick), and beyond them one may not.
 */
export const MAX_STRESS_LOG_MOVE = Math.floor(Math.log(Number.MAX_SAFE_INTEGER) * 1e4) / 1e4;

const logMoveRange = `${MAX_STRESS_LOG_MOVE} = ln(2^53 − 1): a path's prices lie between one price step and 2^53 − 1 steps`;

/** `x` to 6 significant digits, never above it: a bound printed in a message is one the check accepts. */
const printedBound = (x: number): number => {
  const shown = Number(x.toPrecision(6));
  return shown <= x ? shown : Number((x * (1 - 1e-6)).toPrecision(6));
};

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
        if (g.alpha + g.beta >= 1) {
          ctx.addIssue({ code: 'custom', path: ['beta'], message: `alpha + beta must be < 1 for a stationary GARCH(1,1) (got ${g.alpha} + ${g.beta} = ${g.alpha + g.beta})` });
          return;
        }
        // the step's long-run standard deviation (stress-paths.ts unconditionalVariance: the variance a path starts from)
        const longRun = Math.sqrt(g.omega / (1 - g.alpha - g.beta));
        if (!(longRun <= MAX_STRESS_LOG_MOVE)) {
          const most = printedBound(MAX_STRESS_LOG_MOVE ** 2 * (1 - g.alpha - g.beta));
          ctx.addIssue({ code: 'custom', path: ['omega'], message: `must be from 0 to ${most} with this alpha and beta: the long-run standard deviation of a step, √(omega / (1 − alpha − beta)) = ${longRun}, must be at most ${logMoveRange}` });
        }
      })
      .default({ omega: 5e-8, alpha: 0.05, beta: 0.9 }),
    jumps: z
      .strictObject({
        /** Expected number of jumps per step (Poisson). */
        intensity: floatAtLeast(0, true, 'expected jumps per step').refine((v) => v <= 10, { message: 'must be <= 10 (expected jumps per step)' }).default(0.001),
        /** Mean of one jump's log-size. */
        mean: z.number({ error: 'must be a number (mean jump log-size)' }).refine(Number.isFinite, { message: 'must be finite', abort: true }).default(-0.02),
        /** Standard deviation of one jump's log-size. */
        stdev: floatAtLeast(0, true, 'a standard deviation').default(0.03),
      })
      .superRefine((j, ctx) => {
        const issue = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: [field], message });
        if (Math.abs(j.mean) > MAX_STRESS_LOG_MOVE) issue('mean', `must be from -${MAX_STRESS_LOG_MOVE} to ${MAX_STRESS_LOG_MOVE} (the mean log-size of one jump; ${logMoveRange})`);
        else if (j.intensity <= 10 && j.intensity * Math.abs(j.mean) > MAX_STRESS_LOG_MOVE) {
          const most = printedBound(MAX_STRESS_LOG_MOVE / Math.abs(j.mean));
          issue('intensity', `must be from 0 to ${most} with this mean: intensity × |mean| (the expected log-size of one step's jumps) = ${j.intensity * Math.abs(j.mean)} must be at most ${logMoveRange}`);
        }
        if (j.stdev > MAX_STRESS_LOG_MOVE) issue('stdev', `must be from 0 to ${MAX_STRESS_LOG_MOVE} (the standard deviation of one jump's log-size; ${logMoveRange})`);
      })
      .default({ intensity: 0.001, mean: -0.02, stdev: 0.03 }),
    /** Correlation of the instruments' diffusive shocks (one common factor), in [0, 1]. */
    correlation: floatAtLeast(0, true, 'a correlation in [0, 1]').refine((v) => v <= 1, { message: 'must be <= 1 (a correlation in [0, 1])' }).default(0.8),
  });

export const ScenarioSchema = z
  .strictObject({
    name: text,
    description: z.string().optional(),
    /** A preset name, a path relative to the scenario file, or the rules inline. */
    rules: z.union([text, z.record(z.string(), z.unknown())]),
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
  // Runs only once no field failed an aborting check (types, timestamps, decimals, prices.decimals, prices.every,
  // population counts): what it computes with is in range. Sizes are checked before anything is built.
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

    checkListings(s.instruments, issue);
    for (const [token, spec] of Object.entries(s.tokens)) {
      // its generated ids: the basket trade `issue-<token>`, the holders' creations `issue-<token>-<n>`
      const room = MAX_ID_LENGTH - 'issue-'.length - (spec.holders ? 1 + String(spec.holders.length).length : 0);
      if (token.length > room) issue(['tokens', token], `the token id must be at most ${room} characters here: its generated ids "issue-<token>${spec.holders ? '-<n>' : ''}" are ids of at most ${MAX_ID_LENGTH} characters`);
    }

    // the sizes, from the counts alone: nothing below builds an id or a tick past these bounds
    const traders = s.population.reduce((sum, group) => sum + group.count, 0);
    if (traders > MAX_POPULATION_TOTAL) issue(['population'], `the groups' counts add up to ${grouped(traders)} traders; at most ${grouped(MAX_POPULATION_TOTAL)} in all`);
    const populationIds = new Set<string>();
    const prefixes = new Set<string>();
    s.population.forEach((group, i) => {
      const where = ['population', i];
      if (!Object.hasOwn(s.instruments, group.instrument)) issue([...where, 'instrument'], `"${group.instrument}" is not in instruments`);
      if (!Object.hasOwn(s.accounts, group.counterparty)) issue([...where, 'counterparty'], `"${group.counterparty}" is not in accounts`);
      if (prefixes.has(group.prefix)) issue([...where, 'prefix'], `"${group.prefix}" is used by another population group`);
      prefixes.add(group.prefix);
      if (traders > MAX_POPULATION_TOTAL) return; // refused above: its ids are not built
      for (const account of populationAccountIds(group.prefix, group.count)) {
        if (Object.hasOwn(s.accounts, account) || populationIds.has(account)) {
          issue([...where, 'prefix'], `generated account "${account}" collides with another account`);
          break;
        }
        populationIds.add(account);
      }
    });

    s.events.forEach((raw, i) => {
      for (const { path, value } of inexactNumbers(raw)) issue(['events', i, ...path], inexactYamlNumber(value)!);
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

/**
 * What the clearing core refuses of an `InstrumentListed` (libs/clearing
 * validate.ts), checked at the instrument rather than at its generated line:
 * a shard has one cash asset, the first listing's settlement asset (every
 * instrument must settle in it); an option needs its underlying, type, strike
 * and expiry, and its underlying listed before it (written order), not
 * inverse; only perpetuals and futures may be inverse. (Whether the rules can
 * margin an inverse instrument is checked against the rules, at the event.)
 */
function checkListings(instruments: Record<string, InstrumentSpec>, issue: (path: (string | number)[], message: string) => void): void {
  const entries = Object.entries(instruments);
  const [firstId, first] = entries[0]!;
  entries.forEach(([instrument, spec], i) => {
    const where = ['instruments', instrument];
    if (spec.settlementAsset !== first.settlementAsset) {
      issue([...where, 'settlementAsset'], `"${spec.settlementAsset}" is not "${first.settlementAsset}", the settlement asset of instruments.${firstId}: the instruments of a scenario settle in one asset, its cash asset`);
    }
    if (spec.payoff === 'inverse' && spec.kind !== 'perpetual' && spec.kind !== 'future') issue([...where, 'payoff'], `payoff inverse applies to perpetuals and futures, not to kind ${spec.kind}`);
    if (spec.kind !== 'option') return;
    for (const field of ['underlying', 'optionType', 'strike', 'expiry'] as const) {
      if (spec[field] === undefined) issue([...where, field], 'an option needs it');
    }
    if (spec.underlying === undefined) return;
    const underlying = entries.findIndex(([id]) => id === spec.underlying);
    if (underlying < 0 || underlying >= i) issue([...where, 'underlying'], `"${spec.underlying}" must be an instrument written before the option (e.g. kind index)`);
    else if (entries[underlying]![1].payoff === 'inverse') issue([...where, 'underlying'], `options on an inverse instrument ("${spec.underlying}") are not supported`);
  });
}

/**
 * How many inputs generateInputs makes of a (valid) scenario, without making
 * them: `marks` is the price ticks of all instruments after the opening marks
 * (each instrument's `start + k × every` up to its last waypoint, plus its
 * waypoints off that grid), `total` adds everything else. An upper bound of
 * the inputs (the ticks that share an instant are one MarketMoved): the size
 * of what a command holds when it keeps them all (checkHeldInputs), and the
 * total of `clearsim run`'s progress bar.
 */
export function generatedInputCount(s: Pick<Scenario, 'start' | 'end' | 'prices' | 'instruments' | 'accounts' | 'population' | 'tokens' | 'events'>): { marks: number; total: number } {
  const stepMs = s.prices.every * 1000;
  let marks = 0;
  for (const instrument of Object.keys(s.instruments)) {
    const path = s.prices.paths[instrument]!;
    marks += Math.floor((path[path.length - 1]!.at - s.start) / stepMs);
    for (let i = 1; i < path.length; i++) if ((path[i]!.at - s.start) % stepMs !== 0) marks++;
  }
  let other = 1 + Object.keys(s.instruments).length + 1; // RulesActivated, the listings, the opening marks
  other += Object.values(s.accounts).filter((account) => account.deposit !== undefined).length;
  other += 2 * s.population.reduce((sum, group) => sum + group.count, 0); // a deposit and an opening trade each
  // a token: its fund's deposit and basket trade, or each holder's deposit and creation (and at most the trade)
  for (const token of Object.values(s.tokens)) other += token.holders ? 2 * token.holders.length + 1 : 2;
  other += s.events.length + (s.end !== undefined ? 1 : 0);
  return { marks, total: marks + other };
}

/** 1234567 → "1,234,567" (not toLocaleString: the same text whatever the locale data). */
export function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The numbers of an extra event (at any depth: MarketMoved's marks, a multi-leg trade's legs) that inexactYamlNumber refuses, with their paths. */
function inexactNumbers(root: unknown): { path: (string | number)[]; value: number }[] {
  const found: { path: (string | number)[]; value: number }[] = [];
  // iterative: the YAML's depth is bounded (parseBoundedYaml), but a walk needs no stack anyway
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: root, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'number' && inexactYamlNumber(value)) found.push({ path, value });
    else if (Array.isArray(value)) value.forEach((item, i) => stack.push({ value: item, path: [...path, i] }));
    else if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) stack.push({ value: item, path: [...path, key] });
  }
  return found.reverse();
}

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
