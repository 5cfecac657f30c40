/**
 * Dynamic margin: a multiplier on the rules' margin rates that follows EWMA
 * volatility, with a floor, a cap and an anti-procyclicality (APC) measure
 * after EMIR RTS 153/2013 Art. 28. See README §4.
 *
 * Base multiplier m = clamp(σ / σ_ref, floor, cap), with σ the current EWMA vol
 * and σ_ref the reference vol, both per step of the same history.
 *
 * APC (the applied multiplier M):
 * - 'none':   M = m.
 * - 'buffer' (Art. 28(1)(a)), buffer b ≥ 0.25, release level R (default 1):
 *             M = min(cap, max(m, (1 + b) × min(m, R))).
 *   In calm times (m ≤ R, vol at or below R × reference) the margin carries a
 *   buffer of b × m. Once m rises past R the buffered level (1 + b)R holds
 *   still while m climbs towards it: the buffer is consumed first, and the rate
 *   rises (M = m) only when m > (1 + b)R. M is continuous and non-decreasing in
 *   σ: no cliff.
 * - 'stressed-weight' (Art. 28(1)(b)), weight w ≥ 0.25, stressed vol σ_s:
 *             M = (1 − w) × m + w × m_s,  m_s = clamp(max(σ_s, σ) / σ_ref, floor, cap).
 *   Calm margins already carry w of the stressed level; a vol jump moves M by
 *   only (1 − w) of the move in m; M ≥ m always, and M ≤ cap.
 * - Art. 28(1)(c), a floor from a ten-year lookback, is not implemented: pass
 *   that level as `floor`.
 */

export type AntiProcyclicality =
  | { kind: 'none' }
  | { kind: 'buffer'; buffer: number; releaseAbove?: number }
  | { kind: 'stressed-weight'; weight: number; stressedVol: number };

/** The EMIR RTS Art. 28 minimum for the buffer (a) and the stressed weight (b). */
export const EMIR_MIN_APC = 0.25;

export interface DynamicRateInput {
  /** Current EWMA volatility, per step (≥ 0). */
  ewmaVol: number;
  /** Reference volatility, same unit (> 0): σ = σ_ref gives base multiplier 1. */
  referenceVol: number;
  /** Lowest base multiplier (> 0). */
  floor: number;
  /** Highest multiplier (≥ floor); it binds the applied multiplier too. */
  cap: number;
  /** Default { kind: 'none' }. */
  apc?: AntiProcyclicality;
}

export interface DynamicRate {
  /** m = clamp(σ / σ_ref, floor, cap). */
  base: number;
  /** M, the multiplier to apply to the margin rates. */
  multiplier: number;
  /** M − m: the APC add-on currently held (0 once the buffer is consumed). */
  apcAddOn: number;
}

function finite(value: number, name: string): void {
  if (!Number.isFinite(value)) throw new RangeError(`${name} must be finite, got ${value}`);
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** The base and applied multipliers with the APC add-on. */
export function dynamicRate(input: DynamicRateInput): DynamicRate {
  const { ewmaVol, referenceVol, floor, cap, apc = { kind: 'none' } } = input;
  finite(ewmaVol, 'ewmaVol');
  finite(referenceVol, 'referenceVol');
  finite(floor, 'floor');
  finite(cap, 'cap');
  if (ewmaVol < 0) throw new RangeError(`ewmaVol must be >= 0, got ${ewmaVol}`);
  if (referenceVol <= 0) throw new RangeError(`referenceVol must be > 0, got ${referenceVol}`);
  if (!(floor > 0 && floor <= cap)) throw new RangeError(`need 0 < floor <= cap, got floor ${floor}, cap ${cap}`);
  const base = clamp(ewmaVol / referenceVol, floor, cap);
  let multiplier: number;
  switch (apc.kind) {
    case 'none':
      multiplier = base;
      break;
    case 'buffer': {
      const { buffer, releaseAbove = 1 } = apc;
      finite(buffer, 'buffer');
      finite(releaseAbove, 'releaseAbove');
      if (buffer < EMIR_MIN_APC) throw new RangeError(`buffer must be >= ${EMIR_MIN_APC} (EMIR RTS Art. 28(1)(a)), got ${buffer}`);
      if (releaseAbove <= 0) throw new RangeError(`releaseAbove must be > 0, got ${releaseAbove}`);
      multiplier = Math.min(cap, Math.max(base, (1 + buffer) * Math.min(base, releaseAbove)));
      break;
    }
    case 'stressed-weight': {
      const { weight, stressedVol } = apc;
      finite(weight, 'weight');
      finite(stressedVol, 'stressedVol');
      if (!(weight >= EMIR_MIN_APC && weight <= 1)) throw new RangeError(`weight must be in [${EMIR_MIN_APC}, 1] (EMIR RTS Art. 28(1)(b)), got ${weight}`);
      if (stressedVol < 0) throw new RangeError(`stressedVol must be >= 0, got ${stressedVol}`);
      const stressed = clamp(Math.max(stressedVol, ewmaVol) / referenceVol, floor, cap);
      // the clamps only absorb float rounding: (1 − w)m + w·m_s is in [m, cap] exactly
      multiplier = Math.min(cap, Math.max(base, (1 - weight) * base + weight * stressed));
      break;
    }
    default: {
      const unknown: never = apc;
      throw new RangeError(`unknown anti-procyclicality ${JSON.stringify(unknown)}`);
    }
  }
  return { base, multiplier, apcAddOn: multiplier - base };
}

/** M, the multiplier to apply to margin rates (see {@link dynamicRate}). */
export function dynamicRateMultiplier(input: DynamicRateInput): number {
  return dynamicRate(input).multiplier;
}
