/**
 * The file layouts `clearsim import` reads. Each names its columns twice: by
 * position (for files without a header line, as Binance's spot archives are)
 * and by the header names the venue writes (Binance's futures archives since
 * 2022, Bybit's and OKX's files), matched case-insensitively, so either form of
 * a file reads the same.
 */
export type LayoutName = 'binance-klines' | 'binance-mark-klines' | 'binance-aggtrades' | 'binance-trades' | 'binance-funding' | 'bybit-trades' | 'okx-trades' | 'csv';

/** What a row is: an OHLC bar, one trade, one funding rate, or one price point. */
export type RowKind = 'bar' | 'trade' | 'funding' | 'price';

export interface Column {
  /** 0-based position when the file has no header. */
  index: number;
  /** Header names that denote it. */
  names: readonly string[];
}

export interface Layout {
  name: LayoutName;
  kind: RowKind;
  description: string;
  columns: Partial<Record<'time' | 'closeTime' | 'open' | 'high' | 'low' | 'close' | 'price' | 'qty' | 'rate' | 'side', Column>>;
  /**
   * Trades: what the `side` column says — `buyer-maker` (Binance's
   * is_buyer_maker: true when the buyer was the resting order, so the taker
   * sold) or `taker-side` (Bybit's and OKX's side: the taker's, buy or sell).
   */
  sideKind?: 'buyer-maker' | 'taker-side';
}

const col = (index: number, ...names: string[]): Column => ({ index, names });

// Binance (data.binance.vision): klines and mark-price klines share one layout:
// open_time, open, high, low, close, volume, close_time, quote_volume, count,
// taker_buy_volume, taker_buy_quote_volume, ignore.
const klineColumns = {
  time: col(0, 'open_time', 'open time'),
  open: col(1, 'open'),
  high: col(2, 'high'),
  low: col(3, 'low'),
  close: col(4, 'close'),
  closeTime: col(6, 'close_time', 'close time'),
};

export const LAYOUTS: Record<LayoutName, Layout> = {
  'binance-klines': { name: 'binance-klines', kind: 'bar', description: 'Binance USDⓈ-M / COIN-M / spot klines (12 columns, open time first)', columns: klineColumns },
  'binance-mark-klines': { name: 'binance-mark-klines', kind: 'bar', description: 'Binance mark-price (or index-price) klines, the klines layout', columns: klineColumns },
  'binance-aggtrades': {
    name: 'binance-aggtrades',
    kind: 'trade',
    description: 'Binance aggTrades: agg_trade_id, price, quantity, first_trade_id, last_trade_id, transact_time, is_buyer_maker[, is_best_match]',
    columns: { price: col(1, 'price'), qty: col(2, 'quantity', 'qty'), time: col(5, 'transact_time', 'timestamp', 'time'), side: col(6, 'is_buyer_maker') },
    sideKind: 'buyer-maker',
  },
  'binance-trades': {
    name: 'binance-trades',
    kind: 'trade',
    description: 'Binance trades: id, price, qty, quote_qty, time, is_buyer_maker[, is_best_match]',
    columns: { price: col(1, 'price'), qty: col(2, 'qty', 'quantity'), time: col(4, 'time'), side: col(5, 'is_buyer_maker') },
    sideKind: 'buyer-maker',
  },
  'binance-funding': {
    name: 'binance-funding',
    kind: 'funding',
    description: 'Binance funding rate history: calc_time, funding_interval_hours, last_funding_rate',
    columns: { time: col(0, 'calc_time', 'funding_time', 'fundingtime'), rate: col(2, 'last_funding_rate', 'funding_rate', 'fundingrate') },
  },
  'bybit-trades': {
    name: 'bybit-trades',
    kind: 'trade',
    description: 'Bybit public trading files: timestamp (seconds, with a fraction), symbol, side, size, price, tickDirection, trdMatchID, …',
    columns: { time: col(0, 'timestamp'), qty: col(3, 'size'), price: col(4, 'price'), side: col(2, 'side') },
    sideKind: 'taker-side',
  },
  'okx-trades': {
    name: 'okx-trades',
    kind: 'trade',
    description: 'OKX historical trades (with their header): instrument_name, trade_id, side, price, size, created_time (ms)',
    columns: { price: col(3, 'price'), qty: col(4, 'size', 'sz'), time: col(5, 'created_time', 'ts'), side: col(2, 'side') },
    sideKind: 'taker-side',
  },
  csv: { name: 'csv', kind: 'price', description: 'any CSV: name its time and price columns with --time-col and --price-col', columns: {} },
};

export const LAYOUT_NAMES = Object.keys(LAYOUTS) as LayoutName[];
