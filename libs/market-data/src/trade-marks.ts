import { DECIMALS, divRound, formatFixed } from '@clearsim/money';
import type { PricePoint } from './bar-path';

/**
 * Trades → one mark per interval: the interval's last trade price (`last`)
 * or its volume-weighted average (`vwap` = Σ price·qty / Σ qty, rounded half
 * to even at 8 decimals, the ledger's scale), stamped at the interval's last
 * millisecond (start + interval − 1). An interval without trades gives no
 * mark (the price stays where it was, as on the venue).
 */
export type MarkOf = 'last' | 'vwap';

const SCALE = DECIMALS; // the ledger's

export class TradeMarks {
  private start: number | undefined;
  private last = '';
  private notional = 0n; // Σ price·qty at 2·SCALE decimals
  private volume = 0n; // Σ qty at SCALE decimals

  constructor(
    private readonly interval: number,
    private readonly markOf: MarkOf,
  ) {}

  /** Adds a trade (times never decrease: the caller refuses rows that go back); returns the mark of an interval it closed. */
  push(time: number, price: string, qty: string): PricePoint | undefined {
    const start = time - mod(time, this.interval);
    const closed = this.start !== undefined && start !== this.start ? this.flush() : undefined;
    this.start = start;
    this.last = price;
    if (this.markOf === 'vwap') {
      const q = scaled(qty);
      this.notional += scaled(price) * q;
      this.volume += q;
    }
    return closed;
  }

  /** The mark of the open interval, if it has trades. */
  flush(): PricePoint | undefined {
    if (this.start === undefined) return undefined;
    const time = this.start + this.interval - 1;
    let price = this.last;
    if (this.markOf === 'vwap' && this.volume > 0n) price = formatFixed(divRound(this.notional, this.volume, 'halfEven'));
    this.start = undefined;
    this.notional = 0n;
    this.volume = 0n;
    return { time, price };
  }
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** A plain non-negative decimal at SCALE decimals (digits beyond are truncated: quantities and prices of venues have fewer). */
function scaled(text: string): bigint {
  const [whole, fraction = ''] = text.split('.');
  return BigInt(whole + fraction.slice(0, SCALE).padEnd(SCALE, '0'));
}
