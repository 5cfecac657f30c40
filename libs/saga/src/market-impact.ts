import { abs, div, mul, SCALE, type Fixed } from '@clearsim/money';
import type { Timestamp } from '@clearsim/events';
import type { ImpactLaw, Rules } from '@clearsim/rules';

/**
 * The market impact of forced fills (rules `impact`, docs/rules.md §11): the
 * rule alone, pure over its figures. Where it is applied (after each round of
 * margin checks, and as decay when an input arrives) is the clearing step's.
 */

/** An instrument's mark displaced by impact: mark = reference + residual. */
export interface ImpactResidual {
  /** The last mark an input set. */
  reference: Fixed;
  /** mark − reference; never zero (a zero residual is no entry). */
  residual: Fixed;
  /** When the residual was last set (an impact or a decay). */
  since: Timestamp;
}

/** The impact part of a shard's state. */
export interface ImpactState {
  residuals: Map<string, ImpactResidual>;
  /** An impact moved a mark in this step and no liquidation has followed it yet: the next one starts a cascade wave. */
  waveOpen: boolean;
}

/** The instrument's impact law: its own, else "*"; undefined when the rules have no impact or none for it. */
export function impactLawOf(rules: Rules, instrument: string): ImpactLaw | undefined {
  return rules.impact?.instruments[instrument] ?? rules.impact?.instruments['*'];
}

/** ⌊√n⌋ of a non-negative bigint (Newton's method, exact). */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  // Newton from a power of two at or above the root decreases monotonically to ⌊√n⌋
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (let y = (x + n / x) / 2n; y < x; y = (x + n / x) / 2n) x = y;
  return x;
}

/**
 * Δp/p of one fill of `notional`: k · notional/depth (`linear`) or
 * k · √(notional/depth) (`sqrt`), at most `capPerFill`; in ledger units
 * (1e-8), rounded down at each step, exact (bigint, no float).
 */
export function relativeImpact(law: ImpactLaw, notional: Fixed): Fixed {
  const ratio = div(abs(notional), law.depth, 'floor');
  const shape = law.law === 'linear' ? ratio : isqrt(ratio * SCALE);
  const move = mul(law.k, shape, 'floor');
  return move < law.capPerFill ? move : law.capPerFill;
}

/** The price distance a relative move makes from `mark`, rounded up (a forced fill moves the mark by at least one unit). */
export function impactDistance(mark: Fixed, relative: Fixed): Fixed {
  return relative > 0n ? mul(mark, relative, 'ceil') : 0n;
}

/**
 * The residual left `elapsedMs` after it was set: residual · 2^(−elapsed/halfLife),
 * the factor rounded to 8 decimals, the product truncated toward zero (so it
 * reaches zero). After exactly one half-life the factor is 0.5 exactly.
 */
export function decayedResidual(residual: Fixed, elapsedMs: number, halfLifeSeconds: number): Fixed {
  if (elapsedMs <= 0) return residual;
  const factor = BigInt(Math.round(2 ** (-elapsedMs / (halfLifeSeconds * 1000)) * 1e8));
  return mul(residual, factor, residual >= 0n ? 'floor' : 'ceil');
}
