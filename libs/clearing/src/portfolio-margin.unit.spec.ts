import fc from 'fast-check';
import { portfolioMargin, portfolioMarginOfAccount, portfolioRequirement, unitPositions } from '@clearsim/margin';
import { Given, rulesFor } from './testing/given';

/**
 * Scenario (SPAN-style) margin, worked. Scan parameters: price ±10 %, vol
 * ±25 %, extremes ±2 × 10 % at 35 % cover; IM = MM × 1.2.
 */
const scan = { priceScanRange: '0.10', volScanRange: '0.25', extremeMove: 2, extremeCover: '0.35' };
function portfolioRules(extra: Record<string, unknown> = {}) {
  return rulesFor({
    model: 'portfolio',
    marginCall: { graceSeconds: 3600 },
    instruments: {},
    portfolio: { underlyings: { BTC: { ...scan, shortOptionMinimum: '400' }, ETH: scan }, initialToMaintenance: '1.2', ...extra },
  });
}

function book(extra?: Record<string, unknown>): Given {
  const g = new Given(portfolioRules(extra));
  for (const [instrument, kind, underlying, expiry] of [
    ['BTC', 'index'],
    ['ETH', 'index'],
    ['BTC-0327', 'future', 'BTC', '2026-03-27T08:00:00Z'],
    ['ETH-PERP', 'perpetual', 'ETH'],
  ] as const) {
    g.input({ type: 'InstrumentListed', instrument, kind, ...(underlying ? { underlying } : {}), ...(expiry ? { expiry } : {}) });
  }
  g.deposit('alice', '100000').deposit('mm', '10000000');
  g.price('10000', 'BTC');
  g.price('500', 'ETH');
  return g;
}

describe('scenario margin', () => {
  it('a single long future: the worst loss is the full down move', () => {
    // BTC-PERP is listed by Given with underlying BTC. Long 1 @ 10,000: scenario −3/3 loses 10 % × 10,000 = 1,000;
    // the extreme −2 × 10 % loses 2,000 × 35 % = 700 < 1,000 → MM 1,000, IM 1,200
    const g = book();
    g.price('10000', 'BTC-PERP');
    g.trade('alice', 'mm', '1', '10000');
    expect(g.account('alice')).toMatchObject({ maintenanceMargin: '1000', initialMargin: '1200' });
  });

  it('a calendar hedge nets to a near-zero loss', () => {
    // long 1 BTC-PERP @ 10,000, short 1 BTC-0327 @ 10,100: both move with BTC by the same fraction;
    // the net per scenario is (10,000 − 10,100) × move, worst at +3/3: 100 × 10 % = 10 → MM 10, IM 12
    const g = book();
    g.price('10000', 'BTC-PERP');
    g.price('10100', 'BTC-0327');
    g.trade('alice', 'mm', '1', '10000');
    g.trade('mm', 'alice', '1', '10100', 'BTC-0327');
    expect(g.account('alice')).toMatchObject({ maintenanceMargin: '10', initialMargin: '12' });
    // each leg alone would need 1,000 and 1,010
    expect(g.account('alice').positions).toMatchObject({ 'BTC-PERP': { maintenanceMargin: '1000' }, 'BTC-0327': { maintenanceMargin: '1010' } });
  });

  it('a short straddle: the short option minimum binds (per-option, the sum over every short option)', () => {
    // F 10,000, K 10,000, T 30 days, σ 50 %: call = put = 571.38 (Black-76). Short 1 of each: the worst
    // scenario is +3/3 with vol up, a loss of 562.86 (computed independently with Python's math.erf);
    // per-option, the short option minimum 2 × 400 = 800 is larger → MM 800, IM 960
    const g = book({ shortOptionMinimumMethod: 'per-option' });
    for (const [instrument, optionType] of [
      ['BTC-C', 'call'],
      ['BTC-P', 'put'],
    ] as const) {
      g.input({ type: 'InstrumentListed', instrument, kind: 'option', underlying: 'BTC', optionType, strike: '10000', expiry: '2026-01-31T00:00:00Z' });
    }
    g.input({ type: 'VolatilityUpdated', underlying: 'BTC', volatility: '0.5' });
    expect(g.engine.state.ledger.instruments.get('BTC-C')!.mark).toBe(57137675090n); // 571.3767509099…, rounded down
    g.trade('mm', 'alice', '1', '571.38', 'BTC-C');
    g.trade('mm', 'alice', '1', '571.38', 'BTC-P');
    expect(g.account('alice')).toMatchObject({ maintenanceMargin: '800', initialMargin: '960' });
    // greeks: d1 = ½σ√T = ½ × 0.5 × √(30/365) = 0.0716728, N(d1) = 0.5285688 (Python math.erf); short call delta
    // −N(d1), short put delta −(N(d1) − 1): together 1 − 2N(d1) = −0.0571377; a short straddle is short gamma and
    // vega, long theta
    const view = g.account('alice') as { greeks: Record<string, { delta: number; gamma: number; vega: number; theta: number }>; positions: Record<string, { greeks: { delta: number } }> };
    expect(view.positions['BTC-C']!.greeks.delta).toBeCloseTo(-0.5285688, 6);
    expect(view.greeks.BTC!.delta).toBeCloseTo(-0.0571377, 6);
    expect(view.greeks.BTC!.gamma).toBeLessThan(0);
    expect(view.greeks.BTC!.vega).toBeLessThan(0);
    expect(view.greeks.BTC!.theta).toBeGreaterThan(0);
  });

  it('BTC and ETH in one correlation group offset each other; in two they do not', () => {
    // long 1 BTC-PERP @ 10,000 (risk 1,000 on a down move), short 20 ETH-PERP @ 500 (risk 20 × 50 = 1,000 on an up move).
    // apart: 1,000 + 1,000 = 2,000. Together every joint scenario nets to 0: credit 50 % × (2,000 − 0) → 1,000.
    const setup = (extra?: Record<string, unknown>) => {
      const g = book(extra);
      g.price('10000', 'BTC-PERP');
      g.price('500', 'ETH-PERP');
      g.trade('alice', 'mm', '1', '10000');
      g.trade('mm', 'alice', '20', '500', 'ETH-PERP');
      return g.account('alice');
    };
    expect(setup()).toMatchObject({ maintenanceMargin: '2000' });
    expect(setup({ groups: [{ members: ['BTC', 'ETH'], offset: '0.5' }] })).toMatchObject({ maintenanceMargin: '1000' });
  });

  it('new scan parameters under the same rules name apply at once', () => {
    const g = book();
    g.price('10000', 'BTC-PERP');
    g.trade('alice', 'mm', '1', '10000');
    expect(g.account('alice')).toMatchObject({ maintenanceMargin: '1000' });
    // the same rules, BTC scanned at 20 %: 2,000 without any price having moved
    const wider = portfolioRules();
    (wider.portfolio as { underlyings: Record<string, { priceScanRange: string }> }).underlyings.BTC!.priceScanRange = '0.20';
    g.input({ type: 'RulesActivated', rules: wider });
    expect(g.account('alice')).toMatchObject({ maintenanceMargin: '2000' });
  });

  it('the saga calls and liquidates on scenario margin unchanged', () => {
    // alice with 1,100 cash, long 1 BTC-PERP: MM 1,000. BTC-PERP at 9,950: equity 1,050, MM 995 → fine;
    // at 9,900: equity 1,000 ≥ MM 990 → fine; at 9,800: equity 900 < MM 980 → a call for IM 1,176 − 900 = 276
    const g = new Given(portfolioRules());
    g.input({ type: 'InstrumentListed', instrument: 'BTC', kind: 'index' });
    g.deposit('alice', '1100').deposit('mm', '10000000');
    g.price('10000');
    g.trade('alice', 'mm', '1', '10000');
    expect(g.price('9900')).toEqual([]);
    expect(g.price('9800')).toEqual([expect.objectContaining({ type: 'MarginCallIssued', amount: '276', equity: '900', maintenanceMargin: '980' })]);
  });
});

describe('the short option minimum (CME SPAN: max(short calls, short puts) × rate per underlying)', () => {
  /** alice's book after shorting `legs` (option, type, strike, qty) on BTC at F 10,000, σ 50 %, 30 days. */
  function shortOptions(legs: readonly (readonly [string, 'call' | 'put', string, string])[], extra: Record<string, unknown> = {}): Given {
    const g = book({ underlyings: { BTC: { ...scan, shortOptionMinimum: '1000' }, ETH: { ...scan, shortOptionMinimum: '30' } }, ...extra });
    g.input({ type: 'VolatilityUpdated', underlying: 'BTC', volatility: '0.5' });
    g.input({ type: 'VolatilityUpdated', underlying: 'ETH', volatility: '0.5' });
    for (const [instrument, optionType, strike, qty] of legs) {
      const underlying = instrument.startsWith('ETH') ? 'ETH' : 'BTC';
      g.input({ type: 'InstrumentListed', instrument, kind: 'option', underlying, optionType, strike, expiry: '2026-01-31T00:00:00Z' });
      const mark = g.engine.state.ledger.instruments.get(instrument)!.mark!;
      g.trade('mm', 'alice', qty, (Number(mark) / 1e8).toFixed(2), instrument);
    }
    return g;
  }
  const scanRiskOf = (g: Given): number => {
    const { ledger, rules } = g.engine.state;
    return portfolioRequirement(ledger, rules!, [...ledger.accounts.get('alice')!.positions.values()]).scanRisk;
  };

  it('a short straddle is charged once: max(1 call, 1 put) × 1,000 = 1,000, not 2,000', () => {
    // scan risk 562.86 (the straddle above) < 1,000: the minimum binds → MM 1,000, IM 1,200
    const g = shortOptions([
      ['BTC-C10000', 'call', '10000', '1'],
      ['BTC-P10000', 'put', '10000', '1'],
    ]);
    expect(scanRiskOf(g)).toBeCloseTo(562.86, 2);
    expect(g.account('alice')).toMatchObject({ maintenanceMargin: '1000', initialMargin: '1200' });
    // the per-option rule sums them: (1 + 1) × 1,000 = 2,000
    const summed = shortOptions(
      [
        ['BTC-C10000', 'call', '10000', '1'],
        ['BTC-P10000', 'put', '10000', '1'],
      ],
      { shortOptionMinimumMethod: 'per-option' },
    );
    expect(summed.account('alice')).toMatchObject({ maintenanceMargin: '2000', initialMargin: '2400' });
  });

  it('a short strangle (call 11,000, put 9,000): max(1, 1) × 1,000 = 1,000 against a smaller scan risk', () => {
    const g = shortOptions([
      ['BTC-C11000', 'call', '11000', '1'],
      ['BTC-P9000', 'put', '9000', '1'],
    ]);
    expect(scanRiskOf(g)).toBeLessThan(1000);
    expect(g.account('alice')).toMatchObject({ maintenanceMargin: '1000', initialMargin: '1200' });
  });

  it('counts contracts by side and adds the underlyings: BTC max(2 calls, 1 put) × 1,000 + ETH max(0, 3 puts) × 30', () => {
    // 2 short BTC calls, 1 short BTC put → 2 × 1,000 = 2,000; 3 short ETH puts → 3 × 30 = 90; Σ 2,090
    // (per-option: 3 × 1,000 + 3 × 30 = 3,090). Each leg alone is charged its own count: a BTC call 1,000.
    const legs = [
      ['BTC-C11000', 'call', '11000', '2'],
      ['BTC-P9000', 'put', '9000', '1'],
      ['ETH-P450', 'put', '450', '3'],
    ] as const;
    const g = shortOptions(legs);
    expect(scanRiskOf(g)).toBeLessThan(2090);
    expect(g.account('alice')).toMatchObject({ maintenanceMargin: '2090' });
    expect(shortOptions(legs, { shortOptionMinimumMethod: 'per-option' }).account('alice')).toMatchObject({ maintenanceMargin: '3090' });
  });

  it('the scenario book and the per-position path agree under both methods', () => {
    for (const method of ['max-calls-puts', 'per-option']) {
      const g = shortOptions(
        [
          ['BTC-C11000', 'call', '11000', '2'],
          ['BTC-P9000', 'put', '9000', '1'],
          ['ETH-P450', 'put', '450', '3'],
        ],
        { shortOptionMinimumMethod: method },
      );
      const { ledger, rules } = g.engine.state;
      const alice = ledger.accounts.get('alice')!;
      expect(portfolioMarginOfAccount(ledger, rules!, alice)).toEqual(portfolioMargin(ledger, rules!, [...alice.positions.values()]));
    }
  });
});

describe('scenario margin properties', () => {
  const position = fc.record({ instrument: fc.constantFrom('BTC-PERP', 'BTC-0327', 'ETH-PERP'), qty: fc.integer({ min: -50, max: 50 }).filter((q) => q !== 0) });
  const trade = (g: Given, instrument: string, qty: number) => {
    const price = instrument === 'ETH-PERP' ? '500' : instrument === 'BTC-0327' ? '10100' : '10000';
    if (qty > 0) g.trade('alice', 'mm', String(qty / 10), price, instrument);
    else g.trade('mm', 'alice', String(-qty / 10), price, instrument);
  };
  const fresh = (grouped: boolean) => {
    const g = book(grouped ? { groups: [{ members: ['BTC', 'ETH'], offset: '0.7' }] } : {});
    g.price('10000', 'BTC-PERP');
    g.price('10100', 'BTC-0327');
    g.price('500', 'ETH-PERP');
    return g;
  };

  it('the requirement is never below the largest single-scenario loss of the whole portfolio', () => {
    fc.assert(
      fc.property(fc.array(position, { minLength: 1, maxLength: 6 }), fc.boolean(), (positions, grouped) => {
        const g = fresh(grouped);
        positions.forEach((p) => trade(g, p.instrument, p.qty));
        const { ledger, rules } = g.engine.state;
        const account = ledger.accounts.get('alice')!;
        const r = portfolioRequirement(ledger, rules!, [...account.positions.values()]);
        const worst = Math.max(0, ...Array.from(r.scenarioPnl, (x) => -x));
        expect(Number(g.account('alice').maintenanceMargin)).toBeGreaterThanOrEqual(worst - 1e-6);
        // the hot path (the account's flat book) gives exactly the requirement of its positions in instrument order
        expect(portfolioMarginOfAccount(ledger, rules!, account)).toEqual(portfolioMargin(ledger, rules!, unitPositions(account, { account: 'alice' })));
      }),
      { numRuns: 60 },
    );
  });

  it('adding a perfect hedge (of half or all of the portfolio) never raises it', () => {
    // a hedge whose scenario P&L is −α × the portfolio's: −α × every position (closing one leg alone is no
    // hedge: it can remove an offset and rightly raise the requirement)
    fc.assert(
      fc.property(fc.array(position, { minLength: 1, maxLength: 5 }), fc.constantFrom(0.5, 1), fc.boolean(), (positions, alpha, grouped) => {
        const g = fresh(grouped);
        positions.forEach((p) => trade(g, p.instrument, p.qty * 2));
        const before = Number(g.account('alice').maintenanceMargin);
        const net = new Map<string, number>();
        positions.forEach((p) => net.set(p.instrument, (net.get(p.instrument) ?? 0) + p.qty * 2));
        for (const [instrument, qty] of net) if (qty !== 0) trade(g, instrument, -qty * alpha);
        expect(Number(g.account('alice').maintenanceMargin)).toBeLessThanOrEqual(before);
      }),
      { numRuns: 60 },
    );
  });
});
