import fc from 'fast-check';
import { SlotHeap } from './band-heap';

describe('SlotHeap', () => {
  it('keeps a slot set to +Infinity out of the heap: it is never on top, and a finite key puts it back', () => {
    const heap = new SlotHeap();
    heap.set(0, 5);
    heap.set(1, Infinity); // an endless side: no finite price reaches it
    heap.set(2, 7);
    expect(heap.size).toBe(2);
    expect(heap.has(1)).toBe(false);
    heap.remove(0);
    expect(heap.top()).toBe(2);
    heap.remove(2);
    expect(heap.top()).toBe(-1); // slot 1 never shows
    heap.set(1, 3);
    expect(heap.top()).toBe(1);
    heap.set(1, Infinity); // back to endless: out again
    expect(heap.size).toBe(0);
  });

  it('always has on top a slot of the smallest finite key, over any sequence of set and remove', () => {
    const op = fc.record({ slot: fc.integer({ min: 0, max: 40 }), key: fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constant(Infinity), fc.constant(undefined)) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const heap = new SlotHeap();
        const model = new Map<number, number>();
        for (const { slot, key } of ops) {
          if (key === undefined) {
            heap.remove(slot);
            model.delete(slot);
          } else {
            heap.set(slot, key);
            if (key === Infinity) model.delete(slot);
            else model.set(slot, key);
          }
          expect(heap.size).toBe(model.size);
          const top = heap.top();
          if (model.size === 0) expect(top).toBe(-1);
          else expect(model.get(top)).toBe(Math.min(...model.values()));
        }
      }),
      { numRuns: 300 },
    );
  });
});
