/**
 * The path a price takes inside an OHLC bar. A bar says only where the price
 * opened, how far it went each way, and where it closed; the saga must see
 * the low (a long's liquidation) and the high (a short's), so each bar
 * becomes four marks at documented instants:
 *
 *   open at the bar's open time t,
 *   the first extreme at t + ⌊I/3⌋, the second at t + ⌊2I/3⌋,
 *   close at t + I − 1 ms (Binance's close time),
 *
 * where I is the bar's length. Which extreme comes first:
 * - `nearest` (default): the one nearer the open (a tie: the low), the path
 *   of least travel — the usual assumption of bar-based backtests;
 * - `low-first`: adverse first for a long-heavy book (the low's liquidations
 *   happen before the high could rescue anyone);
 * - `high-first`: adverse first for a short-heavy book.
 * A mark equal to the one before it is left out (it changes nothing).
 */
export type BarOrder = 'nearest' | 'low-first' | 'high-first';
export const BAR_ORDERS: readonly BarOrder[] = ['nearest', 'low-first', 'high-first'];

export interface Bar {
  /** Open time, ms. */
  time: number;
  /** Length, ms (≥ 4 so the four instants differ). */
  length: number;
  open: string;
  high: string;
  low: string;
  close: string;
}

export interface PricePoint {
  time: number;
  price: string;
}

export function barPath(bar: Bar, order: BarOrder): PricePoint[] {
  const lowFirst = order === 'low-first' || (order === 'nearest' && !(distance(bar.open, bar.high) < distance(bar.open, bar.low)));
  const [first, second] = lowFirst ? [bar.low, bar.high] : [bar.high, bar.low];
  const points: PricePoint[] = [
    { time: bar.time, price: bar.open },
    { time: bar.time + Math.floor(bar.length / 3), price: first },
    { time: bar.time + Math.floor((2 * bar.length) / 3), price: second },
    { time: bar.time + bar.length - 1, price: bar.close },
  ];
  return points.filter((p, i) => i === 0 || compareDecimals(p.price, points[i - 1].price) !== 0);
}

/** |a − b| of two decimal strings, exactly (as a scaled bigint pair compared by the caller). */
function distance(a: string, b: string): bigint {
  const [x, y] = aligned(a, b);
  return x > y ? x - y : y - x;
}

/** Order of two non-negative plain decimals ("7912.50" = "7912.5"), by their digits: no bigint, no float (it runs per mark). */
export function compareDecimals(a: string, b: string): number {
  const ad = a.indexOf('.');
  const bd = b.indexOf('.');
  const ai = trimLeadingZeros(ad < 0 ? a : a.slice(0, ad));
  const bi = trimLeadingZeros(bd < 0 ? b : b.slice(0, bd));
  if (ai.length !== bi.length) return ai.length < bi.length ? -1 : 1;
  if (ai !== bi) return ai < bi ? -1 : 1;
  const af = ad < 0 ? '' : a.slice(ad + 1);
  const bf = bd < 0 ? '' : b.slice(bd + 1);
  const places = Math.max(af.length, bf.length);
  const x = af.padEnd(places, '0');
  const y = bf.padEnd(places, '0');
  return x === y ? 0 : x < y ? -1 : 1;
}

function trimLeadingZeros(digits: string): string {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 48) i++;
  return i === 0 ? digits : digits.slice(i);
}

/** Two plain decimals as bigints at a common scale. */
function aligned(a: string, b: string): [bigint, bigint] {
  const [ai, af = ''] = a.split('.');
  const [bi, bf = ''] = b.split('.');
  const places = Math.max(af.length, bf.length);
  return [BigInt(ai + af.padEnd(places, '0')), BigInt(bi + bf.padEnd(places, '0'))];
}
