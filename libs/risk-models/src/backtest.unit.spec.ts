import {
  backtestByAccount,
  backtestCoverage,
  baselTrafficLight,
  christoffersenFromCounts,
  christoffersenIndependence,
  conditionalCoverage,
  kupiecPOF,
} from '@clearsim/risk-models';

// Reference statistics computed independently with mpmath 1.4.1 (40 digits) and scipy 1.17.1 (stats.chi2.sf).
const relative = (actual: number, expected: number): number => Math.abs(actual - expected) / Math.abs(expected);

describe('Kupiec proportion of failures', () => {
  it('n = 250, x = 8 at 99 %', () => {
    // p = 0.01, x/n = 0.032:
    // LR = −2 ln[(0.99^242 · 0.01^8) / ((1 − 8/250)^242 · (8/250)^8)]
    //    = −2 [242 ln 0.99 + 8 ln 0.01 − 242 ln 0.968 − 8 ln 0.032]
    //    = −2 [−2.43213… − 36.84136… + 7.86886… + 27.53111…] = 7.73355072449453…
    // p-value = P(χ²₁ > 7.7336) = erfc(√(LR/2)) = 0.00542040519412775…
    const k = kupiecPOF(250, 8, 0.99);
    expect(relative(k.LR, 7.733550724494534)).toBeLessThan(1e-12);
    expect(relative(k.pValue, 0.005420405194127754)).toBeLessThan(1e-11);
  });

  it.each([
    // x = 0: LR = −2 × 250 × ln 0.99 = 5.02516792675072…, p = 0.0249815030534498
    [250, 0, 5.02516792675072, 0.02498150305344977],
    // x = 2: close to the expected 2.5: LR = 0.10843521623680…
    [250, 2, 0.10843521623680331, 0.7419327009526234],
    // x = 3: LR = 0.094940122664436…
    [250, 3, 0.09494012266443655, 0.7579883213732852],
    // n = 20, x = 1 at 99 %: LR = 1.65164340057433…
    [20, 1, 1.6516434005743352, 0.19873540301709497],
  ])('n = %d, x = %d at 99 %%: LR = %p, p = %p', (n, x, LR, pValue) => {
    const k = kupiecPOF(n, x, 0.99);
    expect(relative(k.LR, LR)).toBeLessThan(1e-11);
    expect(relative(k.pValue, pValue)).toBeLessThan(1e-11);
  });

  it('edge cases: x = n, x = n·p exactly, n = 0', () => {
    // x = n: LR = −2 × 250 × ln 0.01 = 2302.585092994045…, p ≈ 1.7e−502 underflows to 0
    const all = kupiecPOF(250, 250, 0.99);
    expect(relative(all.LR, 2302.5850929940457)).toBeLessThan(1e-13);
    expect(all.pValue).toBe(0);
    // x/n = p exactly: LR = 0, p-value 1 (rounding clamped)
    expect(kupiecPOF(500, 5, 0.99).LR).toBeLessThan(1e-12);
    expect(kupiecPOF(500, 5, 0.99).pValue).toBeCloseTo(1, 6);
    expect(kupiecPOF(0, 0, 0.99)).toEqual({ LR: 0, pValue: 1 });
    expect(() => kupiecPOF(10, 11, 0.99)).toThrow(RangeError);
  });
});

describe('Christoffersen independence', () => {
  it('a small sequence: 0 0 1 1 0 0 0 1 0 0 0 0', () => {
    // 11 transitions: 0→0 at 1, 5, 6, 9, 10, 11 (n00 = 6); 0→1 at 2, 7 (n01 = 2); 1→1 at 3 (n11 = 1); 1→0 at 4, 8 (n10 = 2)
    // π01 = 2/8 = 0.25, π11 = 1/3, π = 3/11
    // ln L0 = 8 ln(8/11) + 3 ln(3/11)                             = −2.54760… − 3.89789… = −6.44549…
    // ln L1 = 6 ln 0.75 + 2 ln 0.25 + 2 ln(2/3) + ln(1/3)        = −1.72609… − 2.77259… − 0.81093… − 1.09861… = −6.40823…
    // LR = −2 (ln L0 − ln L1) = 0.0745102790083084…, p = 0.784879574141813…
    const seq = [0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0].map((b) => b === 1);
    const c = christoffersenIndependence(seq);
    expect(c.counts).toEqual({ n00: 6, n01: 2, n10: 2, n11: 1 });
    expect(relative(c.LR, 0.07451027900830845)).toBeLessThan(1e-11);
    expect(relative(c.pValue, 0.7848795741418136)).toBeLessThan(1e-11);
  });

  it('clustered exceedances reject independence: 8 × 0, 1 1 1, 9 × 0', () => {
    // n00 = 7 + 8 = 15, n01 = 1, n11 = 2, n10 = 1; π01 = 1/16, π11 = 2/3, π = 3/19
    // ln L0 = 16 ln(16/19) + 3 ln(3/19); ln L1 = 15 ln(15/16) + ln(1/16) + ln(1/3) + 2 ln(2/3)
    // LR = 5.27375027626750…, p = 0.0216493233189138…
    const seq = [...Array(8).fill(false), true, true, true, ...Array(9).fill(false)];
    const c = christoffersenIndependence(seq);
    expect(c.counts).toEqual({ n00: 15, n01: 1, n10: 1, n11: 2 });
    expect(relative(c.LR, 5.2737502762675055)).toBeLessThan(1e-11);
    expect(relative(c.pValue, 0.021649323318913824)).toBeLessThan(1e-11);
  });

  it('zero cells count as 0 · ln 0 = 0', () => {
    expect(christoffersenIndependence(Array(10).fill(false))).toMatchObject({ LR: 0, pValue: 1 });
    expect(christoffersenIndependence([true])).toMatchObject({ LR: 0, pValue: 1, counts: { n00: 0, n01: 0, n10: 0, n11: 0 } });
    // only the last period exceeds: n00 = 8, n01 = 1, no transition out of 1; π01 = π = 1/9, LR = 0
    const last = christoffersenIndependence([...Array(9).fill(false), true]);
    expect(last.LR).toBeLessThan(1e-12);
    // alternating 1 0 1 0 …: n01 = n10 = 5, n00 = n11 = 0 → π01 = 1, π11 = 0: L1 = 1, LR = −2 ln L0 > 0
    const alternating = christoffersenFromCounts({ n00: 0, n01: 5, n10: 5, n11: 0 });
    // π = 0.5: LR = −2 × 10 × ln 0.5 = 13.8629436…
    expect(alternating.LR).toBeCloseTo(20 * Math.LN2, 12);
  });
});

describe('Basel traffic light, 250 observations at 99 %', () => {
  // P(X ≤ x), X ~ Bin(250, 0.01): 4 → 0.8922 (< 95 %), 5 → 0.9588, 9 → 0.99975 (< 99.99 %), 10 → 0.999946
  it.each([
    [0, 'green'],
    [4, 'green'],
    [5, 'yellow'],
    [9, 'yellow'],
    [10, 'red'],
    [25, 'red'],
  ])('%d exceedances → %s', (x, zone) => {
    expect(baselTrafficLight(250, x, 0.99)).toBe(zone);
  });

  it('a clean record is green even where P(X = 0) ≥ 95 % (5 observations: 0.99^5 = 0.951)', () => {
    expect(baselTrafficLight(5, 0, 0.99)).toBe('green');
    expect(baselTrafficLight(0, 0, 0.99)).toBe('green');
    // one exceedance in 5: P(X ≤ 1) = 0.99902 → yellow
    expect(baselTrafficLight(5, 1, 0.99)).toBe('yellow');
  });
});

describe('backtestCoverage: margin held at the start vs. loss over the period', () => {
  it('20 periods at 95 % with 3 clustered exceedances', () => {
    // exceedance = loss strictly above margin; the loss equal to the margin (period 2) is covered
    const series = Array.from({ length: 20 }, (_, t) => ({ margin: 100, realizedLoss: t === 2 ? 100 : t >= 8 && t <= 10 ? 150 : 10 }));
    const r = backtestCoverage(series, 0.95);
    expect(r.observations).toBe(20);
    expect(r.exceedances).toBe(3);
    expect(r.coverage).toBeCloseTo(0.85, 15);
    // Kupiec n = 20, x = 3, p = 0.05: LR = −2[17 ln 0.95 + 3 ln 0.05 − 17 ln 0.85 − 3 ln 0.15] = 2.81000213826103…
    expect(relative(r.kupiec.LR, 2.810002138261029)).toBeLessThan(1e-11);
    expect(relative(r.kupiec.pValue, 0.09367825085191424)).toBeLessThan(1e-11);
    // same sequence as the clustered one above: LR_ind = 5.27375…
    expect(r.transitions).toEqual({ n00: 15, n01: 1, n10: 1, n11: 2 });
    expect(relative(r.christoffersen.LR, 5.2737502762675055)).toBeLessThan(1e-11);
    // LR_cc = 2.81000… + 5.27375… = 8.08375241452853…, p = e^{−LR/2} = 0.0175644868635868…
    expect(relative(r.conditionalCoverage.LR, 8.083752414528535)).toBeLessThan(1e-11);
    expect(relative(r.conditionalCoverage.pValue, 0.017564486863586817)).toBeLessThan(1e-11);
    expect(conditionalCoverage(r.kupiec, r.christoffersen)).toEqual(r.conditionalCoverage);
    // Bin(20, 0.05): P(X ≤ 3) = 0.98410… → yellow
    expect(r.zone).toBe('yellow');
  });

  it('no observation is vacuously covered', () => {
    expect(backtestCoverage([], 0.99)).toMatchObject({ observations: 0, exceedances: 0, coverage: 1, zone: 'green', kupiec: { LR: 0, pValue: 1 } });
  });
});

describe('backtestByAccount', () => {
  it('groups by account in id order, orders periods, counts transitions only between consecutive periods, pools', () => {
    const rows = [
      { account: 'bob', period: 3, margin: 10, realizedLoss: 20 },
      { account: 'alice', period: 2, margin: 10, realizedLoss: 20 },
      { account: 'bob', period: 1, margin: 10, realizedLoss: 20 },
      { account: 'alice', period: 1, margin: 10, realizedLoss: 5 },
      { account: 'alice', period: 3, margin: 10, realizedLoss: 20 },
    ];
    const r = backtestByAccount(rows, 0.99);
    expect(r.accounts.map((a) => a.account)).toEqual(['alice', 'bob']);
    // alice 1, 2, 3: miss, hit, hit → 0→1, 1→1
    expect(r.accounts[0]).toMatchObject({ observations: 3, exceedances: 2, transitions: { n00: 0, n01: 1, n10: 0, n11: 1 } });
    // bob 1, 3: a gap, no transition
    expect(r.accounts[1]).toMatchObject({ observations: 2, exceedances: 2, transitions: { n00: 0, n01: 0, n10: 0, n11: 0 } });
    expect(r.pooled).toMatchObject({ observations: 5, exceedances: 4, transitions: { n00: 0, n01: 1, n10: 0, n11: 1 } });
    expect(r.pooled.kupiec).toEqual(kupiecPOF(5, 4, 0.99));
    // the order of the rows does not matter
    expect(backtestByAccount([...rows].reverse(), 0.99)).toEqual(r);
  });

  it('a repeated period throws', () => {
    expect(() =>
      backtestByAccount(
        [
          { account: 'a', period: 1, margin: 1, realizedLoss: 0 },
          { account: 'a', period: 1, margin: 1, realizedLoss: 0 },
        ],
        0.99,
      ),
    ).toThrow(/twice/);
  });
});
