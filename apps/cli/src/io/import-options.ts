import { BAR_ORDERS, LAYOUT_NAMES, LAYOUTS, MAX_CSV_ROW_CHARACTERS, TIME_FORMATS, type BarOrder, type ImportOptions, type LayoutName, type MarkOf, type TimeFormat } from '@clearsim/market-data';
import { UsageError } from '../cli-error';

/**
 * The options of an import from an exchange's file, as `clearsim import` takes them as flags and a scenario's price
 * path as fields (io/imported-paths.ts): checked and turned into the importer's.
 */

export interface ImportCommandOptions {
  format: string;
  instrument: string;
  out?: string;
  barPath?: string;
  interval?: string;
  mark?: string;
  timeFormat?: string;
  timeCol?: string;
  priceCol?: string;
  qtyCol?: string;
  delimiter?: string;
  strict?: boolean;
  progress?: boolean;
  /** Trades as TradeExecuted: the takers, `id` or `prefix:count` entries, comma-separated (docs/import.md). */
  tradeAccounts?: string;
  marketMaker?: string;
  seed?: string;
}

/** `import`'s options (as flags, or a scenario's file path camelCased) → the importer's, refusing what does not apply. */
export function importOptionsOf(options: Omit<ImportCommandOptions, 'out' | 'strict' | 'progress' | 'delimiter'>): ImportOptions {
  if (!(LAYOUT_NAMES as string[]).includes(options.format)) throw new UsageError(`--format: "${options.format}" is not one of ${LAYOUT_NAMES.join(', ')}`);
  const layout = LAYOUTS[options.format as LayoutName];
  if (options.barPath !== undefined && !(BAR_ORDERS as string[]).includes(options.barPath)) throw new UsageError(`--bar-path: "${options.barPath}" is not one of ${BAR_ORDERS.join(', ')}`);
  if (options.mark !== undefined && options.mark !== 'last' && options.mark !== 'vwap') throw new UsageError(`--mark: "${options.mark}" is not last or vwap`);
  if (options.timeFormat !== undefined && !(TIME_FORMATS as string[]).includes(options.timeFormat)) throw new UsageError(`--time-format: "${options.timeFormat}" is not one of ${TIME_FORMATS.join(', ')}`);
  // given at all, even empty ("--qty-col ''" was silently no column): a flag that does not apply is refused, an empty one named
  if (layout.name !== 'csv' && (options.timeCol ?? options.priceCol ?? options.qtyCol) !== undefined) throw new UsageError(`--time-col, --price-col and --qty-col are for --format csv (${layout.name} has its own columns)`);
  for (const [flag, value] of [['--time-col', options.timeCol], ['--price-col', options.priceCol], ['--qty-col', options.qtyCol]] as const) {
    if (value !== undefined && value.trim() === '') throw new UsageError(`${flag}: must not be empty (a header name, or a 1-based position)`);
  }
  if (layout.kind === 'bar' && (options.interval ?? options.mark) !== undefined) throw new UsageError(`--interval and --mark are for trades (${layout.name} gives bars: see --bar-path)`);
  return {
    layout: layout.name,
    instrument: options.instrument,
    barOrder: options.barPath as BarOrder | undefined,
    interval: options.interval === undefined ? undefined : intervalOf(options.interval),
    markOf: options.mark as MarkOf | undefined,
    timeFormat: options.timeFormat as TimeFormat | undefined,
    timeColumn: options.timeCol,
    priceColumn: options.priceCol,
    qtyColumn: options.qtyCol,
  };
}

/**
 * How every exchange file is read: ragged rows allowed (the importer names a missing cell), blank lines skipped, a
 * BOM dropped, each record with its line. A quote inside an unquoted cell (`79"12.50`) or after a closing one
 * (`"7912.50"x`) is kept as a character of the cell (relax_quotes), so the importer refuses that row as it would
 * any bad cell, instead of csv-parse failing the whole file. A quote that opens a cell and is never closed cannot
 * be skipped row by row: csv-parse fails at the end of the file, or at a row longer than MAX_CSV_ROW_CHARACTERS
 * (rather than reading the rest of the file into one cell); CsvPosition names the line where that quote opened.
 */
export function csvOptions(delimiter: string | undefined) {
  return { delimiter: delimiterOf(delimiter), relax_column_count: true, relax_quotes: true, max_record_size: MAX_CSV_ROW_CHARACTERS, skip_empty_lines: true, info: true, bom: true } as const;
}

export function delimiterOf(text: string | undefined): string {
  if (text === undefined) return ',';
  const value = text === '\\t' || text === 'tab' ? '\t' : text;
  if (value.length !== 1) throw new UsageError(`--delimiter: "${text}" is not one character (or tab)`);
  // the quote and the line breaks already mean something to the reader: as the separator every row would be one cell
  if (value === '"' || value === '\n' || value === '\r') throw new UsageError(`--delimiter: ${JSON.stringify(value)} cannot separate columns (it quotes cells or ends rows)`);
  return value;
}

/** "250ms", "1s", "5m", "1h" → milliseconds. */
export function intervalOf(text: string): number {
  const match = /^([1-9]\d{0,8})(ms|s|m|h)$/.exec(text);
  if (!match) throw new UsageError(`--interval: "${text}" is not a duration like 250ms, 1s, 5m or 1h`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
}
