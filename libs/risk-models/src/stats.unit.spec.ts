import { binomialCdf, chiSquareSurvival, erfc, lnGamma, normalCdf, regularizedGammaP, regularizedGammaQ } from './stats';

// Reference values computed independently with mpmath 1.4.1 at 40 digits (ncdf, gammainc(regularized=True),
// loggamma) and cross-checked with scipy 1.17.1 (stats.chi2.sf).
const relative = (actual: number, expected: number): number => (expected === 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected));

describe('special functions against mpmath', () => {
  it.each([
    [0.5, 0.5723649429247001],
    [1.5, -0.12078223763524522],
    [2.5, 0.2846828704729192],
    [10, 12.801827480081469],
    [100.5, 361.4355404677776],
    [0.001, 6.907178885383853],
    [0.3, 1.0957979948180756],
  ])('lnΓ(%p) = %p', (x, expected) => {
    expect(relative(lnGamma(x), expected)).toBeLessThan(1e-13);
  });

  it.each([
    [-6, 9.86587645037698e-10],
    [-3, 0.0013498980316300946],
    [-1.96, 0.024997895148220435],
    [-1, 0.15865525393145705],
    [0, 0.5],
    [0.5, 0.6914624612740131],
    [1.96, 0.9750021048517795],
    [3, 0.9986501019683699],
    [8, 0.9999999999999993],
  ])('Φ(%p) = %p', (z, expected) => {
    expect(relative(normalCdf(z), expected)).toBeLessThan(1e-13);
  });

  it.each([
    [0.5, 1, 0.4795001221869535],
    [3.841458820694124, 1, 0.05000000000000006],
    [10, 1, 0.0015654022580025497],
    [50, 1, 1.537459794428035e-12],
    [100, 1, 1.523970604832105e-23],
    [5.991464547107979, 2, 0.05000000000000007],
    [7.8, 3, 0.05033109785985335],
    [20, 5, 0.0012497305630313753],
  ])('P(χ² > %p | %p dof) = %p', (x, dof, expected) => {
    expect(relative(chiSquareSurvival(x, dof), expected)).toBeLessThan(1e-12);
  });

  it('χ²(1) survival is 2(1 − Φ(√x)) = erfc(√(x/2)); P + Q = 1', () => {
    for (const x of [0.1, 1, 2.5, 6.63]) {
      expect(chiSquareSurvival(x, 1)).toBeCloseTo(2 * (1 - normalCdf(Math.sqrt(x))), 14);
      expect(chiSquareSurvival(x, 1)).toBeCloseTo(erfc(Math.sqrt(x / 2)), 15);
      expect(regularizedGammaP(1.5, x) + regularizedGammaQ(1.5, x)).toBeCloseTo(1, 15);
    }
    expect(chiSquareSurvival(0, 1)).toBe(1);
    expect(chiSquareSurvival(4, 2)).toBe(Math.exp(-2));
  });

  it('binomial CDF for 250 draws at 1 %, the Basel table', () => {
    // mpmath: P(X ≤ 4) = 0.892187626904, P(X ≤ 5) = 0.95881681593, P(X ≤ 9) = 0.999749809931, P(X ≤ 10) = 0.999946101371
    expect(binomialCdf(0, 250, 0.01)).toBeCloseTo(0.0810585161622, 12);
    expect(binomialCdf(4, 250, 0.01)).toBeCloseTo(0.892187626904, 12);
    expect(binomialCdf(5, 250, 0.01)).toBeCloseTo(0.95881681593, 11);
    expect(binomialCdf(9, 250, 0.01)).toBeCloseTo(0.999749809931, 12);
    expect(binomialCdf(10, 250, 0.01)).toBeCloseTo(0.999946101371, 12);
    expect(binomialCdf(250, 250, 0.01)).toBe(1);
    expect(binomialCdf(-1, 250, 0.01)).toBe(0);
  });
});
