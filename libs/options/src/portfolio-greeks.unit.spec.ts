import { black76Greeks, ZERO_GREEKS } from './black76';
import {
  accountGreeks,
  accountGreeksByUnderlying,
  positionGreeks,
  UNDERLYING_GREEKS,
  type GreeksPosition,
} from './portfolio-greeks';

const unit = { delta: 0.5, gamma: 0.01, vega: 20, theta: -8, rho: -1 };

describe('positionGreeks', () => {
  it('scales by qty × multiplier, the sign of qty included', () => {
    expect(positionGreeks(unit, -2, 10)).toEqual({ delta: -10, gamma: -0.2, vega: -400, theta: 160, rho: 20 });
  });
});

describe('accountGreeks', () => {
  it('an empty account has zero greeks', () => {
    expect(accountGreeks([])).toEqual(ZERO_GREEKS);
  });

  it('a delta-hedged straddle: long call + long put + short future on the same underlying', () => {
    const base = { forward: 100, strike: 100, years: 0.25, volatility: 0.4 } as const;
    const call = black76Greeks({ ...base, type: 'call' });
    const put = black76Greeks({ ...base, type: 'put' });
    // r = 0: delta_call + delta_put = Φ(d1) − Φ(−d1) = 2Φ(d1) − 1
    const hedge = -(call.delta + put.delta);
    const positions: GreeksPosition[] = [
      { underlying: 'BTC', qty: 1, multiplier: 1, greeks: call },
      { underlying: 'BTC', qty: 1, multiplier: 1, greeks: put },
      { underlying: 'BTC', qty: hedge, multiplier: 1, greeks: UNDERLYING_GREEKS },
    ];
    const total = accountGreeks(positions);
    expect(Math.abs(total.delta)).toBeLessThan(1e-15);
    expect(total.gamma).toBe(2 * call.gamma);
    expect(total.vega).toBe(2 * call.vega);
    expect(total.theta).toBe(call.theta + put.theta);
  });
});

describe('accountGreeksByUnderlying', () => {
  it('sums per underlying, ascending by underlying id', () => {
    const positions: GreeksPosition[] = [
      { underlying: 'ETH', qty: 3, multiplier: 1, greeks: unit },
      { underlying: 'BTC', qty: 1, multiplier: 0.1, greeks: unit },
      { underlying: 'ETH', qty: -1, multiplier: 1, greeks: UNDERLYING_GREEKS },
    ];
    expect(accountGreeksByUnderlying(positions)).toEqual([
      { underlying: 'BTC', greeks: positionGreeks(unit, 1, 0.1) },
      { underlying: 'ETH', greeks: { delta: 1.5 - 1, gamma: 0.03, vega: 60, theta: -24, rho: -3 } },
    ]);
  });
});
