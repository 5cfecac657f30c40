import fc from 'fast-check';
import { clearlyAboveMaintenanceFraction, computeRisk, marginFromScanRisk, portfolioMargin, portfolioMarginOfAccount, scenarioRequirements, unitPositions } from '@clearsim/margin';
import { trade as bookTrade } from '@clearsim/ledger';
import { parseFixed, SCALE } from '@clearsim/money';
import { Given, rulesFor } from './testing/given';

/**
 * The scenario book (libs/margin/src/portfolio/scenario-book.ts): the
 * struct-of-arrays cache behind the portfolio requirement of whole accounts,
 * and the float screen the saga uses to skip accounts clearly above their
 * call level. Both must agree with the exact path to the bit (the book) or
 * never contradict it (the screen).
 */
const scan = { priceScanRange: '0.10', volScanRange: '0.25', extremeMove: 2, extremeCover: '0.35' };
const CALL = 'BTC-20260327-10000-C';
const PUT = 'BTC-20260327-9000-P';
const INSTRUMENTS = ['BTC-PERP', 'BTC-0327', 'ETH-PERP', CALL, PUT] as const;
const ACCOUNTS = ['alice', 'bob', 'carol', 'dave'] as const;

function book(callBelow = '1'): Given {
  const g = new Given(
    rulesFor({
      model: 'portfolio',
      marginCall: { graceSeconds: 3600, callBelow },
      instruments: {},
      collateral: { USDC: { haircut: '0.01' } },
      // positions of up to 3 BTC (30,000 of notional) cross it: the screen must defer to the exact add-on
      concentration: { BTC: { threshold: '20000', rate: '0.02' } },
      portfolio: { underlyings: { BTC: { ...scan, shortOptionMinimum: '1500' }, ETH: scan }, initialToMaintenance: '1.2', groups: [{ members: ['BTC', 'ETH'], offset: '0.6' }] },
    }),
  );
  g.input({ type: 'InstrumentListed', instrument: 'BTC', kind: 'index' });
  g.input({ type: 'InstrumentListed', instrument: 'ETH', kind: 'index' });
  g.input({ type: 'InstrumentListed', instrument: 'BTC-0327', kind: 'future', underlying: 'BTC', expiry: '2026-03-27T08:00:00Z' });
  g.input({ type: 'InstrumentListed', instrument: 'ETH-PERP', kind: 'perpetual', underlying: 'ETH' });
  g.input({ type: 'InstrumentListed', instrument: CALL, kind: 'option', underlying: 'BTC', optionType: 'call', strike: '10000', expiry: '2026-03-27T08:00:00Z' });
  g.input({ type: 'InstrumentListed', instrument: PUT, kind: 'option', underlying: 'BTC', optionType: 'put', strike: '9000', expiry: '2026-03-27T08:00:00Z' });
  g.input({ type: 'VolatilityUpdated', underlying: 'BTC', volatility: '0.6' });
  g.price('10000', 'BTC');
  g.price('500', 'ETH');
  g.price('10000', 'BTC-PERP');
  g.price('10100', 'BTC-0327');
  g.price('500', 'ETH-PERP');
  g.input({ type: 'InstrumentListed', instrument: 'USDC', kind: 'index' });
  g.price('1', 'USDC');
  g.deposit('mm', '100000000');
  return g;
}

const PRICES: Record<string, string> = { 'BTC-PERP': '10000', 'BTC-0327': '10100', 'ETH-PERP': '500', [CALL]: '800', [PUT]: '250' };

function trade(g: Given, account: string, instrument: string, lots: number): void {
  const qty = String(Math.abs(lots) / 10);
  if (lots > 0) g.trade(account, 'mm', qty, PRICES[instrument]!, instrument);
  else g.trade('mm', account, qty, PRICES[instrument]!, instrument);
}

const step = fc.oneof(
  fc.record({ kind: fc.constant('trade' as const), account: fc.constantFrom(...ACCOUNTS), instrument: fc.constantFrom(...INSTRUMENTS), lots: fc.integer({ min: -30, max: 30 }).filter((l) => l !== 0) }),
  // a fill booked by the ledger alone: no margin check looks at the account before the next pass does
  fc.record({ kind: fc.constant('fill' as const), account: fc.constantFrom(...ACCOUNTS), instrument: fc.constantFrom(...INSTRUMENTS), lots: fc.integer({ min: -30, max: 30 }).filter((l) => l !== 0) }),
  fc.record({ kind: fc.constant('price' as const), underlying: fc.constantFrom('BTC', 'ETH'), move: fc.integer({ min: -15, max: 15 }) }),
  fc.record({ kind: fc.constant('pass' as const) }),
);

describe('the scenario book', () => {
  it('one pass over every account gives each the requirement of its positions, to the bit, as positions come and go', () => {
    // ranges grow past their first capacity (5 instruments > 4 slots), shrink as positions close, and are
    // rewritten only when an account's version moves; a pass must see every change, also fills no check saw
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        const g = book();
        for (const account of ACCOUNTS) g.deposit(account, '10000000');
        const agree = () => {
          const { ledger, rules } = g.engine.state;
          const { accounts, requirement } = scenarioRequirements(ledger, rules!);
          accounts.forEach((account, i) => {
            const exact = portfolioMargin(ledger, rules!, unitPositions(account, { account: account.id }));
            expect(marginFromScanRisk(rules!, requirement[i]!, 0)).toEqual(exact);
            expect(portfolioMarginOfAccount(ledger, rules!, account)).toEqual(exact);
          });
        };
        for (const s of steps) {
          if (s.kind === 'trade') trade(g, s.account, s.instrument, s.lots);
          else if (s.kind === 'fill') {
            const { ledger } = g.engine.state;
            const [buyer, seller] = s.lots > 0 ? [s.account, 'mm'] : ['mm', s.account];
            bookTrade(ledger, ledger.accounts.get(buyer)!, ledger.accounts.get(seller)!, ledger.instruments.get(s.instrument)!, parseFixed(String(Math.abs(s.lots) / 10)), parseFixed(PRICES[s.instrument]!));
          }
          else if (s.kind === 'price') g.price(String((s.underlying === 'BTC' ? 100 : 5) * (100 + s.move)), s.underlying);
          else agree();
        }
        agree();
      }),
      { numRuns: 80 },
    );
  });

  it('every account of the ledger is in the pass, system accounts included (the portfolio model has no isolated accounts)', () => {
    const g = book();
    g.deposit('alice', '100000').deposit('bob', '100000');
    trade(g, 'alice', 'BTC-PERP', 10);
    const { accounts, requirement } = scenarioRequirements(g.engine.state.ledger, g.engine.state.rules!);
    // alice long 1 BTC-PERP: the −3/3 scenario loses 10 % × 10,000 = 1,000 (ETH absent: no group credit)
    const alice = accounts.findIndex((a) => a.id === 'alice');
    expect(requirement[alice]).toBeCloseTo(1000, 9);
    expect(requirement[accounts.findIndex((a) => a.id === 'bob')]).toBe(0);
    expect(accounts.map((a) => a.id).sort()).toEqual(['alice', 'backstop', 'bob', 'fees', 'insurance', 'mm']);
  });
});

describe('the float screen (clearlyAboveMaintenanceFraction)', () => {
  const screen = (g: Given, account: string, fraction: string) => {
    const { ledger, rules } = g.engine.state;
    return clearlyAboveMaintenanceFraction(ledger, rules!, ledger.accounts.get(account)!, parseFixed(fraction));
  };

  it('clears an account well above MM, and leaves one at or just above it to the exact check', () => {
    // long 1 BTC-PERP @ 10,000 = mark: MM 1,000 (the −3/3 move), equity = cash (no P&L yet)
    const g = book();
    g.deposit('at', '1000').deposit('above', '1000.001').deposit('below', '999');
    for (const account of ['at', 'above', 'below']) trade(g, account, 'BTC-PERP', 10);
    expect(g.account('at')).toMatchObject({ equity: '1000', maintenanceMargin: '1000' });
    // at MM exactly: no decision, but the float bound (≈ 3 × 10⁻⁸ here) cannot prove it: exact check
    expect(screen(g, 'at', '1')).toBe(false);
    // 0.001 above: far beyond the bound
    expect(screen(g, 'above', '1')).toBe(true);
    expect(screen(g, 'below', '1')).toBe(false);
    // against a call level of 1.25 × MM = 1,250, none is clearly above
    expect(screen(g, 'above', '1.25')).toBe(false);
  });

  it('never clears an account the exact figures put below max(1, fraction) × MM, and clears most healthy ones', () => {
    let cleared = 0;
    let notCleared = 0;
    fc.assert(
      fc.property(
        fc.array(fc.record({ instrument: fc.constantFrom(...INSTRUMENTS), lots: fc.integer({ min: -30, max: 30 }).filter((l) => l !== 0) }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 4000 }),
        fc.constantFrom('1', '1.25', '0.8'),
        fc.integer({ min: -12, max: 12 }),
        (positions, cash, fraction, move) => {
          const g = book();
          g.deposit('alice', String(cash + 0.12345678));
          for (const p of positions) trade(g, 'alice', p.instrument, p.lots);
          g.price(String(10000 + 100 * move), 'BTC');
          const { ledger, rules } = g.engine.state;
          const account = ledger.accounts.get('alice')!;
          const risk = computeRisk(ledger, rules!, account);
          const level = parseFixed(fraction) > SCALE ? parseFixed(fraction) : SCALE;
          if (screen(g, 'alice', fraction)) {
            cleared++;
            expect(risk.equity * SCALE >= risk.maintenanceMargin * level).toBe(true);
          } else {
            notCleared++;
          }
        },
      ),
      { numRuns: 300 },
    );
    // the property is not vacuous: both outcomes occur
    expect(cleared).toBeGreaterThan(30);
    expect(notCleared).toBeGreaterThan(30);
  });

  it('defers to the exact path for other collateral, and for a position that may be above its concentration threshold', () => {
    const g = book();
    g.deposit('alice', '1000000');
    trade(g, 'alice', 'BTC-PERP', 1);
    expect(screen(g, 'alice', '1')).toBe(true);
    // threshold 2,000 of notional: 0.1 BTC-PERP at 10,000 is 1,000 (no add-on, screened); 0.3 is 3,000 (add-on: exact)
    const concentrated = new Given(rulesFor({ model: 'portfolio', instruments: {}, concentration: { BTC: { threshold: '2000', rate: '0.01' } }, portfolio: { underlyings: { BTC: { ...scan, shortOptionMinimum: '0' } }, initialToMaintenance: '1.2', groups: [] } }));
    concentrated.input({ type: 'InstrumentListed', instrument: 'BTC', kind: 'index' });
    concentrated.price('10000', 'BTC');
    concentrated.price('10000', 'BTC-PERP');
    concentrated.deposit('small', '1000000').deposit('large', '1000000').deposit('mm', '1000000');
    concentrated.trade('small', 'mm', '0.1', '10000');
    concentrated.trade('large', 'mm', '0.3', '10000');
    expect(screen(concentrated, 'small', '1')).toBe(true);
    expect(screen(concentrated, 'large', '1')).toBe(false);
    expect(concentrated.account('large')).toMatchObject({ maintenanceMargin: '310' }); // 10 % × 3,000 + 1 % × (3,000 − 2,000)
    // any other collateral: its haircut value is exact-path arithmetic
    g.input({ type: 'Deposited', account: 'alice', asset: 'USDC', amount: '1' });
    expect(screen(g, 'alice', '1')).toBe(false);
  });
});
