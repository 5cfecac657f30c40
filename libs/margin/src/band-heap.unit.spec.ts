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

  it('moves the entry that fills a removed slot up when it is below the parent of the place it fills', () => {
    // four children a node: pushed in this order the heap is [0; 10, 1, 20, 30; 11, 12, 13, 14 (under 10); 2 (under 1)]
    const heap = new SlotHeap();
    const keys = [0, 10, 1, 20, 30, 11, 12, 13, 14, 2];
    keys.forEach((key, slot) => heap.set(slot, key));
    heap.remove(5); // key 11, under 10: the last entry (key 2) takes its place, below 10, and must rise above it
    const drained: number[] = [];
    for (let slot = heap.top(); slot >= 0; slot = heap.top()) {
      drained.push(heap.topKey());
      heap.remove(slot);
    }
    expect(drained).toEqual([0, 1, 2, 10, 12, 13, 14, 20, 30]);
  });

  it('always has on top a slot of the smallest finite key, over any sequence of set and remove', () => {
    const op = fc.record({ slot: fc.integer({ min: 0, max: 90 }), key: fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constant(Infinity), fc.constant(undefined)) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
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
          if (model.size === 0) {
            expect(top).toBe(-1);
            expect(heap.topKey()).toBe(Infinity);
          } else {
            expect(model.get(top)).toBe(Math.min(...model.values()));
            expect(heap.topKey()).toBe(Math.min(...model.values()));
          }
          // every slot keeps its own key wherever the sifts moved it
          for (const [slot, key] of model) expect(heap.keyOf(slot)).toBe(key);
        }
        // drained top by top, the heap gives the keys in order (a node out of heap order deep down surfaces here)
        const drained: number[] = [];
        for (let slot = heap.top(); slot >= 0; slot = heap.top()) {
          drained.push(heap.topKey());
          heap.remove(slot);
        }
        expect(drained).toEqual([...model.values()].sort((a, b) => a - b));
      }),
      { numRuns: 300 },
    );
  });
});
