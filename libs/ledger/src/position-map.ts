import type { Position } from './ledger.state';

const NO_POSITIONS: readonly Position[] = Object.freeze([]);

/**
 * An account's positions by instrument id, with the iteration order and the
 * operations of a `Map` (insertion order; replacing a key keeps its place).
 *
 * Why not a plain `Map`: most accounts of a venue hold one position, and an
 * empty `Map` with its hash table costs ~180 bytes before the first entry.
 * Here one position sits in a field of this object and the `Map` exists only
 * from the second position on (and is dropped again when the account is back
 * to one or none). The key of an entry is always its position's instrument.
 */
export class PositionMap implements Iterable<[string, Position]> {
  /** The only position, while there is at most one (`many` is then undefined). */
  private one: Position | undefined = undefined;
  /** Every position, from the second one on. */
  private many: Map<string, Position> | undefined = undefined;

  /** The positions in the order given (each under its instrument). */
  static of(positions: Iterable<Position>): PositionMap {
    const map = new PositionMap();
    for (const position of positions) map.set(position.instrument, position);
    return map;
  }

  get size(): number {
    return this.many ? this.many.size : this.one ? 1 : 0;
  }

  get(instrument: string): Position | undefined {
    if (this.many) return this.many.get(instrument);
    return this.one !== undefined && this.one.instrument === instrument ? this.one : undefined;
  }

  has(instrument: string): boolean {
    return this.get(instrument) !== undefined;
  }

  /** Adds (or replaces) the position of `instrument`; throws when the key is not the position's instrument. */
  set(instrument: string, position: Position): this {
    if (position.instrument !== instrument) throw new Error(`position of ${position.instrument} set under ${instrument}`);
    if (this.many) {
      this.many.set(instrument, position);
    } else if (this.one === undefined || this.one.instrument === instrument) {
      this.one = position;
    } else {
      this.many = new Map([
        [this.one.instrument, this.one],
        [instrument, position],
      ]);
      this.one = undefined;
    }
    return this;
  }

  delete(instrument: string): boolean {
    if (!this.many) {
      if (this.one === undefined || this.one.instrument !== instrument) return false;
      this.one = undefined;
      return true;
    }
    if (!this.many.delete(instrument)) return false;
    if (this.many.size <= 1) {
      // back to the inline slot: with one entry left there is no order to keep
      this.one = this.many.values().next().value;
      this.many = undefined;
    }
    return true;
  }

  values(): IterableIterator<Position> {
    if (this.many) return this.many.values();
    return (this.one ? [this.one] : NO_POSITIONS).values();
  }

  /** Appends the positions to `out`, in order, with no iterator or array made (values() makes both): for hot loops. */
  pushValuesInto(out: Position[]): void {
    if (this.many) {
      for (const position of this.many.values()) out.push(position);
    } else if (this.one !== undefined) {
      out.push(this.one);
    }
  }

  keys(): IterableIterator<string> {
    if (this.many) return this.many.keys();
    return (this.one ? [this.one.instrument] : []).values();
  }

  entries(): IterableIterator<[string, Position]> {
    if (this.many) return this.many.entries();
    return (this.one ? [[this.one.instrument, this.one] as [string, Position]] : []).values();
  }

  [Symbol.iterator](): IterableIterator<[string, Position]> {
    return this.entries();
  }

  forEach(callback: (position: Position, instrument: string) => void): void {
    for (const position of this.values()) callback(position, position.instrument);
  }
}
