import { formatTimestamp } from '@clearsim/events';
import type { Fixed } from '@clearsim/money';
import { generateInputs, type GeneratedPath, type InputJson } from './generate';
import { streamFor, type SplitMix64 } from './prng';
import { StressSchema, type Scenario, type StressParameters } from './scenario.schema';

/**
 * `clearsim stress`'s price paths (docs/stress.md): seeded variations around a
 * scenario's own path. For path number `p` of stress seed `S`, every generated
 * tick price `base` of an instrument becomes `base × exp(X)`, where `X` is the
 * running sum of that instrument's log-returns since `start`:
 *
 *   r_t  = σ_t · ε_t + J_t                        (one step per generated tick)
 *   σ²_t = ω + α · r²_{t−1} + β · σ²_{t−1}        σ²_0 = ω / (1 − α − β), r_0 = 0
 *   ε_t  = √ρ · Z_t + √(1 − ρ) · η_t               Z: the market's factor, η: the instrument's own
 *   J_t  = Σ_{k=1..N_t} (μ_J + σ_J · ξ_k)          N_t ~ Poisson(λ), market-wide (every instrument)
 *
 * Z, N and ξ come from the stream `stress/<p>/market`, drawn once per distinct
 * tick time; η from `stress/<p>/<instrument>`, once per tick of that
 * instrument; both seeded from (S, p) only, so a path is the same whichever
 * worker computes it and in whatever order. The math is float64 (risk math):
 * only `Math.sqrt` (exact in IEEE 754), `Math.log` and `Math.exp`; the price is
 * rounded once to the scenario's price step.
 */

/** The stress block of a scenario, or the documented defaults when it has none. */
export function stressParameters(scenario: Pick<Scenario, 'stress'>): StressParameters {
  return scenario.stress ?? StressSchema.parse({});
}

/**
 * The GARCH(1,1) conditional variances σ²_1 … σ²_n before each of `returns`
 * r_1 … r_n is drawn (σ²_1 = ω + α·r_0² + β·σ²_0 with r_0 = 0 and σ²_0 the
 * unconditional variance ω / (1 − α − β)), then each σ²_{t+1} from r_t.
 */
export function garchVariances(garch: StressParameters['garch'], returns: readonly number[]): number[] {
  let variance = unconditionalVariance(garch);
  let previousReturn = 0;
  const out: number[] = [];
  for (const r of returns) {
    variance = garchStep(garch, variance, previousReturn);
    out.push(variance);
    previousReturn = r;
  }
  return out;
}

/** σ²_t = ω + α · r²_{t−1} + β · σ²_{t−1}. */
export function garchStep(garch: StressParameters['garch'], previousVariance: number, previousReturn: number): number {
  return garch.omega + garch.alpha * previousReturn * previousReturn + garch.beta * previousVariance;
}

/** The long-run variance ω / (1 − α − β) (the schema guarantees α + β < 1). */
export function unconditionalVariance(garch: StressParameters['garch']): number {
  return garch.omega / (1 - garch.alpha - garch.beta);
}

const TWO_POW_53 = 2 ** 53;

/** A uniform float in (0, 1]: the top 53 bits of one 64-bit draw, plus one, over 2^53. */
export function uniformOpen0(rng: SplitMix64): number {
  return (Number(rng.next() >> 11n) + 1) / TWO_POW_53;
}

/** A standard normal draw by Marsaglia's polar method (two uniforms per try; the second normal of the pair is discarded). */
export function standardNormal(rng: SplitMix64): number {
  for (;;) {
    const u = 2 * uniformOpen0(rng) - 1;
    const v = 2 * uniformOpen0(rng) - 1;
    const s = u * u + v * v;
    if (s > 0 && s < 1) return u * Math.sqrt((-2 * Math.log(s)) / s);
  }
}

/** A Poisson(λ) count by Knuth's multiplication method (λ ≤ 10 in the schema, so the loop is short). */
export function poisson(rng: SplitMix64, lambda: number): number {
  const limit = Math.exp(-lambda);
  let count = 0;
  let product = uniformOpen0(rng);
  while (product > limit) {
    count++;
    product *= uniformOpen0(rng);
  }
  return count;
}

/** One market-wide draw of one tick time: the common factor Z, the jump count N and the summed jump log-size J. */
export interface MarketShock {
  z: number;
  jumps: number;
  jump: number;
}

/**
 * The market-wide draws of stress path `pathIndex`, one per tick time in
 * increasing order, from the stream `stress/<pathIndex>/market`: Z, then N,
 * then ξ_1 … ξ_N.
 */
export function marketShocks(stressSeed: bigint, pathIndex: number, times: readonly number[], jumps: StressParameters['jumps']): MarketShock[] {
  const market = streamFor(stressSeed, `stress/${pathIndex}/market`);
  return times.map(() => {
    const z = standardNormal(market);
    const count = poisson(market, jumps.intensity);
    let jump = 0;
    for (let k = 0; k < count; k++) jump += jumps.mean + jumps.stdev * standardNormal(market);
    return { z, jumps: count, jump };
  });
}

/**
 * The shocked paths of stress path `pathIndex` (seed `stressSeed`): same
 * instruments, same tick times, prices `base × exp(X)` rounded to the price
 * step `10^-decimals` (nearest; at least one step).
 */
export function stressPaths(paths: readonly GeneratedPath[], parameters: StressParameters, decimals: number, stressSeed: bigint, pathIndex: number): GeneratedPath[] {
  const { garch, jumps, correlation } = parameters;
  const times = [...new Set(paths.flatMap((p) => p.ticks.map((t) => t.at)))].sort((a, b) => a - b);
  const drawn = marketShocks(stressSeed, pathIndex, times, jumps);
  const shocks = new Map(times.map((at, i) => [at, drawn[i]!]));
  const common = Math.sqrt(correlation);
  const own = Math.sqrt(1 - correlation);
  const scale = 10 ** decimals;
  const step = 10n ** BigInt(8 - decimals);
  return paths.map(({ instrument, ticks }) => {
    const rng = streamFor(stressSeed, `stress/${pathIndex}/${instrument}`);
    let variance = unconditionalVariance(garch);
    let previousReturn = 0;
    let logShift = 0;
    return {
      instrument,
      ticks: ticks.map(({ at, price }) => {
        const shock = shocks.get(at)!;
        variance = garchStep(garch, variance, previousReturn);
        const epsilon = common * shock.z + own * standardNormal(rng);
        const r = Math.sqrt(variance) * epsilon + shock.jump;
        logShift += r;
        previousReturn = r;
        return { at, price: shiftedPrice(price, logShift, scale, step, instrument, at) };
      }),
    };
  });
}

/**
 * A stress path whose price leaves what a price can hold (more than 2^53 − 1 steps): the scenario's stress settings
 * with this seed cannot be priced, the same way every time (a usage error of the scenario, not a failure of the run).
 */
export class StressPathOverflow extends RangeError {}

/** base × exp(x), rounded to the nearest price step (at least one step). */
function shiftedPrice(base: Fixed, x: number, scale: number, step: Fixed, instrument: string, at: number): Fixed {
  const steps = Math.round((Number(base) / 1e8) * Math.exp(x) * scale);
  if (!Number.isFinite(steps) || steps > Number.MAX_SAFE_INTEGER) {
    throw new StressPathOverflow(`stress: the path of ${instrument} overflows at ${formatTimestamp(at)} (log-shift ${x})`);
  }
  return steps >= 1 ? BigInt(steps) * step : step;
}

/**
 * The scenario's input events with the prices of stress path `pathIndex`: the
 * same events as `generateInputs` (rules, listings, deposits, the population
 * trading at the start price, the extra events), every generated tick after
 * `start` moved by the path's shock.
 */
export function stressedInputs(scenario: Scenario, rules: Record<string, unknown>, stressSeed: bigint, pathIndex: number): InputJson[] {
  const parameters = stressParameters(scenario);
  return generateInputs(scenario, rules, { reshapePaths: (paths) => stressPaths(paths, parameters, scenario.prices.decimals, stressSeed, pathIndex) });
}
