import fc from 'fast-check';
import type { Position } from './ledger.state';
import { PositionMap } from './position-map';

const position = (instrument: string, qty: bigint): Position => ({ instrument, qty, cost: 0n, isolatedMargin: 0n });

/** What a Map would hold, to compare against: entries in iteration order. */
const entriesOf = (map: PositionMap | Map<string, Position>) => [...map.entries()].map(([key, p]) => [key, p.instrument, p.qty]);

describe('PositionMap', () => {
  it('holds one position inline and a Map from the second on, keeping the insertion order of a Map', () => {
    const map = new PositionMap();
    expect(map.size).toBe(0);
    expect([...map.values()]).toEqual([]);
    const btc = position('BTC-PERP', 1n);
    map.set('BTC-PERP', btc);
    expect((map as unknown as { many?: Map<string, Position> }).many).toBeUndefined();
    expect(map.get('BTC-PERP')).toBe(btc);
    expect(map.get('ETH-PERP')).toBeUndefined();
    map.set('ETH-PERP', position('ETH-PERP', 2n));
    map.set('BTC-PERP', position('BTC-PERP', 3n)); // a replaced key keeps its place, as in a Map
    expect([...map.keys()]).toEqual(['BTC-PERP', 'ETH-PERP']);
    expect((map as unknown as { many?: Map<string, Position> }).many).toBeInstanceOf(Map);
    expect(map.delete('BTC-PERP')).toBe(true);
    expect(map.delete('BTC-PERP')).toBe(false);
    // back to one position: the Map is dropped
    expect((map as unknown as { many?: Map<string, Position> }).many).toBeUndefined();
    expect(entriesOf(map)).toEqual([['ETH-PERP', 'ETH-PERP', 2n]]);
  });

  it('refuses a position under another instrument than its own', () => {
    expect(() => new PositionMap().set('ETH-PERP', position('BTC-PERP', 1n))).toThrow('position of BTC-PERP set under ETH-PERP');
  });

  it('behaves as a Map under any sequence of sets and deletes', () => {
    const op = fc.record({ kind: fc.constantFrom('set', 'set', 'delete'), instrument: fc.constantFrom('A', 'B', 'C', 'D'), qty: fc.bigInt({ min: -5n, max: 5n }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const map = new PositionMap();
        const reference = new Map<string, Position>();
        for (const { kind, instrument, qty } of ops) {
          if (kind === 'set') {
            const p = position(instrument, qty);
            expect(map.set(instrument, p)).toBe(map);
            reference.set(instrument, p);
          } else {
            expect(map.delete(instrument)).toBe(reference.delete(instrument));
          }
          expect(map.size).toBe(reference.size);
          expect(entriesOf(map)).toEqual(entriesOf(reference));
          expect([...map.keys()]).toEqual([...reference.keys()]);
          expect([...map.values()]).toEqual([...reference.values()]);
          // pushValuesInto appends the same positions, in order, after what the array held
          const pushed: Position[] = [position('Z', 1n)];
          map.pushValuesInto(pushed);
          expect(pushed.slice(1)).toEqual([...reference.values()]);
          expect(pushed[0]!.instrument).toBe('Z');
          expect([...map]).toEqual([...reference]);
          for (const key of ['A', 'B', 'C', 'D']) {
            expect(map.get(key)).toBe(reference.get(key));
            expect(map.has(key)).toBe(reference.has(key));
          }
          const visited: string[] = [];
          map.forEach((p, key) => visited.push(`${key}:${p.instrument}`));
          expect(visited).toEqual([...reference.keys()].map((key) => `${key}:${key}`));
        }
        expect(entriesOf(PositionMap.of(reference.values()))).toEqual(entriesOf(reference));
      }),
      { numRuns: 300 },
    );
  });
});
