import fc from 'fast-check';
import {
  backtestCoverage,
  christoffersenIndependence,
  expectedShortfall,
  filteredHistoricalReturns,
  historicalSimulation,
  historicalVaR,
  kupiecPOF,
  ReturnHistory,
  tailMeasures,
} from '@clearsim/risk-models';

const loss = fc.double({ min: -1e6, max: 1e6, noNaN: true });
const losses = fc.array(loss, { minLength: 1, maxLength: 300 });
const confidence = fc.double({ min: 0.001, max: 0.999, noNaN: true });
// returns on a 1e−6 grid within ±20 %: realistic magnitudes, no subnormal squares
const dailyReturn = fc.integer({ min: -200_000, max: 200_000 }).map((micros) => micros / 1e6);

describe('VaR / ES properties', () => {
  it('VaR is non-decreasing in the confidence level', () => {
    fc.assert(
      fc.property(losses, confidence, confidence, (l, c1, c2) => {
        const [lo, hi] = c1 <= c2 ? [c1, c2] : [c2, c1];
        return historicalVaR(l, lo) <= historicalVaR(l, hi);
      }),
    );
  });

  it('ES ≥ VaR', () => {
    fc.assert(fc.property(losses, confidence, (l, c) => expectedShortfall(l, c) >= historicalVaR(l, c)));
  });

  it('adding a constant loss a shifts VaR by a (exactly: float addition is monotone) and ES by a', () => {
    fc.assert(
      fc.property(losses, confidence, fc.double({ min: -1e6, max: 1e6, noNaN: true }), (l, c, a) => {
        const shifted = tailMeasures(
          l.map((x) => x + a),
          c,
        );
        const base = tailMeasures(l, c);
        expect(shifted.var).toBe(base.var + a);
        expect(Math.abs(shifted.es - (base.es + a))).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(base.es) + Math.abs(a)));
      }),
    );
  });

  it('deterministic and independent of the order of the scenarios', () => {
    fc.assert(
      fc.property(losses, confidence, (l, c) => {
        const once = tailMeasures(l, c);
        expect(tailMeasures(l, c)).toEqual(once);
        expect(tailMeasures([...l].reverse(), c)).toEqual(once);
      }),
    );
  });

  it('historicalSimulation is deterministic and independent of the order of the exposures', () => {
    const underlyings = ['BTC', 'ETH', 'SOL'];
    fc.assert(
      fc.property(
        fc.array(fc.record({ underlying: fc.constantFrom(...underlyings), exposure: fc.double({ min: -1e5, max: 1e5, noNaN: true }) }), { maxLength: 8 }),
        fc.array(fc.tuple(dailyReturn, dailyReturn, dailyReturn), { minLength: 30, maxLength: 60 }),
        fc.boolean(),
        (exposures, days, filtered) => {
          const histories = Object.fromEntries(underlyings.map((u, i) => [u, days.map((d) => d[i]!)]));
          const params = { lookback: 25, horizonDays: 5, confidence: 0.95, measure: 'es' as const, ...(filtered ? { filter: { lambda: 0.94 } } : {}) };
          const a = historicalSimulation(exposures, histories, params);
          expect(historicalSimulation(exposures, histories, params)).toEqual(a);
          expect(historicalSimulation([...exposures].reverse(), histories, params)).toEqual(a);
          expect(a.requirement).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });
});

describe('FHS, history and backtest properties', () => {
  it('FHS keeps every return finite, with its sign, zeros staying zero', () => {
    fc.assert(
      fc.property(fc.array(dailyReturn, { minLength: 1, maxLength: 100 }), (r) => {
        const f = filteredHistoricalReturns(r);
        f.forEach((x, i) => {
          expect(Number.isFinite(x)).toBe(true);
          expect(x === 0).toBe(r[i] === 0);
          expect(x * r[i]!).toBeGreaterThanOrEqual(0);
        });
      }),
    );
  });

  it('a ReturnHistory restored from its JSON continues exactly like the original', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 20 }), fc.nat(), (prices, capacity, cut) => {
        const at = cut % prices.length;
        const whole = new ReturnHistory(capacity);
        prices.forEach((p) => whole.push(p));
        const part = new ReturnHistory(capacity);
        prices.slice(0, at).forEach((p) => part.push(p));
        const restored = ReturnHistory.from(JSON.parse(JSON.stringify(part)));
        prices.slice(at).forEach((p) => restored.push(p));
        expect(restored.toJSON()).toEqual(whole.toJSON());
      }),
    );
  });

  it('LRs are ≥ 0 and p-values in [0, 1]', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 300 }), confidence, (seq, c) => {
        const x = seq.filter((b) => b).length;
        for (const t of [kupiecPOF(seq.length, x, c), christoffersenIndependence(seq)]) {
          expect(t.LR).toBeGreaterThanOrEqual(0);
          expect(t.pValue).toBeGreaterThanOrEqual(0);
          expect(t.pValue).toBeLessThanOrEqual(1);
        }
        const r = backtestCoverage(
          seq.map((hit) => ({ margin: 1, realizedLoss: hit ? 2 : 0 })),
          c,
        );
        expect(r.exceedances).toBe(x);
      }),
    );
  });
});
