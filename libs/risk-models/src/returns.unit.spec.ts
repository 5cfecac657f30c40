import { compoundReturns, horizonReturns, ReturnHistory, returnsFromPrices } from '@clearsim/risk-models';

describe('returns from prices', () => {
  it('simple returns r_t = P_t / P_{t−1} − 1, n prices → n − 1 returns', () => {
    // 100 → 110: +10 %; 110 → 99: −10 %; 99 → 99: 0
    const r = returnsFromPrices([100, 110, 99, 99]);
    expect(r).toHaveLength(3);
    expect(r[0]).toBeCloseTo(0.1, 15);
    expect(r[1]).toBeCloseTo(-0.1, 15);
    expect(r[2]).toBe(0);
  });

  it('log returns r_t = ln(P_t / P_{t−1}) add up over a path', () => {
    // ln(110/100) + ln(99/110) = ln(99/100)
    const r = returnsFromPrices([100, 110, 99], 'log');
    expect(r[0]! + r[1]!).toBeCloseTo(Math.log(0.99), 15);
  });

  it('rejects a price that is not finite and positive', () => {
    expect(() => returnsFromPrices([100, 0, 101])).toThrow(RangeError);
    expect(() => returnsFromPrices([100, Number.NaN])).toThrow(RangeError);
  });
});

describe('horizon returns', () => {
  const prices = [100, 101, 103, 102, 105, 104, 108];

  it('overlapping: one h-step window ending at every price, n − h returns', () => {
    // h = 2: 103/100, 102/101, 105/103, 104/102, 108/105 (each − 1)
    const r = horizonReturns(prices, 2);
    expect(r).toHaveLength(5);
    [103 / 100, 102 / 101, 105 / 103, 104 / 102, 108 / 105].forEach((ratio, i) => expect(r[i]).toBeCloseTo(ratio - 1, 15));
  });

  it('non-overlapping: disjoint windows anchored at the newest price, oldest first', () => {
    // 7 prices, indices 0–6. h = 4: the window ending at 6 starts at 2 (103 → 108); the next would
    // start at −2, so there is one window and prices 0–1 are left over.
    // h = 3: windows 3 → 6 (102 → 108) and 0 → 3 (100 → 102).
    expect(horizonReturns(prices, 4, { overlapping: false })).toEqual([108 / 103 - 1]);
    const r3 = horizonReturns(prices, 3, { overlapping: false });
    expect(r3).toHaveLength(2);
    expect(r3[0]).toBeCloseTo(102 / 100 - 1, 15);
    expect(r3[1]).toBeCloseTo(108 / 102 - 1, 15);
  });

  it('compounding one-step returns gives the same h-step returns as the prices', () => {
    const oneStep = returnsFromPrices(prices);
    for (const overlapping of [true, false]) {
      for (const h of [1, 2, 3]) {
        const fromPrices = horizonReturns(prices, h, { overlapping });
        const compounded = compoundReturns(oneStep, h, { overlapping });
        expect(compounded).toHaveLength(fromPrices.length);
        compounded.forEach((r, i) => expect(r).toBeCloseTo(fromPrices[i]!, 14));
      }
    }
    const logs = compoundReturns(returnsFromPrices(prices, 'log'), 6, { kind: 'log' });
    expect(logs[0]).toBeCloseTo(Math.log(108 / 100), 14);
  });

  it('fewer than h + 1 prices give nothing', () => {
    expect(horizonReturns([100, 101], 2)).toEqual([]);
    expect(horizonReturns([100, 101], 2, { overlapping: false })).toEqual([]);
  });
});

describe('ReturnHistory ring buffer', () => {
  it('keeps the last N returns, oldest first', () => {
    const h = new ReturnHistory(3);
    expect(h.push(100)).toBeNull(); // the first price only anchors
    [110, 99, 99, 198].forEach((p) => h.push(p));
    // returns made: +0.1, −0.1, 0, +1; capacity 3 drops the +0.1
    expect(h.length).toBe(3);
    expect(h.isFull).toBe(true);
    expect(h.returns()).toEqual([99 / 110 - 1, 0, 1]);
    expect(h.lastPrice).toBe(198);
  });

  it('snapshot is plain data, independent of the ring head, and restores to the same future', () => {
    const prices = [100, 101, 99, 102, 104, 103, 107, 106, 110];
    const whole = new ReturnHistory(4);
    prices.forEach((p) => whole.push(p));

    const first = new ReturnHistory(4);
    prices.slice(0, 6).forEach((p) => first.push(p));
    const json = JSON.parse(JSON.stringify(first));
    expect(json).toEqual({ capacity: 4, kind: 'simple', lastPrice: 103, returns: first.returns() });
    const restored = ReturnHistory.from(json);
    prices.slice(6).forEach((p) => restored.push(p));

    expect(restored.toJSON()).toEqual(whole.toJSON());
    // a fresh history fed only the last 5 prices holds the same 4 returns
    const fresh = new ReturnHistory(4);
    prices.slice(-5).forEach((p) => fresh.push(p));
    expect(fresh.toJSON()).toEqual(whole.toJSON());
  });

  it('rejects an inconsistent snapshot', () => {
    expect(() => ReturnHistory.from({ capacity: 1, kind: 'simple', lastPrice: 1, returns: [0.1, 0.2] })).toThrow(RangeError);
    expect(() => ReturnHistory.from({ capacity: 2, kind: 'simple', lastPrice: null, returns: [0.1] })).toThrow(RangeError);
  });
});
