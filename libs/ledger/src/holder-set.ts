/**
 * The accounts holding an instrument (or a collateral asset): a set of ids
 * whose every operation stays O(1) however the holders come and go.
 *
 * Why not a plain `Set`: V8's ordered hash tables keep a deleted entry as a
 * hole until the table is rehashed, and an id that is removed and added again
 * takes a new slot each time. A market maker or the backstop whose position
 * crosses zero on every other trade, on an instrument whose holders keep
 * growing, made `Set.add`/`delete` rehash so often that booking a million
 * holders took minutes (quadratic: 100,000 → 3.5 s, 400,000 → 58 s). Here an
 * id keeps its index entry forever (−1 while it holds nothing; bounded by the
 * accounts that ever held, i.e. by the state) and the members live in an
 * array with swap-remove.
 *
 * Iteration order is the array's (insertion order, changed by removals):
 * every consumer that needs an order sorts (see `holdersOf`).
 */
export class HolderSet implements Iterable<string> {
  private readonly members: string[] = [];
  private readonly slot = new Map<string, number>();

  static of(ids: Iterable<string>): HolderSet {
    const set = new HolderSet();
    for (const id of ids) set.add(id);
    return set;
  }

  get size(): number {
    return this.members.length;
  }

  has(id: string): boolean {
    return (this.slot.get(id) ?? -1) >= 0;
  }

  add(id: string): this {
    if ((this.slot.get(id) ?? -1) < 0) {
      this.slot.set(id, this.members.length);
      this.members.push(id);
    }
    return this;
  }

  delete(id: string): boolean {
    const at = this.slot.get(id) ?? -1;
    if (at < 0) return false;
    const last = this.members.pop()!;
    if (last !== id) {
      this.members[at] = last;
      this.slot.set(last, at);
    }
    this.slot.set(id, -1);
    return true;
  }

  [Symbol.iterator](): Iterator<string> {
    return this.members[Symbol.iterator]();
  }

  /** The members as a new array (a snapshot carries them as such). */
  toArray(): string[] {
    return [...this.members];
  }
}
