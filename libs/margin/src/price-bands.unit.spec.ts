import fc from 'fast-check';
import { deposit, emptyLedger, ensureAccount, trade, type LedgerState } from '@clearsim/ledger';
import { fromNumber, mul, parseFixed, toNumber, type Fixed } from '@clearsim/money';
import { parseRules } from '@clearsim/rules';
import { BandScratch, bandsFor, floatBandsFor, floatSlackLowerBound, PriceBands, screenBandsInto, type Band } from './price-bands';
import { callLevelOf, computeRisk } from './risk';

/** The plain model of PriceBands: every account's bands in a map, scanned in full. */
class ModelBands {
  readonly bands = new Map<string, Band[]>();

  crossed(instrument: string, mark: number): string[] {
    const out: string[] = [];
    for (const [account, bands] of this.bands) {
      if (bands.some((b) => b.instrument === instrument && (!(b.lower < b.upper) || mark < b.lower || mark > b.upper))) out.push(account);
    }
    for (const account of out) this.bands.delete(account);
    return out;
  }
}

const instrument = fc.constantFrom('A', 'B', 'C');
const account = fc.constantFrom('a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8');
const price = fc.integer({ min: 80, max: 120 });
// some bands without an end on one side (a long's band has no upper end, a short's no lower one: kept in no heap)
const band = fc
  .record({ instrument, lower: price, width: fc.integer({ min: -2, max: 20 }), endless: fc.constantFrom('none', 'lower', 'upper') })
  .map(({ instrument, lower, width, endless }) => ({ instrument, lower: endless === 'lower' ? -Infinity : lower, upper: endless === 'upper' ? Infinity : lower + width }));
const operation = fc.oneof(
  fc.record({ op: fc.constant('set' as const), account, bands: fc.array(band, { maxLength: 3 }) }),
  fc.record({ op: fc.constant('remove' as const), account }),
  fc.record({ op: fc.constant('crossed' as const), instrument, mark: price }),
);

describe('PriceBands', () => {
  it('finds the accounts a move leaves, zero-width bands always, and drops all their bands', () => {
    const bands = new PriceBands();
    bands.set('a', [{ instrument: 'X', lower: 90, upper: 110 }]);
    bands.set('b', [{ instrument: 'X', lower: 95, upper: 105 }, { instrument: 'Y', lower: 1, upper: 2 }]);
    bands.set('c', [{ instrument: 'X', lower: 100, upper: 100 }]); // zero width: any move re-checks it
    expect([...bands.crossed('X', 100)]).toEqual(['c']);
    expect([...bands.crossed('X', 100)]).toEqual([]); // c is unbanded until set again
    expect([...bands.crossed('X', 94)].sort()).toEqual(['b']); // 94 < 95: b leaves, a (90..110) stays
    expect([...bands.crossed('Y', 3)]).toEqual([]); // b's band in Y went with it
    expect([...bands.crossed('X', 111)]).toEqual(['a']);
  });

  it('answers like a full scan over any sequence of set, remove and moves', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 80 }), (operations) => {
        const bands = new PriceBands();
        const model = new ModelBands();
        for (const step of operations) {
          if (step.op === 'set') {
            bands.set(step.account, step.bands);
            if (step.bands.length > 0) model.bands.set(step.account, step.bands);
            else model.bands.delete(step.account);
          } else if (step.op === 'remove') {
            bands.remove(step.account);
            model.bands.delete(step.account);
          } else {
            expect([...bands.crossed(step.instrument, step.mark)].sort()).toEqual(model.crossed(step.instrument, step.mark).sort());
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps its heaps right through thousands of slots reused (growth and removal in the middle)', () => {
    const bands = new PriceBands();
    const model = new ModelBands();
    // 2,000 accounts with bands 100 ± (i mod 50 + 1): a move to 100 ± d crosses exactly those narrower than d
    for (let i = 0; i < 2000; i++) {
      const half = (i % 50) + 1;
      const b = [{ instrument: 'X', lower: 100 - half, upper: 100 + half }];
      bands.set(`acct-${i}`, b);
      model.bands.set(`acct-${i}`, b);
    }
    for (let i = 0; i < 2000; i += 3) {
      bands.remove(`acct-${i}`);
      model.bands.delete(`acct-${i}`);
    }
    for (const mark of [110.5, 89.5, 120, 60]) {
      expect([...bands.crossed('X', mark)].sort()).toEqual(model.crossed('X', mark).sort());
    }
  });
});

// The tiers, rules and book of the bandsFor and float-screen tests.
// MM continuous at both edges: 4,000 × 0.025 = 4,000 × 0.05 − 100 = 100; 10,000 × 0.05 − 100 = 10,000 × 0.08 − 400 = 400
const continuous = [
  { upToNotional: '4000', initialRate: '0.05', maintenanceRate: '0.025' },
  { upToNotional: '10000', initialRate: '0.1', maintenanceRate: '0.05', maintenanceAmount: '100' },
  { initialRate: '0.16', maintenanceRate: '0.08', maintenanceAmount: '400' },
];
// the same rates with MM jumping at the edges (no maintenance amounts)
const jumping = continuous.map(({ maintenanceAmount: _, ...tier }) => tier);
const rulesWith = (tiers: object[], callBelow: string, concentration: boolean) =>
  parseRules({
    name: 'bands',
    model: 'cross',
    marginCall: { graceSeconds: 0, callBelow },
    liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' },
    bankruptcy: 'adl',
    accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' },
    concentration: concentration ? { X: { threshold: '6000', rate: '0.02' } } : {},
    instruments: { '*': { tiers } },
  });

/** Account "a" with the positions (bought from or sold to "mm" at `price`, which is also the mark, then marked at `mark`) and cash. */
function book(positions: { instrument: string; qty: number; price: number; mark?: number }[], cash: number): LedgerState {
  const ledger = emptyLedger();
  for (const { instrument, price } of positions) {
    ledger.instruments.set(instrument, { id: instrument, kind: 'perpetual', settlementAsset: 'USD', multiplier: parseFixed('1'), premiumStyle: false, settled: false, mark: fromNumber(price, 'floor') });
  }
  const account = ensureAccount(ledger, 'a', false);
  const maker = ensureAccount(ledger, 'mm', false);
  deposit(ledger, account, fromNumber(cash, 'floor'));
  for (const { instrument, qty, price, mark } of positions) {
    trade(ledger, qty > 0 ? account : maker, qty > 0 ? maker : account, ledger.instruments.get(instrument)!, fromNumber(Math.abs(qty), 'floor'), fromNumber(price, 'floor'));
    if (mark !== undefined) ledger.instruments.get(instrument)!.mark = fromNumber(mark, 'floor');
  }
  return ledger;
}

describe('bandsFor', () => {
  /** The property: moving every mark anywhere inside its band leaves the unit above its call level, by exact risk. */
  function safeBands(positions: { instrument: string; qty: number; price: number }[], cash: number, tiers: object[], callBelow: string, concentration: boolean, where: number[]): void {
    const ledger = book(positions, cash);
    const rules = rulesWith(tiers, callBelow, concentration);
    const account = ledger.accounts.get('a')!;
    const before = computeRisk(ledger, rules, account);
    if (before.equity <= callLevelOf(before, rules.marginCall.callBelow)) return; // already called: zero-width bands
    const bands = bandsFor(ledger, rules, account);
    bands.forEach((band, i) => {
      // every mark moves at once, anywhere inside its band (its ends included, rounded inward to the ledger scale)
      const mark = toNumber(ledger.instruments.get(band.instrument)!.mark!);
      const target = markInBand(band, mark, where[i]!);
      ledger.instruments.get(band.instrument)!.mark = fromNumber(target, target < mark ? 'ceil' : 'floor');
    });
    const after = computeRisk(ledger, rules, account);
    expect(after.equity > mul(after.maintenanceMargin, rules.marginCall.callBelow, 'ceil')).toBe(true);
  }

  it('spans a tier edge where MM is continuous, at the higher rate, and stops at one where it jumps', () => {
    // 1 unit short X at 3,900: notional 3,900 (tier 1, MM 97.5), cash 1,000 → equity 1,000, slack ≈ 902.5
    const ledger = book([{ instrument: 'X', qty: -1, price: 3900 }], 1000);
    const account = ledger.accounts.get('a')!;
    const [spanning] = bandsFor(ledger, rulesWith(continuous, '1', false), account);
    const [stopping] = bandsFor(ledger, rulesWith(jumping, '1', false), account);
    // continuous: up through 4,000 at 5 % (3,900 + 902.5 × 0.999 / 1.05 ≈ 4,759); the error allowance: 2 × (1 + 1 +
    // 1 × (2 + 0.08)) ledger units of rounding and 10^-13 × 3,900 × 1.08 of float error
    const allowance = 2 * 4.08e-8 + 1e-13 * 3900 * 1.08;
    expect(spanning!.upper).toBeCloseTo(3900 + (902.5 * 0.999 - allowance) / 1.05, 6);
    // a fall of the mark only raises a short's slack (by 1 + 0.025 per unit of mark): that side has no end
    expect(spanning!.lower).toBe(-Infinity);
    // jumping: up only to the edge at 4,000 (pulled in a little); down, the harmless side stops at no edge below tier 1
    expect(stopping!.upper).toBeLessThan(4000);
    expect(stopping!.upper).toBeGreaterThan(3999.99);
    expect(stopping!.lower).toBe(-Infinity);
  });

  it('gives the harmless side of a band no end, or the first edge where MM jumps (worked examples)', () => {
    // 1 unit long X at 3,900, cash 1,000: slack ≈ 902.5 as above. Down at 2.5 %: 3,900 − 902.5 × 0.999 / 1.025 ≈ 3,020.
    // Up, the slack rises by 1 − 1 × r ≥ 0.92 per unit of mark in every tier: continuous, no end
    const long = book([{ instrument: 'X', qty: 1, price: 3900 }], 1000);
    const allowance = 2 * 4.08e-8 + 1e-13 * 3900 * 1.08;
    const [spanning] = bandsFor(long, rulesWith(continuous, '1', false), long.accounts.get('a')!);
    expect(spanning!.lower).toBeCloseTo(3900 - (902.5 * 0.999 - allowance) / 1.025, 6);
    expect(spanning!.upper).toBe(Infinity);
    // MM jumps at 4,000 (97.5 → 200 at the edge): the long's harmless side ends there, pulled in a little
    const [stopping] = bandsFor(long, rulesWith(jumping, '1', false), long.accounts.get('a')!);
    expect(stopping!.upper).toBeLessThan(4000);
    expect(stopping!.upper).toBeGreaterThan(3999.99);
    // 1 unit short X at 5,000 (tier 2, MM 5,000 × 0.05 − 100 = 150), cash 1,000: slack 850. Down through the continuous
    // edge at 4,000: no end. With MM jumping there (MM 250, slack 750; at the edge 200 above it, 100 below: a jump
    // either way is not followed) it stops at the edge, pulled in a little above 4,000
    const short = book([{ instrument: 'X', qty: -1, price: 5000 }], 1000);
    expect(bandsFor(short, rulesWith(continuous, '1', false), short.accounts.get('a')!)[0]!.lower).toBe(-Infinity);
    const [jumpingShort] = bandsFor(short, rulesWith(jumping, '1', false), short.accounts.get('a')!);
    expect(jumpingShort!.lower).toBeGreaterThan(4000);
    expect(jumpingShort!.lower).toBeLessThan(4000.01);
  });

  it('reports a long on no rise of its mark and a short on no fall (the endless sides in the heaps)', () => {
    // the long and the short of the worked examples above: bands [≈ 3,020, ∞) and (−∞, ≈ 4,759]
    const rules = rulesWith(continuous, '1', false);
    const long = book([{ instrument: 'X', qty: 1, price: 3900 }], 1000);
    const short = book([{ instrument: 'X', qty: -1, price: 3900 }], 1000);
    const bands = new PriceBands();
    bands.set('long', bandsFor(long, rules, long.accounts.get('a')!));
    bands.set('short', bandsFor(short, rules, short.accounts.get('a')!));
    expect(bands.crossed('X', 1e9)).toEqual(['short']);
    expect(bands.crossed('X', 1e-6)).toEqual(['long']);
    // both detached now: nothing more to report until they are banded again
    expect(bands.crossed('X', 3900)).toEqual([]);
  });

  it('keeps a budget on the rising side of a long where c × r ≥ 1 (its slack does not rise with the mark)', () => {
    // one tier at 80 % maintenance, callBelow 1.25: c·r = 1, so a rise of the mark does not raise the slack. 1 unit long
    // at 100 (MM 80), cash 100: equity 100, call level 1.25 × 80 = 100 → no slack; cash 200: slack 100, shared as
    // usual: up by (100 × 0.999 − allowance) / (1 + 1.25 × 0.8) ≈ 49.95
    const steep = [{ initialRate: '0.9', maintenanceRate: '0.8' }];
    const ledger = book([{ instrument: 'X', qty: 1, price: 100 }], 200);
    const [band] = bandsFor(ledger, rulesWith(steep, '1.25', false), ledger.accounts.get('a')!);
    expect(band!.upper).toBeCloseTo(100 + (100 * 0.999) / 2, 4);
    expect(band!.lower).toBeCloseTo(100 - (100 * 0.999) / 2, 4);
  });

  // where in its band each mark moves: anywhere, or exactly at one end
  const where = fc.array(fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 2, maxLength: 2 });

  it('never lets a mark inside every band put the unit at or below its call level (exact risk at the moved marks)', () => {
    const position = fc.record({ instrument: fc.constantFrom('X', 'Y'), qty: fc.double({ min: -30, max: 30, noNaN: true }).filter((q) => Math.abs(q) > 0.01), price: fc.double({ min: 50, max: 2000, noNaN: true }) });
    fc.assert(fc.property(fc.uniqueArray(position, { minLength: 1, maxLength: 2, selector: (p) => p.instrument }), fc.double({ min: 100, max: 20000, noNaN: true }), fc.constantFrom(continuous, jumping), fc.constantFrom('1', '1.25'), fc.boolean(), where, safeBands), {
      numRuns: 3000,
    });
  });

  it('never lets a mark inside every band put a dust unit at or below its call level (positions and cash of a few ledger units)', () => {
    // what repeated partial liquidations leave: |qty| of 1 to 1,000 × 10^-8, cash of 1 to 20,000 × 10^-8; their slack is
    // tens of ledger units, about what the exact risk's rounding can take, so this is where the error allowance is tested
    const position = fc.record({ instrument: fc.constantFrom('X', 'Y'), qty: fc.integer({ min: -1000, max: 1000 }).filter((q) => q !== 0).map((q) => q / 1e8), price: fc.double({ min: 50, max: 2000, noNaN: true }) });
    fc.assert(fc.property(fc.uniqueArray(position, { minLength: 1, maxLength: 2, selector: (p) => p.instrument }), fc.integer({ min: 1, max: 20000 }).map((c) => c / 1e8), fc.constantFrom(continuous, jumping), fc.constantFrom('1', '1.25'), fc.boolean(), where, safeBands), {
      numRuns: 3000,
    });
  });

  /** A called unit (grace 3600 s, cured at IM, liquidated below 0.5 × MM): its bands, with its unit key as the called one. */
  const calledRules = (tiers: object[], concentration: boolean, cureAt: 'initial' | 'maintenance' = 'initial') =>
    parseRules({
      name: 'called',
      model: 'cross',
      marginCall: { graceSeconds: 3600, cureAt, callBelow: '1' },
      liquidation: { immediateBelow: '0.5', step: '1', slippage: '0', feeRate: '0' },
      bankruptcy: 'adl',
      accounts: { insurance: 'insurance', fees: 'fees', backstop: 'backstop' },
      concentration: concentration ? { X: { threshold: '6000', rate: '0.02' } } : {},
      instruments: { '*': { tiers } },
    });

  it('bands a called unit between its liquidation below and its cure above (worked example)', () => {
    // long 1 X at 10,000, cash 600, marked at 9,850: equity 450; one tier IM 10 %, MM 5 %: IM 985, MM 492.5 — called
    const flat = [{ initialRate: '0.1', maintenanceRate: '0.05' }];
    const ledger = book([{ instrument: 'X', qty: 1, price: 10000, mark: 9850 }], 600);
    const [band] = bandsFor(ledger, calledRules(flat, false), ledger.accounts.get('a')!, new Set(['a']));
    // below: the slack over 0.5 × MM, 450 − 246.25 = 203.75, falls by 1 + 0.5 × 0.05 per unit of mark; the allowance
    // 2 × (1 + 1 + 0.5 × 2.05) ledger units and 10^-13 × 9,850 × 1.025 of float error
    const lowAllowance = 2 * 3.025e-8 + 1e-13 * 9850 * 1.025;
    expect(band!.lower).toBeCloseTo(9850 - (203.75 * 0.999 - lowAllowance) / 1.025, 6);
    // above: the room to the cure level, IM − equity = 535, shrinks by at most 1 + 0.1 + 1 × 0.05 per unit of mark;
    // the allowance 2 × (1 + 3 + 2 × 1.15) ledger units and 10^-13 × 9,850 × 1.15
    const upAllowance = 2 * 6.3e-8 + 1e-13 * 9850 * 1.15;
    expect(band!.upper).toBeCloseTo(9850 + (535 * 0.999 - upAllowance) / 1.15, 6);
    // (the call is met only at 600 + (m − 10,000) = 0.1 m, m ≈ 10,444.4; liquidated below 600 + (m − 10,000) = 0.025 m, m ≈ 9,641.0)
    expect(band!.upper).toBeLessThan(10444.4);
    expect(band!.lower).toBeGreaterThan(9641.1);
    // the same account not called: one level (its call level, MM), and the up side is harmless
    const [uncalled] = bandsFor(ledger, calledRules(flat, false), ledger.accounts.get('a')!);
    expect(uncalled).toEqual({ instrument: 'X', lower: 9850, upper: 9850 }); // below MM: no slack
  });

  it('never lets a mark inside every band of a called unit liquidate it or meet its call (exact risk at the moved marks)', () => {
    const position = fc.record({ instrument: fc.constantFrom('X', 'Y'), qty: fc.double({ min: -30, max: 30, noNaN: true }).filter((q) => Math.abs(q) > 0.01), price: fc.double({ min: 50, max: 2000, noNaN: true }) });
    let banded = 0;
    fc.assert(
      fc.property(
        fc.uniqueArray(position, { minLength: 1, maxLength: 2, selector: (p) => p.instrument }),
        fc.double({ min: 1, max: 20000, noNaN: true }),
        fc.constantFrom(continuous, jumping),
        fc.boolean(),
        fc.constantFrom('initial' as const, 'maintenance' as const),
        where,
        (positions, cash, tiers, concentration, cureAt, at) => {
          const ledger = book(positions, cash);
          const rules = calledRules(tiers, concentration, cureAt);
          const account = ledger.accounts.get('a')!;
          const risk = computeRisk(ledger, rules, account);
          const cure = (r: typeof risk): Fixed => (cureAt === 'initial' ? r.initialMargin : r.maintenanceMargin);
          // a unit the saga would leave called: at or above 0.5 × MM, below its cure level
          if (risk.equity * 2n < risk.maintenanceMargin || risk.equity >= cure(risk)) return;
          const bands = bandsFor(ledger, rules, account, new Set(['a']));
          bands.forEach((band, i) => {
            const mark = toNumber(ledger.instruments.get(band.instrument)!.mark!);
            if (band.lower < band.upper) banded++;
            const target = markInBand(band, mark, at[i]!);
            ledger.instruments.get(band.instrument)!.mark = fromNumber(target, target < mark ? 'ceil' : 'floor');
          });
          const after = computeRisk(ledger, rules, account);
          expect(after.equity * 2n >= after.maintenanceMargin).toBe(true);
          expect(after.equity < cure(after)).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
    // the property is about bands that exist: most called units get some room
    expect(banded).toBeGreaterThan(100);
  });

  it('bands a dust unit whose slack is a few dozen ledger units (it is not checked on every move)', () => {
    // 0.0000001 long X at 1,000 (notional 0.0001 = 10,000 ledger units, tier 1: MM 10,000 × 0.025 = 250 units), cash
    // 0.000004 (400 units, equity 400): slack 150 units. The allowance is 2 × (1 + 1 + 1 × (2 + 0.08)) = 8.16 units (and
    // 10^-13 of the notional, nothing), so δ = (150 × 0.999 − 8.16) × 10^-8 / (10^-7 × 1.025) = 1.41690 × 10^-6 / 1.025 × 10^-7
    // ≈ 13.823 down (up is harmless: no end). (A flat 10^-6 per position and one more, 200 units, left it no slack: a zero-width band.)
    const ledger = book([{ instrument: 'X', qty: 1e-7, price: 1000 }], 4e-6);
    const [dust] = bandsFor(ledger, rulesWith(continuous, '1', false), ledger.accounts.get('a')!);
    expect(dust!.lower).toBeCloseTo(1000 - 13.823, 2);
    expect(dust!.upper).toBe(Infinity); // a long's harmless side
  });
});

describe('the float screen (floatSlackLowerBound, floatBandsFor)', () => {
  const exactSlack = (ledger: LedgerState, rules: ReturnType<typeof rulesWith>): number => {
    const risk = computeRisk(ledger, rules, ledger.accounts.get('a')!);
    return toNumber(risk.equity - callLevelOf(risk, rules.marginCall.callBelow));
  };
  const lowerBound = (ledger: LedgerState, rules: ReturnType<typeof rulesWith>): number => {
    const account = ledger.accounts.get('a')!;
    return floatSlackLowerBound(ledger, rules, [...account.positions.values()], account.cash, toNumber(rules.marginCall.callBelow));
  };

  it('bounds the exact slack from below by little more than the rounding allowance (worked example)', () => {
    // 1 long X bought at 3,900, marked 3,900: value 0, notional 3,900 in tier 1 (≤ 4,000), MM 3,900 × 0.025 = 97.5;
    // cash 1,000: slack 1,000 − 97.5 = 902.5 exactly. The bound takes off E = 1 + (1 + 1 × (2 + 0.025)) = 4.025 ledger
    // units and (1 + 32) × 2^-52 × (1,000 + 3,900 + 3,900 + 97.5) ≈ 6.5 × 10^-11 of float error
    const ledger = book([{ instrument: 'X', qty: 1, price: 3900 }], 1000);
    const rules = rulesWith(continuous, '1', false);
    expect(exactSlack(ledger, rules)).toBe(902.5);
    const bound = lowerBound(ledger, rules);
    expect(bound).toBeLessThan(902.5);
    expect(bound).toBeCloseTo(902.5 - 4.025e-8 - 33 * Number.EPSILON * 8897.5, 12);
    // its bands are those of the exact slack to within the allowance's share (≈ 4 × 10^-8 of 902.5 × 0.999 ÷ 1.025)
    const [exact] = bandsFor(ledger, rules, ledger.accounts.get('a')!);
    const [screened] = floatBandsFor(ledger, rules, ledger.accounts.get('a')!)!;
    expect(screened!.lower).toBeGreaterThan(exact!.lower);
    expect(screened!.lower).toBeCloseTo(exact!.lower, 6);
    expect(screened!.upper).toBe(Infinity); // a long's harmless side, as the exact band's
    expect(exact!.upper).toBe(Infinity);
  });

  it('leaves to the exact check a notional on a tier edge, a concentration add-on, collateral, and a unit at or below its call level', () => {
    // 1 long X at 4,000: notional exactly on the edge (it belongs to tier 1; floats are not trusted to say so)
    const onEdge = book([{ instrument: 'X', qty: 1, price: 4000 }], 1000);
    expect(floatBandsFor(onEdge, rulesWith(continuous, '1', false), onEdge.accounts.get('a')!)).toBeUndefined();
    const plain = book([{ instrument: 'X', qty: 1, price: 3900 }], 1000);
    expect(floatBandsFor(plain, rulesWith(continuous, '1', true), plain.accounts.get('a')!)).toBeUndefined();
    const withCollateral = book([{ instrument: 'X', qty: 1, price: 3900 }], 1000);
    withCollateral.accounts.get('a')!.collateral = new Map([['USDC', parseFixed('5')]]);
    expect(floatBandsFor(withCollateral, rulesWith(continuous, '1', false), withCollateral.accounts.get('a')!)).toBeUndefined();
    // cash 97.5 against MM 97.5: slack 0 — a decision is possible, so only the exact check may say
    const atCall = book([{ instrument: 'X', qty: 1, price: 3900 }], 97.5);
    expect(floatBandsFor(atCall, rulesWith(continuous, '1', false), atCall.accounts.get('a')!)).toBeUndefined();
  });

  const position = fc.record({
    instrument: fc.constantFrom('X', 'Y'),
    qty: fc.oneof(fc.double({ min: -30, max: 30, noNaN: true }).filter((q) => Math.abs(q) > 0.01), fc.integer({ min: -1000, max: 1000 }).filter((q) => q !== 0).map((q) => q / 1e8), fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter((q) => Math.abs(q) > 1)),
    price: fc.double({ min: 50, max: 2000, noNaN: true }),
    move: fc.double({ min: -0.3, max: 0.3, noNaN: true }),
  });
  const positions = fc.uniqueArray(position, { minLength: 1, maxLength: 2, selector: (p) => p.instrument }).map((ps) => ps.map((p) => ({ ...p, mark: p.price * (1 + p.move) })));
  const cash = fc.oneof(fc.double({ min: 100, max: 20000, noNaN: true }), fc.integer({ min: 1, max: 20000 }).map((c) => c / 1e8), fc.double({ min: 1e4, max: 1e9, noNaN: true }));

  it('is always below the exact slack (dust, ordinary and ~2^53-unit amounts, marks moved since the trade)', () => {
    fc.assert(
      fc.property(positions, cash, fc.constantFrom(continuous, jumping), fc.constantFrom('1', '1.25', '1.1'), (held, deposit, tiers, callBelow) => {
        const ledger = book(held, deposit);
        const rules = rulesWith(tiers, callBelow, false);
        const bound = lowerBound(ledger, rules);
        // −Infinity (a tier edge too close) is a bound too; otherwise a close one: within 10^-6 relative and a few units
        expect(bound).toBeLessThan(exactSlack(ledger, rules));
        if (bound > -Infinity) expect(exactSlack(ledger, rules) - bound).toBeLessThan(1e-6 * (1 + Math.abs(exactSlack(ledger, rules))) + 1e-6);
      }),
      { numRuns: 5000 },
    );
  });

  it('gives bands no mark inside of which puts the unit at or below its call level (exact risk at the moved marks)', () => {
    const where = fc.array(fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 2, maxLength: 2 });
    const held = fc.uniqueArray(fc.record({ instrument: fc.constantFrom('X', 'Y'), qty: fc.oneof(fc.double({ min: -30, max: 30, noNaN: true }).filter((q) => Math.abs(q) > 0.01), fc.integer({ min: -1000, max: 1000 }).filter((q) => q !== 0).map((q) => q / 1e8)), price: fc.double({ min: 50, max: 2000, noNaN: true }) }), {
      minLength: 1,
      maxLength: 2,
      selector: (p) => p.instrument,
    });
    fc.assert(
      fc.property(held, fc.oneof(fc.double({ min: 100, max: 20000, noNaN: true }), fc.integer({ min: 1, max: 20000 }).map((c) => c / 1e8)), fc.constantFrom(continuous, jumping), fc.constantFrom('1', '1.25'), where, (ps, deposit, tiers, callBelow, at) =>
        safeScreenedBands(ps, deposit, tiers, callBelow, at),
      ),
      { numRuns: 3000 },
    );
  });

  function safeScreenedBands(positions: { instrument: string; qty: number; price: number }[], cash: number, tiers: object[], callBelow: string, where: number[]): void {
    const ledger = book(positions, cash);
    const rules = rulesWith(tiers, callBelow, false);
    const account = ledger.accounts.get('a')!;
    const bands = floatBandsFor(ledger, rules, account);
    if (!bands) return;
    // the screen passed: the exact check would decide nothing now
    expect(exactSlack(ledger, rules)).toBeGreaterThan(0);
    bands.forEach((band, i) => {
      const mark = toNumber(ledger.instruments.get(band.instrument)!.mark!);
      const target = markInBand(band, mark, where[i]!);
      ledger.instruments.get(band.instrument)!.mark = fromNumber(target, target < mark ? 'ceil' : 'floor');
    });
    const after = computeRisk(ledger, rules, account);
    expect(after.equity > mul(after.maintenanceMargin, rules.marginCall.callBelow, 'ceil')).toBe(true);
  }

  it('screens a crossed account from its float mirror exactly as afresh, with or without its bands cut, while trades, deposits and marks change it', () => {
    // the mirror keeps each position's floats until the account's version moves (a trade); cash and marks are read live
    const steps = mirrorSteps(['X', 'Y'], { min: -2000, max: 5000 }, { min: 50, max: 5000 }, false);
    const outcomes = { passed: 0, declined: 0 };
    fc.assert(
      fc.property(fc.array(steps, { minLength: 1, maxLength: 25 }), fc.constantFrom(continuous, jumping), (run, tiers) => {
        const ledger = book([{ instrument: 'X', qty: 1, price: 1000 }, { instrument: 'Y', qty: -2, price: 500 }], 3000);
        const rules = rulesWith(tiers, '1', false);
        const bands = new PriceBands();
        for (const step of run) outcomes[screenAfterStep(ledger, rules, bands, step, 'X') ? 'passed' : 'declined']++;
      }),
      { numRuns: 500 },
    );
    // both answers were exercised: screens the mirror passed and ones it left to the exact check
    expect(outcomes.passed).toBeGreaterThan(0);
    expect(outcomes.declined).toBeGreaterThan(0);
  });

  it('screens an account of many positions from the terms it keeps (marks unchanged since) exactly as afresh', () => {
    // ten positions: the mirror keeps each position's terms at its mark, so a screen after a deposit, a trade in one
    // instrument or a mark set again to the same price converts only what changed (a market maker after each trade)
    const instruments = Array.from({ length: 10 }, (_, i) => `I${i}`);
    const steps = mirrorSteps(instruments, { min: -40000, max: 20000 }, { min: 50, max: 2000 }, true);
    const outcomes = { passed: 0, declined: 0 };
    fc.assert(
      fc.property(fc.array(steps, { minLength: 1, maxLength: 30 }), fc.constantFrom(continuous, jumping), fc.constantFrom('1', '1.5'), (run, tiers, callBelow) => {
        const ledger = book(
          instruments.map((instrument, i) => ({ instrument, qty: i % 3 === 0 ? -1 - i / 10 : 1 + i / 10, price: 300 + 70 * i })),
          9000,
        );
        const rules = rulesWith(tiers, callBelow, false);
        const bands = new PriceBands();
        for (const step of run) outcomes[screenAfterStep(ledger, rules, bands, step, 'I1') ? 'passed' : 'declined']++;
      }),
      { numRuns: 300 },
    );
    expect(outcomes.passed).toBeGreaterThan(0);
    expect(outcomes.declined).toBeGreaterThan(0);
  });
});

/** A change to account "a" of `book` (its counterparty "mm"), for the mirror's properties. */
type MirrorStep =
  | { kind: 'trade'; instrument: string; qty: number }
  | { kind: 'deposit'; amount: number }
  | { kind: 'mark'; instrument: string; price: number }
  | { kind: 'same mark'; instrument: string };

/** Trades of ±0.01–3 in `instruments`, deposits (or withdrawals) of `amounts`, marks in `prices`; with `sameMarks`, a mark set again to its own value as a new bigint (a kept term is reused by value, not by identity). */
function mirrorSteps(instruments: string[], amounts: { min: number; max: number }, prices: { min: number; max: number }, sameMarks: boolean): fc.Arbitrary<MirrorStep> {
  const instrument = fc.constantFrom(...instruments);
  const steps: fc.Arbitrary<MirrorStep>[] = [
    fc.record({ kind: fc.constant('trade' as const), instrument, qty: fc.integer({ min: -300, max: 300 }).filter((q) => q !== 0).map((q) => q / 100) }),
    fc.record({ kind: fc.constant('deposit' as const), amount: fc.integer(amounts) }),
    fc.record({ kind: fc.constant('mark' as const), instrument, price: fc.double({ ...prices, noNaN: true }) }),
  ];
  if (sameMarks) steps.push(fc.record({ kind: fc.constant('same mark' as const), instrument }));
  return fc.oneof(...steps);
}

/**
 * Applies `step` to account "a", has it crossed on `crossedOn` and screens it from its mirror and afresh: the same
 * answer and the same bands, and the answer alone (a trade's check, its bands owed) the same. Answers whether it passed.
 */
function screenAfterStep(ledger: LedgerState, rules: ReturnType<typeof rulesWith>, bands: PriceBands, step: MirrorStep, crossedOn: string): boolean {
  const account = ledger.accounts.get('a')!;
  const maker = ledger.accounts.get('mm')!;
  if (step.kind === 'trade') {
    const instrument = ledger.instruments.get(step.instrument)!;
    trade(ledger, step.qty > 0 ? account : maker, step.qty > 0 ? maker : account, instrument, fromNumber(Math.abs(step.qty), 'floor'), instrument.mark!);
  } else if (step.kind === 'deposit') {
    account.cash += fromNumber(step.amount, 'floor');
  } else if (step.kind === 'mark') {
    ledger.instruments.get(step.instrument)!.mark = fromNumber(step.price, 'floor');
  } else {
    const instrument = ledger.instruments.get(step.instrument)!;
    instrument.mark = BigInt(String(instrument.mark!)) as Fixed;
  }
  // a zero-width band: every move of its instrument crosses the account
  bands.set('a', [{ instrument: crossedOn, lower: 1, upper: 1 }]);
  expect(bands.crossed(crossedOn, 2)).toEqual(['a']);
  const mirrored = new BandScratch();
  const fresh = new BandScratch();
  const passed = bands.screenCrossedInto(0, ledger, rules, account, mirrored);
  expect(passed).toBe(screenBandsInto(ledger, rules, account, fresh));
  expect(mirrored.toBands()).toEqual(fresh.toBands());
  expect(bands.screenPasses(ledger, rules, account)).toBe(passed);
  expect(screenBandsInto(ledger, rules, account, new BandScratch(), false)).toBe(passed);
  return passed;
}

/**
 * A mark inside `band` at `where` (0: its lower end, 1: its upper end). An endless side (a move there only raises the
 * unit's slack) is cut at 1,000 × (or 1/1,000 of) the mark, so the moved mark still tests it far out.
 */
function markInBand(band: Band, mark: number, where: number): number {
  const lower = Number.isFinite(band.lower) ? band.lower : mark / 1000;
  const upper = Number.isFinite(band.upper) ? band.upper : mark * 1000;
  return Math.min(Math.max(lower + (upper - lower) * where, lower), upper);
}
