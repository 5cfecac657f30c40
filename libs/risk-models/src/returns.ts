/**
 * Returns from a price series, and a fixed-capacity return history.
 *
 * Conventions (see README §1):
 * - a price series is in chronological order, oldest first, every price a
 *   finite number > 0; the caller converts ledger prices with `toNumber`;
 * - `simple` (the default): r_t = P_t / P_{t−1} − 1, so that a position worth
 *   V at t−1 gains exactly V × r_t: the portfolio P&L is linear in simple returns;
 * - `log`: r_t = ln(P_t / P_{t−1});
 * - the return series of n prices has n − 1 entries, r[i] from prices[i] to prices[i+1].
 */

export type ReturnKind = 'simple' | 'log';

function assertPrice(price: number, index: number): void {
  if (!Number.isFinite(price) || price <= 0) {
    throw new RangeError(`price #${index} is ${price}: prices must be finite and > 0`);
  }
}

function assertPositiveInteger(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be an integer >= 1, got ${value}`);
}

/** The return from `from` to `to`: `to / from − 1` (simple) or `ln(to / from)` (log). */
export function returnBetween(from: number, to: number, kind: ReturnKind = 'simple'): number {
  return kind === 'simple' ? to / from - 1 : Math.log(to / from);
}

/** One-step returns of a chronological price series: n prices → n − 1 returns. */
export function returnsFromPrices(prices: readonly number[], kind: ReturnKind = 'simple'): number[] {
  prices.forEach(assertPrice);
  const out: number[] = [];
  for (let i = 1; i < prices.length; i++) out.push(returnBetween(prices[i - 1]!, prices[i]!, kind));
  return out;
}

export interface HorizonReturnOptions {
  /** true (default): one window ending at every price; false: disjoint windows. */
  overlapping?: boolean;
  kind?: ReturnKind;
}

/**
 * h-step returns P_t / P_{t−h} − 1 (or ln(P_t / P_{t−h})), chronological.
 *
 * - overlapping (default): one window ending at every t = h … n−1, so n prices
 *   give n − h returns; consecutive windows share h − 1 steps (they are
 *   autocorrelated: n − h scenarios are not n − h independent draws).
 * - non-overlapping: windows end at t = n−1, n−1−h, n−1−2h, … ≥ h, i.e. they are
 *   anchored at the latest price so the most recent window is always included;
 *   ⌊(n−1)/h⌋ returns, the oldest prices left over when h does not divide n − 1.
 *
 * Fewer than h + 1 prices give no return.
 */
export function horizonReturns(prices: readonly number[], horizonSteps: number, options: HorizonReturnOptions = {}): number[] {
  assertPositiveInteger(horizonSteps, 'horizonSteps');
  prices.forEach(assertPrice);
  const { overlapping = true, kind = 'simple' } = options;
  const last = prices.length - 1;
  if (overlapping) {
    const out: number[] = [];
    for (let t = horizonSteps; t <= last; t++) out.push(returnBetween(prices[t - horizonSteps]!, prices[t]!, kind));
    return out;
  }
  const newestFirst: number[] = [];
  for (let t = last; t - horizonSteps >= 0; t -= horizonSteps) newestFirst.push(returnBetween(prices[t - horizonSteps]!, prices[t]!, kind));
  return newestFirst.reverse();
}

/**
 * h-step returns built from one-step returns by compounding windows of h
 * consecutive returns: Π(1 + r_j) − 1 for simple returns, Σ r_j for log returns.
 * Same window layout as {@link horizonReturns} (n returns → n − h + 1 overlapping
 * windows, or ⌊n/h⌋ disjoint windows anchored at the newest return). For
 * returns computed from prices the result equals `horizonReturns` of those
 * prices up to float rounding.
 */
export function compoundReturns(returns: readonly number[], horizonSteps: number, options: HorizonReturnOptions = {}): number[] {
  assertPositiveInteger(horizonSteps, 'horizonSteps');
  const { overlapping = true, kind = 'simple' } = options;
  const window = (end: number): number => {
    let acc = kind === 'simple' ? 1 : 0;
    for (let j = end - horizonSteps + 1; j <= end; j++) acc = kind === 'simple' ? acc * (1 + returns[j]!) : acc + returns[j]!;
    return kind === 'simple' ? acc - 1 : acc;
  };
  const last = returns.length - 1;
  if (overlapping) {
    const out: number[] = [];
    for (let end = horizonSteps - 1; end <= last; end++) out.push(window(end));
    return out;
  }
  const newestFirst: number[] = [];
  for (let end = last; end - horizonSteps + 1 >= 0; end -= horizonSteps) newestFirst.push(window(end));
  return newestFirst.reverse();
}

/** The plain-data form of a {@link ReturnHistory}: returns oldest first. */
export interface ReturnHistorySnapshot {
  capacity: number;
  kind: ReturnKind;
  /** The last price pushed, or null before the first push. */
  lastPrice: number | null;
  /** At most `capacity` returns, oldest first. */
  returns: number[];
}

/**
 * The last N one-step returns of one price series, in a fixed-capacity ring
 * buffer. `push(price)` appends the return from the previous price (the first
 * price only sets the anchor) and drops the oldest return once N are held.
 *
 * Snapshot-friendly: `toJSON()` gives plain data with the returns in
 * chronological order, independent of where the ring's head happens to be, so
 * two histories fed the same prices serialize identically; `ReturnHistory.from`
 * restores one. Feeding a restored history the remaining prices gives the same
 * state as feeding the original all of them.
 */
export class ReturnHistory {
  private readonly ring: number[];
  private head = 0; // index of the oldest return
  private size = 0;
  private last: number | null = null;

  constructor(
    readonly capacity: number,
    readonly kind: ReturnKind = 'simple',
  ) {
    assertPositiveInteger(capacity, 'capacity');
    this.ring = new Array<number>(capacity).fill(0);
  }

  static from(snapshot: ReturnHistorySnapshot): ReturnHistory {
    const history = new ReturnHistory(snapshot.capacity, snapshot.kind);
    if (snapshot.returns.length > snapshot.capacity) {
      throw new RangeError(`snapshot holds ${snapshot.returns.length} returns, capacity is ${snapshot.capacity}`);
    }
    if (snapshot.lastPrice !== null) assertPrice(snapshot.lastPrice, 0);
    else if (snapshot.returns.length > 0) throw new RangeError('a snapshot with returns must have a lastPrice');
    snapshot.returns.forEach((r, i) => {
      if (!Number.isFinite(r)) throw new RangeError(`snapshot return #${i} is ${r}`);
      history.append(r);
    });
    history.last = snapshot.lastPrice;
    return history;
  }

  /** Records a new price; returns the one-step return it made, or null for the first price. */
  push(price: number): number | null {
    assertPrice(price, 0);
    const previous = this.last;
    this.last = price;
    if (previous === null) return null;
    const r = returnBetween(previous, price, this.kind);
    this.append(r);
    return r;
  }

  /** Number of returns held (≤ capacity). */
  get length(): number {
    return this.size;
  }

  get lastPrice(): number | null {
    return this.last;
  }

  get isFull(): boolean {
    return this.size === this.capacity;
  }

  /** The held returns, oldest first (a fresh array). */
  returns(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.ring[(this.head + i) % this.capacity]!);
    return out;
  }

  toJSON(): ReturnHistorySnapshot {
    return { capacity: this.capacity, kind: this.kind, lastPrice: this.last, returns: this.returns() };
  }

  private append(r: number): void {
    if (this.size < this.capacity) {
      this.ring[(this.head + this.size) % this.capacity] = r;
      this.size++;
    } else {
      this.ring[this.head] = r;
      this.head = (this.head + 1) % this.capacity;
    }
  }
}
