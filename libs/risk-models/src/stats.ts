/**
 * The distribution functions the backtests need, in float64. See README §5.
 *
 * - ln Γ(x): Lanczos approximation (g = 7, 9 terms), relative error ≈ 1e−15
 *   for x > 0 (reflection below 0.5).
 * - Regularized gammas P(a, x) / Q(a, x) = 1 − P: the series for x < a + 1,
 *   the continued fraction (modified Lentz) otherwise, as in Numerical Recipes
 *   §6.2; each computed directly, so a small Q is not 1 − (P ≈ 1).
 * - χ² survival with k dof: Q(k/2, x/2); for k = 2 exactly e^{−x/2}; for k = 1
 *   it equals 2(1 − Φ(√x)) = erfc(√(x/2)).
 * - Φ(z) = ½ erfc(−z/√2) with erfc(y) = Q(½, y²) for y ≥ 0, 2 − Q(½, y²) below.
 * - Binomial CDF: Σ_{j=0}^{x} exp(ln pmf_j), ln pmf built by the ratio
 *   recursion from ln pmf_0 = n ln(1 − p), summed in increasing j.
 */

const EPS = 1e-16;
const FPMIN = 1e-300;
const MAX_ITERATIONS = 10_000;

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0. */
export function lnGamma(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`lnGamma needs a finite x > 0, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return LN_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

function gammaPrefactor(a: number, x: number): number {
  return Math.exp(-x + a * Math.log(x) - lnGamma(a));
}

function gammaSeriesP(a: number, x: number): number {
  let ap = a;
  let del = 1 / a;
  let sum = del;
  for (let i = 0; i < MAX_ITERATIONS; i++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * EPS) break;
  }
  return sum * gammaPrefactor(a, x);
}

function gammaContinuedFractionQ(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / FPMIN;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i <= MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = b + an / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return gammaPrefactor(a, x) * h;
}

function checkGammaArgs(a: number, x: number): void {
  if (!(a > 0) || !Number.isFinite(a)) throw new RangeError(`a must be finite and > 0, got ${a}`);
  if (!(x >= 0)) throw new RangeError(`x must be >= 0, got ${x}`);
}

/** Regularized lower incomplete gamma P(a, x). */
export function regularizedGammaP(a: number, x: number): number {
  checkGammaArgs(a, x);
  if (x === 0) return 0;
  if (x === Infinity) return 1;
  return x < a + 1 ? gammaSeriesP(a, x) : 1 - gammaContinuedFractionQ(a, x);
}

/** Regularized upper incomplete gamma Q(a, x) = 1 − P(a, x). */
export function regularizedGammaQ(a: number, x: number): number {
  checkGammaArgs(a, x);
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - gammaSeriesP(a, x) : gammaContinuedFractionQ(a, x);
}

/** P(χ²_k > x): the p-value of a likelihood-ratio statistic x with k degrees of freedom. */
export function chiSquareSurvival(x: number, dof: number): number {
  if (!Number.isInteger(dof) || dof < 1) throw new RangeError(`dof must be an integer >= 1, got ${dof}`);
  if (Number.isNaN(x)) throw new RangeError('x is NaN');
  if (x <= 0) return 1;
  if (dof === 2) return Math.exp(-x / 2);
  return regularizedGammaQ(dof / 2, x / 2);
}

/** erfc(y) = 1 − erf(y). */
export function erfc(y: number): number {
  if (Number.isNaN(y)) throw new RangeError('y is NaN');
  return y >= 0 ? regularizedGammaQ(0.5, y * y) : 2 - regularizedGammaQ(0.5, y * y);
}

/** Φ(z), the standard normal CDF. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** P(X ≤ x) for X ~ Binomial(n, p), 0 < p < 1. */
export function binomialCdf(x: number, n: number, p: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be an integer >= 0, got ${n}`);
  if (!Number.isInteger(x)) throw new RangeError(`x must be an integer, got ${x}`);
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  if (x < 0) return 0;
  if (x >= n) return 1;
  const logOdds = Math.log(p) - Math.log1p(-p);
  let logPmf = n * Math.log1p(-p);
  let sum = Math.exp(logPmf);
  for (let j = 0; j < x; j++) {
    logPmf += Math.log(n - j) - Math.log(j + 1) + logOdds;
    sum += Math.exp(logPmf);
  }
  return Math.min(1, sum);
}
