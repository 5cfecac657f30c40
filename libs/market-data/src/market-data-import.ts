import { controlCharacterProblem, decodeEvent, formatTimestamp, InputError, MAX_ID_LENGTH, type InputEvent } from '@clearsim/events';
import { DECIMALS, DecimalFormatError, MAX_INTEGER_DIGITS, parseFixed } from '@clearsim/money';
import { streamFor, type SplitMix64 } from '@clearsim/scenario';
import { barPath, compareDecimals, type BarOrder } from './bar-path';
import { epochMillis, type TimeFormat } from './epoch';
import { LAYOUTS, type Column, type Layout, type LayoutName } from './layouts';
import { TradeMarks, type MarkOf } from './trade-marks';

export interface ImportOptions {
  layout: LayoutName;
  /** The clearsim instrument the marks or funding rates are for (e.g. BTC-PERP). */
  instrument: string;
  /** Bars: which extreme first (bar-path.ts). */
  barOrder?: BarOrder;
  /** Trades (and `csv` with it given): one mark per this many milliseconds. Default 1,000 for trades; `csv` rows are marks as they are without it. */
  interval?: number;
  /** Trades: the interval's last price or its VWAP. */
  markOf?: MarkOf;
  timeFormat?: TimeFormat;
  /** `csv`: the columns, by header name or 1-based position. */
  timeColumn?: string;
  priceColumn?: string;
  qtyColumn?: string;
  /** Trades: also emit each trade as a TradeExecuted between a population account and a market maker. */
  trades?: TradeAssignment;
}

/**
 * Who trades an imported trade (docs/import.md): the taker is one of
 * `accounts`, drawn uniformly for each trade from the seeded stream
 * `import-trades` of `seed` (the same file and seed give the same
 * assignment); the maker is `marketMaker`. The taker's side is the file's
 * (Binance's is_buyer_maker, Bybit's and OKX's side); a file without one
 * (csv) draws it from the same stream, after the account.
 */
export interface TradeAssignment {
  accounts: readonly string[];
  marketMaker: string;
  seed: bigint;
  /** Each trade's id is `<tradeIdPrefix>:<line>` (the file's name, say: ids stay unique across files). */
  tradeIdPrefix: string;
}

/** A row that was not imported: its line in the file and why. */
export interface RowProblem {
  line: number;
  field?: string;
  message: string;
}

export interface ImportStats {
  rows: number;
  header: boolean;
  imported: number;
  events: number;
  firstTime?: number;
  lastTime?: number;
  /** Bars: consecutive bars farther apart than one bar length. */
  gaps: number;
  longestGap: number;
  /** TradeExecuted written (with `trades`). */
  trades: number;
}

type Field = 'time' | 'closeTime' | 'open' | 'high' | 'low' | 'close' | 'price' | 'qty' | 'rate' | 'side';

const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * Rows of an exchange file → clearsim input events (PriceUpdated marks, or
 * FundingRateApplied), one row at a time so a file of any length streams
 * through in constant memory. A row that cannot be imported (a missing or
 * non-numeric cell, a time that goes back, a duplicate bar) is skipped and
 * recorded with its line; the caller decides whether any problem refuses the
 * file (`--strict`). Pure: the CLI reads the file and writes the events.
 */
/**
 * The bad rows an import keeps (the first ones, in file order): what the CLI lists. Every one is counted
 * (problemCount), but a file of millions of bad rows — or an endless one, /dev/urandom — must not hold a message,
 * which quotes the cell, for each of them: memory stays bounded by the rows kept, not by the file.
 */
export const KEPT_PROBLEMS = 10;

export class MarketDataImport {
  /** The first KEPT_PROBLEMS rows that were not imported. */
  readonly problems: RowProblem[] = [];
  /** How many rows were not imported, all of them. */
  problemCount = 0;
  readonly stats: ImportStats = { rows: 0, header: false, imported: 0, events: 0, gaps: 0, longestGap: 0, trades: 0 };
  private readonly layout: Layout;
  private readonly columns: Partial<Record<Field, number>> = {};
  private readonly marks: TradeMarks | undefined;
  private lastTime: number | undefined;
  private lastBarLength: number | undefined;
  private lastPrice: string | undefined;
  private readonly tradeRng: SplitMix64 | undefined;
  /** Whether the first row (a header, or the first data row) has placed the columns. */
  private columnsPlaced = false;

  constructor(private readonly options: ImportOptions) {
    this.layout = LAYOUTS[options.layout];
    // the ids go into every event: an id the log refuses would fail the first event written, not a row, so it is refused here, before any row
    checkId('--instrument', options.instrument);
    if (options.trades) {
      checkId('--market-maker', options.trades.marketMaker);
      for (const account of options.trades.accounts) checkId('--trade-accounts', account);
      if (this.layout.kind !== 'trade' && !(this.layout.kind === 'price' && options.qtyColumn)) {
        throw new ImportUsageError(`trades as TradeExecuted need a file of trades (a trades layout, or csv with --qty-col), not ${this.layout.name}`);
      }
      if (options.trades.accounts.length === 0) throw new ImportUsageError('trades as TradeExecuted need at least one population account');
      if (options.trades.accounts.includes(options.trades.marketMaker)) throw new ImportUsageError(`the market maker "${options.trades.marketMaker}" is also a population account`);
      this.tradeRng = streamFor(options.trades.seed, 'import-trades');
    }
    if (this.layout.kind === 'trade' || (this.layout.kind === 'price' && options.interval !== undefined)) {
      this.marks = new TradeMarks(options.interval ?? 1000, options.markOf ?? 'last');
    }
    if (this.layout.name === 'csv') {
      if (!options.timeColumn || !options.priceColumn) throw new ImportUsageError('the csv layout needs --time-col and --price-col');
      if (options.markOf === 'vwap' && !options.qtyColumn) throw new ImportUsageError('--mark vwap needs --qty-col');
    }
  }

  /** One row's cells (line: its 1-based line in the file). Returns the events it completes. */
  row(cells: readonly string[], line: number): InputEvent[] {
    this.stats.rows++;
    const breaks = lineBreaks(cells);
    if (breaks > 0) {
      // a quoted cell may hold line breaks in CSV, but no cell of these files does: a stray quote opened a cell that a
      // later quote happened to close, and the row took in the lines between (named from the line it began on)
      return this.problem(line - breaks, undefined, `a quoted cell runs on over ${breaks + 1} lines, to line ${line} (no cell of these files spans lines: a stray quote?)`);
    }
    if (!this.columnsPlaced) {
      this.columnsPlaced = true;
      const header = this.isHeader(cells);
      this.resolveColumns(header ? cells : undefined);
      if (header) {
        this.stats.header = true;
        return [];
      }
    }
    const time = this.cell(cells, 'time', line);
    if (time === undefined) return [];
    const ms = epochMillis(time, this.options.timeFormat);
    if (typeof ms === 'string') return this.problem(line, 'time', ms);
    if (this.lastTime !== undefined && ms < this.lastTime) {
      return this.problem(line, 'time', `${formatTimestamp(ms)} is before the previous row's ${formatTimestamp(this.lastTime)} (rows must be in time order)`);
    }
    const events = this.layout.kind === 'bar' ? this.bar(cells, ms, line) : this.layout.kind === 'funding' ? this.funding(cells, ms, line) : this.point(cells, ms, line);
    return events;
  }

  /** The events still pending at the end of the file (the last interval's mark). */
  finish(): InputEvent[] {
    const last = this.marks?.flush();
    return last ? this.emit([{ time: last.time, price: last.price }], 0) : [];
  }

  private bar(cells: readonly string[], time: number, line: number): InputEvent[] {
    const values = this.decimals(cells, ['open', 'high', 'low', 'close'], line);
    if (!values) return [];
    const [open, high, low, close] = values;
    if (compareDecimals(low, open) > 0 || compareDecimals(low, close) > 0 || compareDecimals(high, open) < 0 || compareDecimals(high, close) < 0) {
      return this.problem(line, 'high', `not a bar: low ${low} and high ${high} must enclose open ${open} and close ${close}`);
    }
    if (this.lastTime !== undefined && time === this.lastTime) return this.problem(line, 'time', `a second bar opening at ${formatTimestamp(time)} (duplicate row)`);
    let length: number | undefined;
    const closeText = this.columns.closeTime !== undefined ? cells[this.columns.closeTime]?.trim() : undefined;
    if (closeText) {
      const closeMs = epochMillis(closeText, this.options.timeFormat);
      if (typeof closeMs === 'string') return this.problem(line, 'closeTime', closeMs);
      length = closeMs - time + 1;
      if (length < 4) return this.problem(line, 'closeTime', `the bar closes ${length - 1} ms after it opens (at least 3 ms: the path has four instants)`);
    } else {
      length = this.lastBarLength ?? 60_000;
    }
    if (this.lastTime !== undefined && this.lastBarLength !== undefined && time - this.lastTime > this.lastBarLength) {
      this.stats.gaps++;
      this.stats.longestGap = Math.max(this.stats.longestGap, time - this.lastTime - this.lastBarLength);
    }
    this.lastTime = time;
    this.lastBarLength = length;
    return this.emit(barPath({ time, length, open, high, low, close }, this.options.barOrder ?? 'nearest'), 1);
  }

  private funding(cells: readonly string[], time: number, line: number): InputEvent[] {
    const rate = this.cell(cells, 'rate', line);
    if (rate === undefined) return [];
    if (!PLAIN_DECIMAL.test(rate)) return this.problem(line, 'rate', `"${rate}" is not a decimal`);
    // a funding time is paid once: a repeated row (files concatenated, a download appended twice) would be a second
    // FundingRateApplied at the same instant, and the replay would charge every position twice
    if (this.lastTime !== undefined && time === this.lastTime) return this.problem(line, 'time', `a second funding rate at ${formatTimestamp(time)} (duplicate row)`);
    this.lastTime = time;
    return this.validated(line, { type: 'FundingRateApplied', ts: formatTimestamp(time), instrument: this.options.instrument, rate }, 1);
  }

  private point(cells: readonly string[], time: number, line: number): InputEvent[] {
    const fields: Field[] = this.options.markOf === 'vwap' || this.options.trades || (this.layout.kind === 'trade' && this.columns.qty !== undefined) ? ['price', 'qty'] : ['price'];
    const values = this.decimals(cells, fields, line);
    if (!values) return [];
    let takerBuys: boolean | undefined;
    if (this.options.trades) {
      if (/^0+(\.0+)?$/.test(values[1]!)) return this.problem(line, 'qty', 'a trade of 0 cannot be booked (TradeExecuted needs qty > 0)');
      if (this.layout.sideKind) {
        takerBuys = this.takerBuys(cells, line);
        if (takerBuys === undefined) return [];
      }
    }
    this.lastTime = time;
    if (!this.marks) return [...this.emit([{ time, price: values[0] }], 1), ...this.trade(time, values[0], values[1], takerBuys, line)];
    const closed = this.marks.push(time, values[0], values[1] ?? '0');
    this.stats.imported++;
    return [...(closed ? this.emit([closed], 0) : []), ...this.trade(time, values[0], values[1], takerBuys, line)];
  }

  /** The taker's side from the row's side cell; undefined (a problem recorded) when the cell says neither. */
  private takerBuys(cells: readonly string[], line: number): boolean | undefined {
    const text = this.cell(cells, 'side', line)?.toLowerCase();
    if (text === undefined) return undefined;
    if (this.layout.sideKind === 'buyer-maker') {
      // the buyer rested on the book: the taker sold
      if (text === 'true') return false;
      if (text === 'false') return true;
      this.problem(line, 'side', `is_buyer_maker "${text}" is not true or false`);
      return undefined;
    }
    if (text === 'buy') return true;
    if (text === 'sell') return false;
    this.problem(line, 'side', `side "${text}" is not buy or sell`);
    return undefined;
  }

  /** The row as a TradeExecuted (with `trades`): a drawn population account takes, the market maker makes. */
  private trade(time: number, price: string, qty: string | undefined, takerBuys: boolean | undefined, line: number): InputEvent[] {
    const assignment = this.options.trades;
    if (!assignment || qty === undefined) return [];
    const rng = this.tradeRng!;
    const taker = assignment.accounts[Number(rng.uniformBigInt(0n, BigInt(assignment.accounts.length - 1)))]!;
    const buys = takerBuys ?? rng.uniformBigInt(0n, 1n) === 1n;
    const [buyer, seller] = buys ? [taker, assignment.marketMaker] : [assignment.marketMaker, taker];
    const event = decodeEvent(
      { type: 'TradeExecuted', ts: formatTimestamp(time), tradeId: `${assignment.tradeIdPrefix}:${line}`, instrument: this.options.instrument, buyer, seller, qty, price, buyerFee: '0', sellerFee: '0' },
      'input',
    ) as InputEvent;
    this.stats.trades++;
    this.note([event]);
    return [event];
  }

  private emit(points: { time: number; price: string }[], imported: number): InputEvent[] {
    this.stats.imported += imported;
    const events: InputEvent[] = [];
    for (const p of points) {
      // a mark equal to the one before it changes nothing (a bar's close and the next bar's open, mostly)
      if (this.lastPrice !== undefined && compareDecimals(p.price, this.lastPrice) === 0) continue;
      const event = decodeEvent({ type: 'PriceUpdated', ts: formatTimestamp(p.time), instrument: this.options.instrument, price: p.price }, 'input') as InputEvent;
      this.lastPrice = p.price;
      events.push(event);
    }
    this.note(events);
    return events;
  }

  private validated(line: number, raw: Record<string, unknown>, imported: number): InputEvent[] {
    try {
      const event = decodeEvent(raw, 'input') as InputEvent;
      this.stats.imported += imported;
      this.note([event]);
      return [event];
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      return this.problem(line, error.issues[0]?.field, error.issues.map((i) => i.message).join('; '));
    }
  }

  private note(events: InputEvent[]): void {
    if (events.length === 0) return;
    this.stats.events += events.length;
    this.stats.firstTime ??= events[0].ts;
    this.stats.lastTime = events[events.length - 1].ts;
  }

  private decimals(cells: readonly string[], fields: Field[], line: number): string[] | undefined {
    const values: string[] = [];
    for (const field of fields) {
      const text = this.cell(cells, field, line);
      if (text === undefined) return undefined;
      if (!PLAIN_DECIMAL.test(text) || text.startsWith('-')) {
        this.problem(line, field, `"${text}" is not a non-negative decimal`);
        return undefined;
      }
      const beyond = beyondLedger(text);
      if (beyond) {
        this.problem(line, field, beyond);
        return undefined;
      }
      if (field !== 'qty' && /^0+(\.0+)?$/.test(text)) {
        this.problem(line, field, 'a price must be greater than 0');
        return undefined;
      }
      values.push(normalise(text));
    }
    return values;
  }

  private cell(cells: readonly string[], field: Field, line: number): string | undefined {
    const index = this.columns[field];
    if (index === undefined) {
      this.problem(line, field, `no ${field} column`);
      return undefined;
    }
    const text = cells[index]?.trim();
    if (text === undefined || text === '') {
      this.problem(line, field, `the ${field} cell (column ${index + 1}) is empty or missing (the row has ${cells.length} cells)`);
      return undefined;
    }
    return text;
  }

  private problem(line: number, field: string | undefined, message: string): [] {
    this.problemCount++;
    if (this.problems.length < KEPT_PROBLEMS) this.problems.push({ line, field, message });
    return [];
  }

  private isHeader(cells: readonly string[]): boolean {
    // a header's time cell is a name, not a time
    const first = this.timeIndexGuess(cells);
    const cell = cells[first]?.trim() ?? '';
    return cell !== '' && !/^[\d.:TZ+-]+$/.test(cell);
  }

  private timeIndexGuess(cells: readonly string[]): number {
    if (this.layout.name === 'csv') {
      const named = cells.findIndex((c) => c.trim().toLowerCase() === this.options.timeColumn!.toLowerCase());
      if (named >= 0) return named;
      return positional(this.options.timeColumn!) ?? 0;
    }
    return this.layout.columns.time!.index;
  }

  /** Column positions from the header's names (a header), or the layout's positions (none). */
  private resolveColumns(header: readonly string[] | undefined): void {
    const names = header?.map((c) => c.trim().toLowerCase());
    for (const [field, column] of Object.entries(this.columnSpecs()) as [Field, Column][]) {
      const byName = names?.findIndex((n) => column.names.some((candidate) => candidate.toLowerCase() === n)) ?? -1;
      if (byName >= 0) this.columns[field] = byName;
      else if (this.layout.name !== 'csv') this.columns[field] = column.index;
      else {
        const index = positional(column.names[0]);
        if (index === undefined) {
          throw new ImportUsageError(
            header
              ? `no column named "${column.names[0]}" in the header (${header.join(', ')})`
              : `"${column.names[0]}" names a column, but the file has no header line: give the column's position (1, 2, …)`,
          );
        }
        this.columns[field] = index;
      }
    }
  }

  private columnSpecs(): Partial<Record<Field, Column>> {
    if (this.layout.name !== 'csv') return this.layout.columns;
    const o = this.options;
    const spec = (name: string): Column => ({ index: (positional(name) ?? 1) - 1, names: [name] });
    return { time: spec(o.timeColumn!), price: spec(o.priceColumn!), ...(o.qtyColumn ? { qty: spec(o.qtyColumn) } : {}) };
  }
}

/** Refuses an id the log would refuse (input-events.ts: 1 to MAX_ID_LENGTH characters, no control character), naming the option it came from. */
function checkId(option: string, id: string): void {
  if (id === '') throw new ImportUsageError(`${option}: must not be empty`);
  // before the length: that message quotes the id's start, which then holds no control character
  const control = controlCharacterProblem(id);
  if (control !== undefined) throw new ImportUsageError(`${option}: ${control}`);
  if (id.length > MAX_ID_LENGTH) throw new ImportUsageError(`${option}: "${id.slice(0, 32)}…" is ${id.length} characters long (an id has at most ${MAX_ID_LENGTH})`);
}

/** How many line breaks (\r\n, \r or \n, as csv-parse counts lines) the row's cells hold. */
function lineBreaks(cells: readonly string[]): number {
  let breaks = 0;
  for (const cell of cells) if (cell.includes('\n') || cell.includes('\r')) breaks += cell.match(/\r\n|\r|\n/g)!.length;
  return breaks;
}

/**
 * Why a plain non-negative decimal cannot be a price or quantity of the log
 * (more than 8 decimals, 30 digits or more before the point), or undefined.
 * The events' schema would refuse it when the row's event is written — the
 * whole import, not the row — so the row is refused first. The common case
 * (few enough digits either side) costs no parsing.
 */
function beyondLedger(text: string): string | undefined {
  const point = text.indexOf('.');
  const whole = point < 0 ? text.length : point;
  const decimals = point < 0 ? 0 : text.length - point - 1;
  if (whole <= MAX_INTEGER_DIGITS && decimals <= DECIMALS) return undefined;
  try {
    parseFixed(text); // leading and trailing zeros are not digits that count
    return undefined;
  } catch (error) {
    if (error instanceof DecimalFormatError) return error.reason;
    throw error;
  }
}

/** A 1-based column position given as text ("3"), as a 0-based index. */
function positional(text: string): number | undefined {
  return /^[1-9]\d{0,3}$/.test(text) ? Number(text) - 1 : undefined;
}

/** "7912.50000000" → "7912.5" (the log's canonical decimals). */
function normalise(text: string): string {
  if (!text.includes('.')) return text.replace(/^0+(?=\d)/, '');
  return text.replace(/^0+(?=\d)/, '').replace(/\.?0+$/, '');
}

/** A usage mistake in the import options (the CLI maps it to exit 2). */
export class ImportUsageError extends Error {}
