import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `clearsim import` on fixture files written by hand in each exchange's layout (test/fixtures/market-data; no downloaded data). */
const ROOT = join(__dirname, '..', '..');
const DATA = join(ROOT, 'test', 'fixtures', 'market-data');
jest.setTimeout(60_000);

function clearsim(...args: string[]) {
  const result = spawnSync(join(ROOT, 'bin', 'clearsim'), args, { encoding: 'utf8', cwd: DATA, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const events = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, string>);

describe('clearsim import', () => {
  it.each([
    // [file, format, events, first [ts, price], last [ts, price]]
    ['binance-klines-spot-us.csv', 'binance-klines', 7, ['2025-01-15T00:00:00Z', '96500.01'], ['2025-01-15T00:01:59.999Z', '96210.1']], // µs times, no header
    ['binance-mark-klines.csv', 'binance-mark-klines', 4, ['2020-03-12T10:00:00Z', '7915.21'], ['2020-03-12T10:00:59.999Z', '7861.44']],
    ['binance-aggtrades.csv', 'binance-aggtrades', 3, ['2020-03-12T10:00:00.999Z', '7910'], ['2020-03-12T10:00:03.999Z', '7880']],
    ['binance-trades-spot.csv', 'binance-trades', 2, ['2020-03-12T10:00:00.999Z', '7910'], ['2020-03-12T10:00:01.999Z', '7890']], // 7 columns, no header
    ['bybit-trades.csv', 'bybit-trades', 2, ['2020-03-12T10:00:00.999Z', '7902'], ['2020-03-12T10:00:01.999Z', '7899']], // seconds with a fraction
    ['okx-trades.csv', 'okx-trades', 2, ['2020-03-12T10:00:00.999Z', '7901.9'], ['2020-03-12T10:00:02.999Z', '7905']],
  ])('%s (%s) → %i PriceUpdated marks', (file, format, count, first, last) => {
    const out = clearsim('import', file, '--format', format, '--instrument', 'BTC-PERP');
    expect(out.code).toBe(0);
    const marks = events(out.stdout);
    expect(marks).toHaveLength(count);
    expect(marks.every((e) => e.type === 'PriceUpdated' && e.instrument === 'BTC-PERP')).toBe(true);
    expect([marks[0].ts, marks[0].price]).toEqual(first);
    expect([marks[count - 1].ts, marks[count - 1].price]).toEqual(last);
  });

  it('Binance funding rates → FundingRateApplied, sign and digits as published', () => {
    const out = clearsim('import', 'binance-funding.csv', '--format', 'binance-funding', '--instrument', 'BTC-PERP');
    expect(out.code).toBe(0);
    expect(events(out.stdout).map((e) => [e.type, e.ts, e.rate])).toEqual([
      ['FundingRateApplied', '2020-03-12T00:00:00Z', '0.0001'],
      ['FundingRateApplied', '2020-03-12T08:00:00Z', '-0.000531'],
      ['FundingRateApplied', '2020-03-12T16:00:00Z', '-0.00375'],
    ]);
  });

  it('trades at VWAP per 2 s: (7,900×1 + 7,910×3 + 7,890×2) / 6 = 7,901.66666667', () => {
    const out = clearsim('import', 'binance-aggtrades.csv', '--format', 'binance-aggtrades', '--instrument', 'BTC-PERP', '--mark', 'vwap', '--interval', '2s');
    expect(out.code).toBe(0);
    expect(events(out.stdout).map((e) => [e.ts, e.price])).toEqual([
      ['2020-03-12T10:00:01.999Z', '7901.66666667'],
      ['2020-03-12T10:00:03.999Z', '7880'],
    ]);
  });

  it('bad rows are skipped and listed by line; the gap is reported; --strict refuses the file and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-import-'));
    const lenient = clearsim('import', 'binance-klines-futures.csv', '--format', 'binance-klines', '--instrument', 'BTC-PERP', '--out', join(dir, 'btc.jsonl'));
    expect(lenient.code).toBe(0);
    expect(lenient.stderr).toContain('3 of 5 rows → 11 PriceUpdated for BTC-PERP');
    expect(lenient.stderr).toContain('line 4: time: a second bar opening at 2020-03-12T10:01:00Z (duplicate row)');
    expect(lenient.stderr).toContain('line 5: low: "abc" is not a non-negative decimal');
    expect(lenient.stderr).toContain('1 gaps between bars (the longest 180 s)');
    expect(readFileSync(join(dir, 'btc.jsonl'), 'utf8').trim().split('\n')).toHaveLength(11);

    const strict = clearsim('import', 'binance-klines-futures.csv', '--format', 'binance-klines', '--instrument', 'BTC-PERP', '--out', join(dir, 'strict.jsonl'), '--strict');
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain('binance-klines-futures.csv: line 4: time: a second bar opening at 2020-03-12T10:01:00Z (duplicate row)');
    expect(existsSync(join(dir, 'strict.jsonl'))).toBe(false);
    expect(readdirSync(dir)).toEqual(['btc.jsonl']); // no temporary file left either
  });

  it('any CSV: columns by header name or position, another delimiter, ISO times; a missing column name is exit 2', () => {
    const byName = clearsim('import', 'generic.csv', '--format', 'csv', '--delimiter', ';', '--time-col', 'when', '--price-col', 'last', '--instrument', 'ETH-PERP');
    expect(byName.code).toBe(0);
    // the 10:01:00 row has no price (skipped), so the 10:00:45 row after it is still in time order
    expect(events(byName.stdout).map((e) => [e.ts, e.price])).toEqual([
      ['2020-03-12T10:00:00Z', '7912.5'],
      ['2020-03-12T10:00:30Z', '7899'],
      ['2020-03-12T10:00:45Z', '7890'],
      ['2020-03-12T10:01:30Z', '7850.25'],
    ]);
    expect(byName.stderr).toContain('line 4: price: the price cell (column 3) is empty or missing');
    const byPosition = clearsim('import', 'generic.csv', '--format', 'csv', '--delimiter', ';', '--time-col', '1', '--price-col', '3', '--instrument', 'ETH-PERP');
    expect(byPosition.stdout).toBe(byName.stdout);
    const missing = clearsim('import', 'generic.csv', '--format', 'csv', '--delimiter', ';', '--time-col', 'when', '--price-col', 'price', '--instrument', 'ETH-PERP');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no column named "price" in the header (when, venue, last)');
  });

  it('usage mistakes are exit 2 with the accepted values', () => {
    const format = clearsim('import', 'generic.csv', '--format', 'kraken', '--instrument', 'X');
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('--format: "kraken" is not one of binance-klines, binance-mark-klines');
    const interval = clearsim('import', 'binance-aggtrades.csv', '--format', 'binance-aggtrades', '--instrument', 'X', '--interval', '2 seconds');
    expect(interval.code).toBe(2);
    expect(interval.stderr).toContain('--interval: "2 seconds" is not a duration like 250ms, 1s, 5m or 1h');
  });
});

describe('a scenario whose path is an imported file', () => {
  it('runs through the imported lows (low-first bars) and liquidates; a bad file refuses the scenario naming its line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-import-scenario-'));
    const decisions = join(dir, 'decisions.jsonl');
    const result = spawnSync(join(ROOT, 'bin', 'clearsim'), ['run', join(DATA, 'klines-scenario.yaml'), '--store', `file:${dir}/store`, '--json', '--decisions', decisions], { encoding: 'utf8', timeout: 60_000 });
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.liquidations).toBeGreaterThan(0);
    const log = readFileSync(join(dir, 'store', 'events.jsonl'), 'utf8');
    // the 10:05 bar's low, 7,300, is a waypoint: it appears verbatim at 10:05:20 (open + 20 s, low first)
    expect(log).toMatch(/"ts":"2020-03-12T10:05:20Z","instrument":"BTC-PERP","price":"7300"/);

    const bad = join(dir, 'bad-scenario.yaml');
    copyFileSync(join(DATA, 'binance-klines-futures.csv'), join(dir, 'binance-klines-clean.csv'));
    writeFileSync(bad, readFileSync(join(DATA, 'klines-scenario.yaml'), 'utf8'));
    const refused = spawnSync(join(ROOT, 'bin', 'clearsim'), ['run', bad, '--store', `file:${dir}/store2`], { encoding: 'utf8', timeout: 60_000 });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('prices.paths.BTC-PERP: binance-klines-clean.csv: line 4: time: a second bar opening at 2020-03-12T10:01:00Z (duplicate row)');
  });
});
