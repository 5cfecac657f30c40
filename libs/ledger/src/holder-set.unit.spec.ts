import fc from 'fast-check';
import { HolderSet } from './holder-set';

describe('HolderSet', () => {
  it('has the members a Set would have, after any sequence of adds and deletes', () => {
    const op = fc.tuple(fc.boolean(), fc.constantFrom('a', 'b', 'c', 'mm', 'backstop', 'x1', 'x2'));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const model = new Set<string>();
        const holders = new HolderSet();
        for (const [add, id] of ops) {
          if (add) {
            model.add(id);
            holders.add(id);
          } else {
            expect(holders.delete(id)).toBe(model.delete(id));
          }
          expect(holders.size).toBe(model.size);
        }
        expect([...holders].sort()).toEqual([...model].sort());
        for (const id of ['a', 'b', 'c', 'mm', 'backstop', 'x1', 'x2', 'never']) expect(holders.has(id)).toBe(model.has(id));
      }),
    );
  });

  it('removes a member from the middle by moving the last one into its place', () => {
    // members [a, b, c]; delete b → [a, c]; add b again → [a, c, b]
    const holders = HolderSet.of(['a', 'b', 'c']);
    expect(holders.delete('b')).toBe(true);
    expect(holders.delete('b')).toBe(false);
    expect(holders.toArray()).toEqual(['a', 'c']);
    holders.add('b').add('a');
    expect(holders.toArray()).toEqual(['a', 'c', 'b']);
  });
});
