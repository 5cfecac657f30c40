/**
 * A binary min-heap of slots (small integers) keyed by a float64 per slot,
 * in typed arrays: no object per entry, and any slot can be removed in
 * O(log n) because the heap knows where each slot sits. Price bands keep two
 * per instrument (lower bounds negated, so the highest lower bound is on top;
 * upper bounds as they are).
 */
export class SlotHeap {
  /** The key of each slot (valid while the slot is in the heap). */
  keys = new Float64Array(16);
  /** Heap order: heap[0] is the slot with the smallest key. */
  private heap = new Int32Array(16);
  /** Where each slot sits in `heap`, −1 when it is not in the heap. */
  private where = new Int32Array(16).fill(-1);
  size = 0;

  /** The slot on top (smallest key); −1 when empty. */
  top(): number {
    return this.size > 0 ? this.heap[0]! : -1;
  }

  push(slot: number, key: number): void {
    this.reserve(slot + 1);
    this.keys[slot] = key;
    const i = this.size++;
    this.heap[i] = slot;
    this.where[slot] = i;
    this.up(i);
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
    this.keys[slot] = key;
    this.up(this.where[slot]!);
    this.down(this.where[slot]!);
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
    const last = this.heap[--this.size]!;
    if (i === this.size) return;
    this.heap[i] = last;
    this.where[last] = i;
    this.up(i);
    this.down(this.where[last]!);
  }

  private up(i: number): void {
    const { heap, where, keys } = this;
    const slot = heap[i]!;
    const key = keys[slot]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent]!;
      if (!(key < keys[above]!)) break;
      heap[i] = above;
      where[above] = i;
      i = parent;
    }
    heap[i] = slot;
    where[slot] = i;
  }

  private down(i: number): void {
    const { heap, where, keys } = this;
    const size = this.size;
    const slot = heap[i]!;
    const key = keys[slot]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      let child = l;
      if (r < size && keys[heap[r]!]! < keys[heap[l]!]!) child = r;
      const below = heap[child]!;
      if (!(keys[below]! < key)) break;
      heap[i] = below;
      where[below] = i;
      i = child;
    }
    heap[i] = slot;
    where[slot] = i;
  }

  private reserve(slots: number): void {
    if (slots <= this.where.length && this.size < this.heap.length) return;
    const capacity = Math.max(slots, this.size + 1, 2 * this.where.length);
    const keys = new Float64Array(capacity);
    keys.set(this.keys);
    this.keys = keys;
    const heap = new Int32Array(capacity);
    heap.set(this.heap);
    this.heap = heap;
    const where = new Int32Array(capacity).fill(-1);
    where.set(this.where);
    this.where = where;
  }
}
