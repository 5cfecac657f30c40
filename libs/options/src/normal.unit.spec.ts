import fc from 'fast-check';
import { normalCdf, normalPdf } from './normal';

// Reference values: mpmath 1.3.0 at 50 significant digits,
//   python3 -c "import mpmath as mp; mp.mp.dps=50; print(mp.ncdf(x), mp.npdf(x))"
// written as the nearest double (its shortest decimal form). They cover all
// three of Cody's ranges (|x|/√2 ≤ 0.46875, ≤ 4, > 4) and the far lower tail.
const REFERENCE: ReadonlyArray<readonly [x: number, cdf: number, pdf: number]> = [
  [0, 0.5, 0.3989422804014327],
  [0.5, 0.6914624612740131, 0.35206532676429947],
  [-0.5, 0.3085375387259869, 0.35206532676429947],
  [0.7, 0.758036347776927, 0.31225393336676127],
  [-0.7, 0.24196365222307303, 0.31225393336676127],
  [1, 0.8413447460685429, 0.24197072451914334],
  [-1, 0.15865525393145705, 0.24197072451914334],
  [1.96, 0.9750021048517795, 0.05844094433345146],
  [-1.96, 0.024997895148220435, 0.05844094433345146],
  [2.5, 0.9937903346742238, 0.017528300493568537],
  [3, 0.9986501019683699, 0.0044318484119380075],
  [-3, 0.0013498980316300946, 0.0044318484119380075],
  [5, 0.9999997133484281, 1.4867195147342977e-6],
  [-5.6, 1.071759025831093e-8, 6.182620500165856e-8],
  [-5.7, 5.990371401063528e-9, 3.5139550948204334e-8],
  [-8, 6.220960574271784e-16, 5.052271083536892e-15],
  [8, 0.9999999999999993, 5.052271083536892e-15],
  [-10, 7.619853024160525e-24, 7.694598626706419e-23],
  [-20, 2.7536241186062337e-89, 5.520948362159764e-88],
  [-30, 4.906713927148187e-198, 1.4736461348785476e-196],
  [-37, 5.725571222524577e-300, 2.1200065515246056e-298],
];

describe('normalCdf', () => {
  it.each(REFERENCE)('Φ(%s) matches mpmath to 1e-16 absolute and 2e-15 relative', (x, cdf) => {
    const got = normalCdf(x);
    expect(Math.abs(got - cdf)).toBeLessThanOrEqual(1.2e-16);
    expect(Math.abs(got - cdf)).toBeLessThanOrEqual(2e-15 * cdf);
  });

  it('Φ(0) is exactly one half', () => {
    expect(normalCdf(0)).toBe(0.5);
  });

  it('Φ(1.96) = 0.9750021048517795 and Φ(−10) = 7.6198530241605e−24 (relative 1e−14)', () => {
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 15);
    expect(Math.abs(normalCdf(-10) / 7.619853024160525e-24 - 1)).toBeLessThan(1e-14);
  });

  it('is symmetric: Φ(x) + Φ(−x) = 1', () => {
    fc.assert(
      fc.property(fc.double({ min: -40, max: 40, noNaN: true }), (x) => {
        expect(Math.abs(normalCdf(x) + normalCdf(-x) - 1)).toBeLessThanOrEqual(2.3e-16);
      }),
    );
  });

  it('is non-decreasing and within [0, 1]', () => {
    fc.assert(
      fc.property(fc.double({ min: -45, max: 45, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (x, dx) => {
        const a = normalCdf(x);
        const b = normalCdf(x + dx);
        expect(a).toBeGreaterThanOrEqual(0);
        expect(b).toBeLessThanOrEqual(1);
        expect(b).toBeGreaterThanOrEqual(a);
      }),
    );
  });

  it('handles the infinities, the underflow and NaN', () => {
    expect(normalCdf(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(normalCdf(Number.POSITIVE_INFINITY)).toBe(1);
    expect(normalCdf(-50)).toBe(0);
    expect(normalCdf(50)).toBe(1);
    expect(normalCdf(Number.NaN)).toBeNaN();
  });
});

describe('normalPdf', () => {
  it.each(REFERENCE)('φ(%s) matches mpmath to 1e-15 relative', (x, _cdf, pdf) => {
    expect(Math.abs(normalPdf(x) / pdf - 1)).toBeLessThanOrEqual(1e-15);
  });

  it('is even and vanishes at the infinities', () => {
    fc.assert(
      fc.property(fc.double({ min: -40, max: 40, noNaN: true }), (x) => {
        expect(normalPdf(-x)).toBe(normalPdf(x));
      }),
    );
    expect(normalPdf(Number.POSITIVE_INFINITY)).toBe(0);
    expect(normalPdf(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(normalPdf(Number.NaN)).toBeNaN();
  });

  it('is the derivative of normalCdf (central difference, relative 1e-7)', () => {
    fc.assert(
      fc.property(fc.double({ min: -8, max: 8, noNaN: true }), (x) => {
        const h = 1e-5;
        const fd = (normalCdf(x + h) - normalCdf(x - h)) / (2 * h);
        expect(Math.abs(fd - normalPdf(x))).toBeLessThanOrEqual(1e-7 * normalPdf(x) + 1e-11);
      }),
    );
  });
});
