/**
 * A min-heap of slots (small integers) keyed by a float64 per slot, in typed
 * arrays: no object per entry, and any slot can be removed in O(log n)
 * because the heap knows where each slot sits. Price bands keep two per
 * instrument (lower bounds negated, so the highest lower bound is on top;
 * upper bounds as they are).
 *
 * Four children per node, and each key stored beside its slot in heap order
 * (not by slot): a sift compares keys that sit next to each other in memory
 * instead of fetching each through its slot, over half the levels of a
 * binary heap (a band heap holds ~10^4 entries: 7 levels instead of 14).
 * Which slots are on top, and so which bands a price crosses, does not depend
 * on the heap's shape; only the order of equal keys can differ.
 */
export class SlotHeap {
  /** Keys in heap order: heapKeys[i] is the key of heap[i]. */
  private heapKeys = new Float64Array(16);
  /** Heap order: heap[0] is the slot with the smallest key. */
  private heap = new Int32Array(16);
  /** Where each slot sits in `heap`, −1 when it is not in the heap. */
  private where = new Int32Array(16).fill(-1);
  size = 0;

  /** The slot on top (smallest key); −1 when empty. */
  top(): number {
    return this.size > 0 ? this.heap[0]! : -1;
  }

  /** The smallest key (that of `top()`); +Infinity when empty. */
  topKey(): number {
    return this.size > 0 ? this.heapKeys[0]! : Infinity;
  }

  /** The key of a slot in the heap (see `has`). */
  keyOf(slot: number): number {
    return this.heapKeys[this.where[slot]!]!;
  }

  push(slot: number, key: number): void {
    this.reserve(slot + 1);
    this.up(this.size++, slot, key);
  }

  /** Whether `slot` is in the heap. */
  has(slot: number): boolean {
    return slot < this.where.length && this.where[slot]! >= 0;
  }

  /** Gives `slot` a new key where it sits (one sift instead of a removal and a push); pushes it if it is not in the heap. */
  update(slot: number, key: number): void {
    if (!this.has(slot)) {
      this.push(slot, key);
      return;
    }
    const i = this.where[slot]!;
    const old = this.heapKeys[i]!;
    if (key < old) this.up(i, slot, key);
    else if (key > old) this.down(i, slot, key);
  }

  /**
   * `update`, but a key of +Infinity (an endless side of a band: no finite
   * price reaches it) keeps the slot out of the heap: the heap holds only
   * the bounds a price can cross, so it is smaller and such a slot costs no
   * sift when it is banded or detached.
   */
  set(slot: number, key: number): void {
    if (key === Infinity) this.remove(slot);
    else this.update(slot, key);
  }

  /** Takes `slot` out of the heap (nothing if it is not in it). */
  remove(slot: number): void {
    if (slot >= this.where.length) return;
    const i = this.where[slot]!;
    if (i < 0) return;
    this.where[slot] = -1;
    const lastAt = --this.size;
    if (i === lastAt) return;
    const last = this.heap[lastAt]!;
    const key = this.heapKeys[lastAt]!;
    // the last entry fills the hole: it moves up if it is below the hole's parent, else down
    if (i > 0 && key < this.heapKeys[(i - 1) >> 2]!) this.up(i, last, key);
    else this.down(i, last, key);
  }

  /** Places `slot` with `key` at `i` or above it (the entry at `i` is overwritten). */
  private up(i: number, slot: number, key: number): void {
    const { heap, where, heapKeys } = this;
    while (i > 0) {
      const parent = (i - 1) >> 2;
      const above = heapKeys[parent]!;
      if (!(key < above)) break;
      const moved = heap[parent]!;
      heap[i] = moved;
      heapKeys[i] = above;
      where[moved] = i;
      i = parent;
    }
    heap[i] = slot;
    heapKeys[i] = key;
    where[slot] = i;
  }

  /** Places `slot` with `key` at `i` or below it (the entry at `i` is overwritten). */
  private down(i: number, slot: number, key: number): void {
    const { heap, where, heapKeys } = this;
    const size = this.size;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= size) break;
      let child = first;
      let least = heapKeys[first]!;
      const end = first + 4 < size ? first + 4 : size;
      for (let c = first + 1; c < end; c++) {
        const k = heapKeys[c]!;
        if (k < least) {
          least = k;
          child = c;
        }
      }
      if (!(least < key)) break;
      const moved = heap[child]!;
      heap[i] = moved;
      heapKeys[i] = least;
      where[moved] = i;
      i = child;
    }
    heap[i] = slot;
    heapKeys[i] = key;
    where[slot] = i;
  }

  private reserve(slots: number): void {
    if (slots > this.where.length) {
      const where = new Int32Array(Math.max(slots, 2 * this.where.length)).fill(-1);
      where.set(this.where);
      this.where = where;
    }
    if (this.size < this.heap.length) return;
    const capacity = 2 * this.heap.length;
    const heapKeys = new Float64Array(capacity);
    heapKeys.set(this.heapKeys);
    this.heapKeys = heapKeys;
    const heap = new Int32Array(capacity);
    heap.set(this.heap);
    this.heap = heap;
  }
}
