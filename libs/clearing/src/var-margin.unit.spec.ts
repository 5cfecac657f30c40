import { dynamicMultiplier } from '@clearsim/margin';
import { Given, rulesFor } from './testing/given';

/**
 * VaR / ES on the log's own daily history. Daily closes of BTC-PERP:
 *   100, 95, 100, 90, 100, 101, …, 112 (22 closes → 21 returns once the 22nd day starts)
 * The losses of a long come from the two falls: 100 → 95 (−5 %) and 100 → 90 (−10 %);
 * every other day's fall is under 1 %. At 90 % confidence over 20 returns the tail is
 * k = ⌈20 × 0.1⌉ = 2 returns: VaR = the 2nd largest loss = 5 % of the exposure,
 * ES = their mean = 7.5 %. Horizon 1 day (√1 = 1).
 */
const CLOSES = [100, 95, 100, 90, 100, 101, 102, 103, 104, 105, 104, 105, 106, 107, 108, 107, 108, 109, 110, 111, 112, 112];
const DAY = 86_400;

function history(measure: 'var' | 'es', extra: Record<string, unknown> = {}): Given {
  const g = new Given(
    rulesFor({
      model: 'var',
      marginCall: { graceSeconds: 3600 },
      var: { method: 'historical', measure, confidence: '0.9', lookback: 20, horizonDays: 1, minimumHistory: 5, fallbackRate: '0.2', initialToMaintenance: '1.5' },
      ...extra,
    }),
  );
  g.deposit('alice', '1000').deposit('mm', '1000000');
  g.price(String(CLOSES[0]));
  g.trade('alice', 'mm', '1', String(CLOSES[0]));
  return g;
}

describe('VaR / ES margin', () => {
  it('falls back to a rate of notional until there is enough history', () => {
    // no return yet: MM = 20 % × 100 = 20, IM = 30
    expect(history('var').account('alice')).toMatchObject({ maintenanceMargin: '20', initialMargin: '30' });
  });

  it.each([
    // exposure at the last mark 112: VaR 5 % × 112 = 5.6; ES 7.5 % × 112 = 8.4 (±1e-8 of float rounding, rounded up)
    ['var', 5.6],
    ['es', 8.4],
  ] as const)('%s over the last 20 daily returns', (measure, expected) => {
    const g = history(measure);
    CLOSES.slice(1).forEach((close, day) => g.at((day + 1) * DAY).price(String(close)));
    const mm = Number(g.account('alice').maintenanceMargin);
    expect(mm).toBeGreaterThanOrEqual(expected);
    expect(mm).toBeLessThan(expected + 2e-8);
  });

  it('filtered historical simulation scales a calm past up to a stormy present', () => {
    // two regimes: falls of −5 % and −10 % and then ±0.1 % days (calm), then ±6 % days (storm). Plain HS
    // sees the past as it was: VaR(90 %) = the 2nd largest loss, a storm day's 106 → 100 (−5.66 %).
    // FHS rescales every return by σ_now / σ_then: the calm days' returns grow ~40×, so the loss
    // quantile of the filtered history is larger
    const closes = [100, 95, 100, 90, 100, ...Array.from({ length: 12 }, (_, i) => (i % 2 ? 100.1 : 100)), 106, 100, 106, 100, 106, 100, 106];
    const plain = history('var');
    const filtered = history('var', { var: { method: 'filtered', measure: 'var', confidence: '0.9', lookback: 20, horizonDays: 1, minimumHistory: 5, lambda: '0.9' } });
    for (const g of [plain, filtered]) closes.slice(1).forEach((close, day) => g.at((day + 1) * DAY).price(String(close)));
    const plainMm = Number(plain.account('alice').maintenanceMargin);
    // the plain 2nd largest loss: 106 → 100 = −5.66 % of 106 = 6.0
    expect(plainMm).toBeCloseTo(106 * (1 - 100 / 106), 6);
    expect(Number(filtered.account('alice').maintenanceMargin)).toBeGreaterThan(plainMm);
  });
});

describe('dynamic margin', () => {
  function dynamic(closes: number[]): Given {
    const g = new Given(rulesFor({ dynamic: { referenceVolatility: '0.5', floor: '1', cap: '3', antiProcyclicality: { kind: 'buffer', buffer: '0.25' } } }));
    g.deposit('alice', '100000').deposit('mm', '10000000');
    g.price(String(closes[0]));
    g.trade('alice', 'mm', '1', String(closes[0]));
    closes.slice(1).forEach((close, day) => g.at((day + 1) * DAY).price(String(close)));
    return g;
  }

  it('scales the tier rates by the EWMA volatility multiplier, within floor × (1 + buffer) and the cap', () => {
    // calm: ±0.1 % a day (≈ 2 % a year) → base multiplier at the floor 1, the 25 % buffer held → 1.25:
    // MM = 5 % × 100.1 (the last mark) × 1.25 = 6.25625
    const calm = dynamic(Array.from({ length: 30 }, (_, i) => (i % 2 ? 100.1 : 100)));
    expect(Number(calm.account('alice').maintenanceMargin)).toBeCloseTo(0.05 * 100.1 * 1.25, 6);
    // storm: ±20 % a day (≈ 380 % a year) → capped at 3: MM = 5 % × mark × 3
    const storm = dynamic(Array.from({ length: 30 }, (_, i) => (i % 2 ? 120 : 100)));
    const { ledger, rules } = storm.engine.state;
    expect(dynamicMultiplier(ledger, rules!, 'BTC-PERP')).toBe(3);
    const mark = Number(storm.account('alice').positions && (storm.account('alice').positions as Record<string, { mark: string }>)['BTC-PERP']!.mark);
    expect(Number(storm.account('alice').maintenanceMargin)).toBeCloseTo(0.05 * mark * 3, 6);
  });
});
