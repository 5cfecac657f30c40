import fc from 'fast-check';
import { PriceBands, type Band } from './price-bands';

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
const band = fc.record({ instrument, lower: price, width: fc.integer({ min: -2, max: 20 }) }).map(({ instrument, lower, width }) => ({ instrument, lower, upper: lower + width }));
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
