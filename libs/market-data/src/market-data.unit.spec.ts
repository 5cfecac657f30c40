import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { encodeEvent, type InputEvent } from '@clearsim/events';
import { barPath, compareDecimals } from './bar-path';
import { CsvPosition, MAX_CSV_ROW_CHARACTERS, isCsvParseError } from './csv-position';
import { epochMillis } from './epoch';
import { KEPT_PROBLEMS, MarketDataImport } from './market-data-import';
import { TradeMarks } from './trade-marks';

const lines = (events: InputEvent[]) => events.map((e) => JSON.parse(encodeEvent(e)) as Record<string, unknown>);

describe('epochMillis: the unit of an epoch from its size', () => {
  it('reads seconds (with a fraction), milliseconds, microseconds, nanoseconds and ISO text as the same instant', () => {
    // 2020-03-12T10:00:00.123Z = 1,584,007,200,123 ms
    expect(epochMillis('1584007200.123')).toBe(1584007200123);
    expect(epochMillis('1584007200.1239')).toBe(1584007200123); // sub-ms truncated
    expect(epochMillis('1584007200123')).toBe(1584007200123);
    expect(epochMillis('1584007200123456')).toBe(1584007200123);
    expect(epochMillis('1584007200123456789')).toBe(1584007200123);
    expect(epochMillis('2020-03-12T10:00:00.123Z')).toBe(1584007200123);
    expect(epochMillis('1584007200', 'ms')).toBe(1584007200); // an explicit unit wins over the size
  });

  it('says why a cell is not a time', () => {
    expect(epochMillis('12:00')).toMatch(/not an epoch time/);
    expect(epochMillis('2020-02-30T00:00:00Z')).toMatch(/not an ISO-8601 UTC time/);
    expect(epochMillis('')).toMatch(/not an epoch time/);
  });
});

describe('barPath: four instants per bar', () => {
  // a 1-minute bar at t = 0: open 100, high 104, low 99, close 103; the low (1 away) is nearer the open than the high (4)
  const bar = { time: 0, length: 60_000, open: '100', high: '104', low: '99', close: '103' };

  it('nearest: open at t, the nearer extreme at t + 20 s, the farther at t + 40 s, close at t + 59.999 s', () => {
    expect(barPath(bar, 'nearest')).toEqual([
      { time: 0, price: '100' },
      { time: 20_000, price: '99' },
      { time: 40_000, price: '104' },
      { time: 59_999, price: '103' },
    ]);
  });

  it('high-first puts the high first whatever the open; a tie of distances under nearest takes the low first', () => {
    expect(barPath(bar, 'high-first').map((p) => p.price)).toEqual(['100', '104', '99', '103']);
    expect(barPath({ ...bar, high: '101', low: '99' }, 'nearest').map((p) => p.price)).toEqual(['100', '99', '101', '103']);
  });

  it('a mark equal to the one before is left out (a bar that opens at its high)', () => {
    expect(barPath({ ...bar, open: '104' }, 'high-first').map((p) => p.price)).toEqual(['104', '99', '103']);
  });

  it('property: the path starts at the open, ends at the close, and touches both extremes, in time order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 4, maxLength: 4 }), fc.constantFrom('nearest', 'low-first', 'high-first' as const), (values, order) => {
        const [open, close, a, b] = values;
        const high = Math.max(open, close, a, b);
        const low = Math.min(open, close, a, b);
        const path = barPath({ time: 1000, length: 60_000, open: String(open), high: String(high), low: String(low), close: String(close) }, order);
        expect(path[0]).toEqual({ time: 1000, price: String(open) });
        const prices = path.map((p) => Number(p.price));
        expect(prices).toContain(high);
        expect(prices).toContain(low);
        expect(prices[prices.length - 1]).toBe(close === prices[prices.length - 2] && path.length < 4 ? prices[prices.length - 1] : close);
        for (let i = 1; i < path.length; i++) expect(path[i].time).toBeGreaterThan(path[i - 1].time);
      }),
    );
  });
});

describe('TradeMarks: one mark per interval', () => {
  it('vwap: Σ price·qty / Σ qty, half to even at 8 decimals, stamped at the interval end', () => {
    // 1-second interval from 0: 7,900 × 1 + 7,910 × 3 + 7,890 × 2 = 47,410 over 6 → 7,901.666666666… → 7901.66666667
    const marks = new TradeMarks(1000, 'vwap');
    expect(marks.push(100, '7900', '1')).toBeUndefined();
    expect(marks.push(500, '7910', '3')).toBeUndefined();
    expect(marks.push(999, '7890', '2')).toBeUndefined();
    expect(marks.push(1500, '7000', '1')).toEqual({ time: 999, price: '7901.66666667' });
    expect(marks.flush()).toEqual({ time: 1999, price: '7000' });
  });

  it('last: the interval’s last trade; an empty interval gives no mark', () => {
    const marks = new TradeMarks(1000, 'last');
    marks.push(100, '10', '1');
    marks.push(900, '11', '1');
    expect(marks.push(3100, '12', '1')).toEqual({ time: 999, price: '11' }); // 1 s – 3 s had no trade: no mark for them
    expect(marks.flush()).toEqual({ time: 3999, price: '12' });
  });
});

describe('MarketDataImport', () => {
  it('Binance klines with a header: a path per bar, the duplicate and the bad row reported by line, the gap counted', () => {
    const machine = new MarketDataImport({ layout: 'binance-klines', instrument: 'BTC-PERP' });
    const rows = [
      'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore',
      '1584007200000,7912.50,7930.00,7850.10,7860.00,1,1584007259999,1,1,1,1,0',
      '1584007200000,7912.50,7930.00,7850.10,7860.00,1,1584007259999,1,1,1,1,0',
      '1584007260000,7860.00,7861.00,7900.00,7860.00,1,1584007319999,1,1,1,1,0',
      '1584007380000,7860.00,7870.00,7800.00,7810.00,1,1584007439999,1,1,1,1,0',
    ];
    const events = rows.flatMap((row, i) => machine.row(row.split(','), i + 1));
    expect(machine.problems).toEqual([
      { line: 3, field: 'time', message: 'a second bar opening at 2020-03-12T10:00:00Z (duplicate row)' },
      { line: 4, field: 'high', message: 'not a bar: low 7900 and high 7861 must enclose open 7860 and close 7860' },
    ]);
    // bar 1: open 7912.5; high 17.5 away, low 62.4 away → high first; the last bar opens at 10:03, two minutes after the first one ended
    // (the refused 10:01 bar and a missing 10:02: one gap of 120 s); its open 7860 equals the last mark, so it is not repeated
    expect(lines(events).map((e) => [e.ts, e.price])).toEqual([
      ['2020-03-12T10:00:00Z', '7912.5'],
      ['2020-03-12T10:00:20Z', '7930'],
      ['2020-03-12T10:00:40Z', '7850.1'],
      ['2020-03-12T10:00:59.999Z', '7860'],
      ['2020-03-12T10:03:20Z', '7870'],
      ['2020-03-12T10:03:40Z', '7800'],
      ['2020-03-12T10:03:59.999Z', '7810'],
    ]);
    expect(machine.stats).toMatchObject({ rows: 5, header: true, imported: 2, events: 7, gaps: 1, longestGap: 120_000 });
  });

  it('refuses a row that goes back in time, and a non-positive price', () => {
    const machine = new MarketDataImport({ layout: 'csv', instrument: 'X', timeColumn: '1', priceColumn: '2' });
    machine.row(['1000', '5'], 1);
    machine.row(['999', '5'], 2);
    machine.row(['2000', '0'], 3);
    machine.row(['3000', '-1'], 4);
    expect(machine.problems.map((p) => [p.line, p.field])).toEqual([
      [2, 'time'],
      [3, 'price'],
      [4, 'price'],
    ]);
  });

  it('Binance funding: a second rate at the same funding time is a duplicate row, not a second funding payment', () => {
    const machine = new MarketDataImport({ layout: 'binance-funding', instrument: 'BTC-PERP' });
    const rows = ['calc_time,funding_interval_hours,last_funding_rate', '1583971200000,8,0.0001', '1583971200000,8,0.0001', '1584000000000,8,-0.000531'];
    const events = rows.flatMap((row, i) => machine.row(row.split(','), i + 1));
    // one FundingRateApplied per funding time: the repeated row would have charged every position twice
    expect(lines(events).map((e) => [e.ts, e.rate])).toEqual([
      ['2020-03-12T00:00:00Z', '0.0001'],
      ['2020-03-12T08:00:00Z', '-0.000531'],
    ]);
    expect(machine.problems).toEqual([{ line: 3, field: 'time', message: 'a second funding rate at 2020-03-12T00:00:00Z (duplicate row)' }]);
  });

  it('keeps the first KEPT_PROBLEMS bad rows and counts the rest: a file of bad rows does not grow the memory with it', () => {
    const machine = new MarketDataImport({ layout: 'csv', instrument: 'X', timeColumn: '1', priceColumn: '2' });
    machine.row(['time', 'price'], 1);
    for (let line = 2; line <= 100_001; line++) machine.row([String(1000 + line), 'x'.repeat(100)], line);
    machine.row(['200000', '5'], 100_002);
    expect(KEPT_PROBLEMS).toBe(10);
    expect(machine.problemCount).toBe(100_000);
    expect(machine.problems.map((p) => p.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(machine.problems[0]).toEqual({ line: 2, field: 'price', message: `"${'x'.repeat(100)}" is not a non-negative decimal` });
    expect(machine.stats.imported).toBe(1);
  });

  it('csv: a named column without a header line is a usage error that says what to give instead', () => {
    const machine = new MarketDataImport({ layout: 'csv', instrument: 'X', timeColumn: 'when', priceColumn: '2' });
    expect(() => machine.row(['1000', '5'], 1)).toThrow(/"when" names a column, but the file has no header line/);
  });

  it('refuses an id the log would refuse before any row, naming the option (not at the first event, as "nothing was appended")', () => {
    expect(() => new MarketDataImport({ layout: 'binance-klines', instrument: '' })).toThrow(/^--instrument: must not be empty$/);
    expect(() => new MarketDataImport({ layout: 'binance-klines', instrument: 'X'.repeat(129) })).toThrow(/^--instrument: "X{32}…" is 129 characters long \(an id has at most 128\)$/);
    expect(() => new MarketDataImport({ layout: 'binance-klines', instrument: 'X'.repeat(128) })).not.toThrow();
    expect(() => new MarketDataImport({ layout: 'binance-klines', instrument: 'BTC\u001b[2J' })).toThrow(/^--instrument: must not contain control characters \(U\+001B at index 3\)$/);
    // a control character is named before the length, whose message would quote the id's start
    expect(() => new MarketDataImport({ layout: 'binance-klines', instrument: '\u009b' + 'X'.repeat(200) })).toThrow(/^--instrument: must not contain control characters \(U\+009B at index 0\)$/);
    expect(() => new MarketDataImport({ layout: 'binance-klines', instrument: 'BTC-ünï 😀' })).not.toThrow();
    const trades = (marketMaker: string, accounts: string[]) => () =>
      new MarketDataImport({ layout: 'binance-aggtrades', instrument: 'X', trades: { accounts, marketMaker, seed: 1n, tradeIdPrefix: 'f' } });
    expect(trades('', ['a'])).toThrow(/^--market-maker: must not be empty$/);
    expect(trades('mm', ['a', `${'p'.repeat(126)}-001`])).toThrow(/^--trade-accounts: "p{32}…" is 130 characters long/);
    expect(trades('m\tm', ['a'])).toThrow(/^--market-maker: must not contain control characters \(U\+0009 at index 1\)$/);
    expect(trades('mm', ['a', 'b\u007f-1'])).toThrow(/^--trade-accounts: must not contain control characters \(U\+007F at index 1\)$/);
  });

  it('a price or quantity beyond the ledger (over 8 decimals, 30 digits) is a bad row, not a failure of the whole import', () => {
    const machine = new MarketDataImport({ layout: 'binance-aggtrades', instrument: 'X', trades: { accounts: ['a'], marketMaker: 'mm', seed: 1n, tradeIdPrefix: 'f' } });
    const row = (price: string, qty: string, line: number) => machine.row(['1', price, qty, '1', '1', String(1584007200000 + line), 'true'], line);
    expect(() => row('7900.123456789', '1', 1)).not.toThrow();
    expect(() => row('7900', '0.1234567891', 2)).not.toThrow();
    expect(() => row('1' + '0'.repeat(30), '1', 3)).not.toThrow();
    expect(lines(row('0007900.1234567800', '1.5000000000', 4))).toHaveLength(1); // zeros past the 8th decimal or before the first digit are fine
    expect(machine.problems).toEqual([
      { line: 1, field: 'price', message: '"7900.123456789" has more than 8 decimal places' },
      { line: 2, field: 'qty', message: '"0.1234567891" has more than 8 decimal places' },
      { line: 3, field: 'price', message: `"1${'0'.repeat(30)}" is out of range: a decimal has at most 30 digits before the point` },
    ]);
  });

  it('a row whose quoted cell spans lines (a stray quote closed by a later one) is a bad row named by the line it began on', () => {
    const machine = new MarketDataImport({ layout: 'csv', instrument: 'X', timeColumn: 'time', priceColumn: 'price' });
    // as csv-parse gives `time,price / 1000,5 / 2000,"6 / 3000,7 / 4000,8" / 5000,9`: the record of lines 3-5 ends on line 5
    const out = [
      machine.row(['time', 'price'], 1),
      machine.row(['1000', '5'], 2),
      machine.row(['2000', '6\n3000,7\r\n4000,8'], 5),
      machine.row(['5000', '9'], 6),
    ].flat();
    expect(machine.problems).toEqual([{ line: 3, field: undefined, message: 'a quoted cell runs on over 3 lines, to line 5 (no cell of these files spans lines: a stray quote?)' }]);
    expect(lines(out).map((e) => e.price)).toEqual(['5', '9']);
    expect(machine.stats).toMatchObject({ rows: 4, header: true, imported: 2 });
  });
});

describe('compareDecimals', () => {
  it('orders plain decimals by value whatever their zeros (property, against bigint arithmetic)', () => {
    const decimal = fc.tuple(fc.nat({ max: 10_000_000 }), fc.nat({ max: 99_999_999 }), fc.nat({ max: 3 }), fc.nat({ max: 3 })).map(([whole, fraction, leading, trailing]) => {
      const f = String(fraction).padStart(8, '0') + '0'.repeat(trailing);
      return { text: `${'0'.repeat(leading)}${whole}.${f}`, scaled: BigInt(whole) * 100_000_000n + BigInt(fraction) };
    });
    fc.assert(
      fc.property(decimal, decimal, (a, b) => {
        expect(compareDecimals(a.text, b.text)).toBe(a.scaled < b.scaled ? -1 : a.scaled > b.scaled ? 1 : 0);
      }),
    );
    expect(compareDecimals('7912.50', '7912.5')).toBe(0);
    expect(compareDecimals('10', '9.99999999')).toBe(1);
  });
});

describe('trades as TradeExecuted (options.trades)', () => {
  const csvTrades = (seed: bigint) => {
    const importer = new MarketDataImport({
      layout: 'csv',
      instrument: 'BTC-PERP',
      timeColumn: 'time',
      priceColumn: 'price',
      qtyColumn: 'qty',
      trades: { accounts: ['a', 'b', 'c'], marketMaker: 'mm', seed, tradeIdPrefix: 'f.csv' },
    });
    const rows = [['time', 'price', 'qty'], ...Array.from({ length: 40 }, (_, i) => [String(1_584_007_200_000 + i * 1000), String(7900 + i), '0.5'])];
    const out = rows.flatMap((cells, i) => importer.row(cells, i + 1));
    return { importer, trades: lines(out).filter((e) => e.type === 'TradeExecuted') };
  };

  it('a csv file (no side column) draws the account and the side from the seed: deterministic, both sides, every account', () => {
    const { importer, trades } = csvTrades(5n);
    expect(trades).toHaveLength(40);
    expect(importer.stats.trades).toBe(40);
    expect(trades[0]).toMatchObject({ tradeId: 'f.csv:2', qty: '0.5', price: '7900', instrument: 'BTC-PERP' });
    const takers = trades.map((t) => (t.buyer === 'mm' ? t.seller : t.buyer));
    expect(new Set(takers)).toEqual(new Set(['a', 'b', 'c']));
    expect(new Set(trades.map((t) => (t.buyer === 'mm' ? 'sell' : 'buy')))).toEqual(new Set(['buy', 'sell']));
    expect(csvTrades(5n).trades).toEqual(trades);
    expect(csvTrades(6n).trades).not.toEqual(trades);
  });

  it('a trade of 0 is a bad row, not a trade', () => {
    const importer = new MarketDataImport({ layout: 'binance-aggtrades', instrument: 'X', trades: { accounts: ['a'], marketMaker: 'mm', seed: 1n, tradeIdPrefix: 'f' } });
    expect(importer.row(['1', '7900', '0', '1', '1', '1584007200100', 'true'], 1)).toEqual([]);
    expect(importer.problems).toEqual([{ line: 1, field: 'qty', message: 'a trade of 0 cannot be booked (TradeExecuted needs qty > 0)' }]);
  });
});

describe('CsvPosition: the line of an error the CSV reader cannot skip', () => {
  // fed every record in order, as the CLI's loop does (here through csv-parse's on_record: the sync parser returns none on an error)
  const options = (position: CsvPosition) => ({
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
    max_record_size: MAX_CSV_ROW_CHARACTERS,
    on_record: (record: string[], context: { lines: number; empty_lines: number }) => {
      position.record(context);
      return record;
    },
  });
  const failure = (text: string) => {
    const position = new CsvPosition();
    try {
      parse(text, options(position));
    } catch (error) {
      if (isCsvParseError(error)) return position.describe(error);
      throw error;
    }
    throw new Error('parsed');
  };

  it('an unclosed quote: the line where the quote opened (after blank lines, CRLF or not), not the end of the file where csv-parse stops', () => {
    // csv-parse says "Quote Not Closed: the parsing is finished with an opening quote at line 7"
    expect(failure('a,b\n\n1,2\n3,"4\n\n5,6\n7,8\n')).toBe('line 4: a quote opens a cell and is never closed (the cell runs on to the end of the file): remove the stray quote, or close it');
    expect(failure('1,2\r\n\r\n3,"4\r\n5,6\r\n')).toMatch(/^line 3: a quote opens a cell and is never closed/);
    expect(failure('"a,b\n1,2\n')).toMatch(/^line 1: a quote opens a cell/);
    // a stray quote inside an unquoted cell is a character of the cell (the importer then refuses the row), not the opening of one
    expect(failure('1,2"\n3,4\n"5,6\n7,8\n')).toMatch(/^line 3: a quote opens a cell/);
  });

  it('a row past MAX_CSV_ROW_CHARACTERS stops the reader there, naming where the row began', () => {
    const text = 'a,b\n1,"2\n' + '3,4\n'.repeat(MAX_CSV_ROW_CHARACTERS / 4 + 10);
    expect(failure(text)).toMatch(new RegExp(`^line 2: the row runs on past ${MAX_CSV_ROW_CHARACTERS} characters, to line \\d+: a quote that opens a cell and is never closed\\?`));
  });

  it('a line past MAX_CSV_ROW_CHARACTERS with no line break in it is named as such, not as a stray quote', () => {
    expect(failure('a,b\n1,2\n3,' + 'x'.repeat(MAX_CSV_ROW_CHARACTERS + 10))).toBe(
      `line 3: the line runs on past ${MAX_CSV_ROW_CHARACTERS} characters without a line break (a row of these files is a few hundred): not a CSV file of rows`,
    );
    expect(failure('x'.repeat(MAX_CSV_ROW_CHARACTERS + 10))).toMatch(/^line 1: the line runs on past \d+ characters without a line break/);
  });

  it('any other error of the parser names its line and code', () => {
    const position = new CsvPosition();
    expect(position.describe({ code: 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE', message: 'Invalid Closing Quote: found non trimable byte after quote at line 3', lines: 3 })).toBe(
      'line 3: the file cannot be read as CSV here: Invalid Closing Quote: found non trimable byte after quote at line 3 (CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE)',
    );
    expect(isCsvParseError(new Error('x'))).toBe(false);
    expect(isCsvParseError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
    expect(isCsvParseError(Object.assign(new Error('x'), { code: 'INVALID_OPENING_QUOTE' }))).toBe(true);
  });
});
