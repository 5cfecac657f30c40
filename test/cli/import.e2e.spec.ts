import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeReader } from './pipe-reader';

/** `clearsim import` on fixture files written by hand in each exchange's layout (test/fixtures/market-data; no downloaded data). */
const ROOT = join(__dirname, '..', '..');
const DATA = join(ROOT, 'test', 'fixtures', 'market-data');
jest.setTimeout(60_000);

function clearsim(...args: string[]) {
  return clearsimIn(DATA, ...args);
}

function clearsimIn(cwd: string, ...args: string[]) {
  const result = spawnSync(join(ROOT, 'bin', 'clearsim'), args, { encoding: 'utf8', cwd, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The CLI run as the user nobody (a test of a permission, which root is never refused), from `cwd`. */
function asNobody(cwd: string, ...args: string[]) {
  const result = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', join(ROOT, 'bin', 'clearsim'), ...args], { encoding: 'utf8', cwd, timeout: 60_000, env: { ...process.env, TMPDIR: cwd } });
  if (result.error) throw new Error(`setpriv (util-linux) is needed to run the CLI as nobody under root: ${result.error.message}`);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A refusal as the CLI prints it: exit 2, its message on one line (no stack, no "internal error"), nothing on stdout. */
function expectRefused(out: { code: number | null; stdout: string; stderr: string }, message: string) {
  expect(out.stderr.split('\n')).toContain(`clearsim: ${message}`);
  expect(out.stderr).not.toMatch(/internal error|Unhandled|node:|\s{4}at /);
  expect(out.stdout).toBe('');
  expect(out.code).toBe(2);
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

describe('trades as TradeExecuted (--trade-accounts)', () => {
  const trades = (stdout: string) => events(stdout).filter((e) => e.type === 'TradeExecuted');

  it("books each trade between a drawn population account (the taker, on the file's side) and the market maker, the same for the same seed", () => {
    const args = ['import', 'binance-aggtrades.csv', '--format', 'binance-aggtrades', '--instrument', 'BTC-PERP', '--trade-accounts', 'long:3,bob', '--market-maker', 'mm'];
    const first = clearsim(...args, '--seed', '7');
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('4 of 4 rows → 3 PriceUpdated + 4 TradeExecuted for BTC-PERP');
    const booked = trades(first.stdout);
    // is_buyer_maker true, false, true, true: the taker (a population account) sold, bought, sold, sold
    expect(booked.map((t) => [t.tradeId, t.qty, t.price, t.buyer === 'mm' ? 'taker sells' : t.seller === 'mm' ? 'taker buys' : '?'])).toEqual([
      ['binance-aggtrades.csv:2', '1', '7900', 'taker sells'],
      ['binance-aggtrades.csv:3', '3', '7910', 'taker buys'],
      ['binance-aggtrades.csv:4', '2', '7890', 'taker sells'],
      ['binance-aggtrades.csv:5', '0.5', '7880', 'taker sells'],
    ]);
    const takers = booked.map((t) => (t.buyer === 'mm' ? t.seller : t.buyer));
    takers.forEach((taker) => expect(['long-1', 'long-2', 'long-3', 'bob']).toContain(taker));
    // deterministic: the same seed draws the same accounts; the log's times never go back (marks after their trades)
    expect(clearsim(...args, '--seed', '7').stdout).toBe(first.stdout);
    const times = events(first.stdout).map((e) => Date.parse(e.ts));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // another seed draws anew (over 4 trades and 4 accounts, seeds 1..20 cannot all draw what seed 7 drew)
    const draws = new Set(Array.from({ length: 20 }, (_, i) => trades(clearsim(...args, '--seed', String(i + 1)).stdout).map((t) => (t.buyer === 'mm' ? t.seller : t.buyer)).join()));
    expect(draws.size).toBeGreaterThan(1);
  });

  it.each([
    // Bybit and OKX give the taker's side: Sell, Buy, Sell / sell, buy, buy
    ['bybit-trades.csv', 'bybit-trades', ['sells', 'buys', 'sells']],
    ['okx-trades.csv', 'okx-trades', ['sells', 'buys', 'buys']],
  ])("%s: the taker's side is the file's", (file, format, sides) => {
    const out = clearsim('import', file, '--format', format, '--instrument', 'BTC-PERP', '--trade-accounts', 'alice', '--market-maker', 'mm');
    expect(out.code).toBe(0);
    expect(trades(out.stdout).map((t) => (t.buyer === 'alice' ? 'buys' : 'sells'))).toEqual(sides);
  });

  it('runs after a generated population: the trades book on its accounts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-import-trades-'));
    const population = join(dir, 'population.jsonl');
    expect(clearsim('generate', 'population', population, '--count', '4', '--long', '0.5', '--price', '7900', '--start', '2020-03-12T09:00:00Z').code).toBe(0);
    const imported = clearsim('import', 'binance-aggtrades.csv', '--format', 'binance-aggtrades', '--instrument', 'BTC-PERP', '--trade-accounts', 'long:2,short:2', '--market-maker', 'mm', '--seed', '3');
    const input = join(dir, 'input.jsonl');
    writeFileSync(input, readFileSync(population, 'utf8') + imported.stdout);
    const run = spawnSync(join(ROOT, 'bin', 'clearsim'), ['run', input, '--store', `file:${dir}/store`, '--json'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    // a trade naming an account that does not exist would refuse the run (exit 2): every line is accepted
    expect(JSON.parse(run.stdout).eventsIn).toBe(readFileSync(input, 'utf8').trim().split('\n').length);
  });

  it('refuses what cannot be booked, naming the flag', () => {
    const klines = clearsim('import', 'binance-mark-klines.csv', '--format', 'binance-mark-klines', '--instrument', 'X', '--trade-accounts', 'a', '--market-maker', 'mm');
    expect(klines.code).toBe(2);
    expect(klines.stderr).toContain('trades as TradeExecuted need a file of trades (a trades layout, or csv with --qty-col), not binance-mark-klines');
    const noMaker = clearsim('import', 'binance-aggtrades.csv', '--format', 'binance-aggtrades', '--instrument', 'X', '--trade-accounts', 'a');
    expect(noMaker.code).toBe(2);
    expect(noMaker.stderr).toContain('--trade-accounts needs --market-maker');
    const bad = clearsim('import', 'binance-aggtrades.csv', '--format', 'binance-aggtrades', '--instrument', 'X', '--trade-accounts', 'a b', '--market-maker', 'mm');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--trade-accounts: "a b" is neither an account id nor prefix:count');
  });
});

describe('refused paths: exit 2 naming the path before anything is read, nothing written, no temporary left', () => {
  const KLINES = join(DATA, 'binance-klines-futures.csv');
  const args = ['--format', 'binance-klines', '--instrument', 'BTC-PERP'];

  it('the input is a directory, or does not exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-import-paths-'));
    mkdirSync(join(dir, 'adir'));
    // was: exit 1 and node's "Unhandled 'error' event … EISDIR" with its stack
    expectRefused(clearsimIn(dir, 'import', 'adir', ...args), 'adir is a directory, not a data file');
    expectRefused(clearsimIn(dir, 'import', 'adir', ...args, '--out', 'out.jsonl'), 'adir is a directory, not a data file');
    expectRefused(clearsimIn(dir, 'import', 'nope.csv', ...args, '--out', 'out.jsonl'), 'input file not found: nope.csv');
    expect(readdirSync(dir)).toEqual(['adir']);
    expect(readdirSync(join(dir, 'adir'))).toEqual([]);
  });

  it('the input cannot be read (no permission)', () => {
    // root reads any file whatever its mode: as root the CLI runs as nobody (setpriv, util-linux), in a folder of
    // /tmp anyone may enter (the tests' own scratch folder is the owner's alone)
    const asRoot = process.getuid?.() === 0;
    const dir = mkdtempSync(join(asRoot ? '/tmp' : tmpdir(), 'clearsim-import-paths-'));
    try {
      if (asRoot) chmodSync(dir, 0o777);
      copyFileSync(KLINES, join(dir, 'secret.csv'));
      chmodSync(join(dir, 'secret.csv'), 0o000);
      const importArgs = ['import', 'secret.csv', ...args, '--out', 'out.jsonl'];
      const out = asRoot ? asNobody(dir, ...importArgs) : clearsimIn(dir, ...importArgs);
      expectRefused(out, 'cannot read secret.csv: permission denied');
      expect(readdirSync(dir)).toEqual(['secret.csv']);
    } finally {
      if (asRoot) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--out is a directory, a path under a regular file, or empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-import-paths-'));
    mkdirSync(join(dir, 'outdir'));
    writeFileSync(join(dir, 'plain.txt'), 'x\n');
    const root = readdirSync('/');
    // was: the import ran, then "internal error: EISDIR … rename '.outdir.<pid>.tmp' -> 'outdir'"
    expectRefused(clearsimIn(dir, 'import', KLINES, ...args, '--out', 'outdir'), '--out: outdir is a directory, not a file to write');
    expectRefused(clearsimIn(dir, 'import', KLINES, ...args, '--out', 'newdir/'), '--out: newdir/ is a directory, not a file to write');
    // the temporary would have been "/..<pid>.tmp", at the file system's root
    expectRefused(clearsimIn(dir, 'import', KLINES, ...args, '--out', '/'), '--out: / is a directory, not a file to write');
    // was: "internal error: EEXIST: file already exists, mkdir …"
    expectRefused(clearsimIn(dir, 'import', KLINES, ...args, '--out', 'plain.txt/x.jsonl'), `--out: plain.txt/x.jsonl cannot be made: ${join(dir, 'plain.txt')} is a file, not a directory`);
    expectRefused(clearsimIn(dir, 'import', KLINES, ...args, '--out', join(dir, 'plain.txt', 'a', 'b.jsonl')), `--out: ${join(dir, 'plain.txt', 'a', 'b.jsonl')} cannot be made: ${join(dir, 'plain.txt')} is a file, not a directory`);
    if (existsSync('/etc/hostname') && statSync('/etc/hostname').isFile()) {
      expectRefused(clearsimIn(dir, 'import', KLINES, ...args, '--out', '/etc/hostname/x.jsonl'), '--out: /etc/hostname/x.jsonl cannot be made: /etc/hostname is a file, not a directory');
    }
    // was: the events on stdout, as if --out had not been given
    expectRefused(clearsimIn(dir, 'import', KLINES, ...args, '--out', ''), '--out: must not be empty');
    expect(readdirSync(dir).sort()).toEqual(['outdir', 'plain.txt']);
    expect(readdirSync(join(dir, 'outdir'))).toEqual([]);
    expect(readdirSync('/')).toEqual(root);
  });

  it('a refused file leaves no directory made for --out either', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-import-paths-'));
    const strict = clearsimIn(dir, 'import', KLINES, ...args, '--out', join(dir, 'new', 'deeper', 'btc.jsonl'), '--strict');
    expect(strict.code).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
    // and an import that succeeds makes them
    expect(clearsimIn(dir, 'import', KLINES, ...args, '--out', join(dir, 'new', 'deeper', 'btc.jsonl')).code).toBe(0);
    expect(readdirSync(join(dir, 'new', 'deeper'))).toEqual(['btc.jsonl']);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('%s while it writes: the temporary and the folders made for it are removed, and the signal ends it', async (signal) => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-import-signal-'));
    // the input a pipe that stays open: the import has its temporary and waits for more rows
    const fifo = join(dir, 'rows.csv');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const child = spawn(join(ROOT, 'bin', 'clearsim'), ['import', fifo, ...args, '--out', join(dir, 'new', 'btc.jsonl'), '--no-progress'], { cwd: dir, stdio: 'ignore' });
    const exited = once(child, 'exit');
    // the pipe held open after the rows (no end of file): the import stays in its loop
    const writer = spawn('sh', ['-c', `exec 3>"${fifo}"; cat "${KLINES}" >&3; exec sleep 30`], { stdio: 'ignore' });
    try {
      const temporary = () => (existsSync(join(dir, 'new')) ? readdirSync(join(dir, 'new')).filter((name) => name.endsWith('.tmp')) : []);
      for (let waited = 0; temporary().length === 0; waited += 50) {
        if (waited > 20_000) throw new Error('the import made no temporary');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      child.kill(signal);
      const [code, ended] = await exited;
      expect({ code, ended }).toEqual({ code: null, ended: signal }); // ended by the signal, as without a handler
      expect(readdirSync(dir)).toEqual(['rows.csv']); // no temporary, no folder "new", no output
    } finally {
      writer.kill();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('--out an existing pipe (or device, /dev/null) is written in place, not replaced by a renamed temporary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-import-paths-'));
    const { fifo, closed, text, stop } = pipeReader(dir, 'pipe');
    try {
      const out = clearsimIn(dir, 'import', KLINES, ...args, '--out', fifo);
      expect(out.code).toBe(0);
      expect(statSync(fifo).isFIFO()).toBe(true); // was: a regular file renamed over the pipe (and /dev/null, as root, replaced)
      await closed;
      expect(text().trim().split('\n')).toHaveLength(11);
      expect(readdirSync(dir)).toEqual(['pipe']);
    } finally {
      stop();
    }
  });
});

describe('quotes in the CSV: a stray quote is a bad row; a quote never closed is exit 2 naming its line, never "internal error"', () => {
  const HEADER = 'open_time,open,high,low,close,volume,close_time';
  const bar = (i: number, open = '7912.50') => `${1584007200000 + i * 60_000},${open},7930.00,7850.10,7860.00,1.0,${1584007200000 + i * 60_000 + 59_999}`;
  const write = (name: string, lines: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-import-quotes-'));
    writeFileSync(join(dir, name), lines.join('\n') + '\n');
    return dir;
  };
  const args = ['--format', 'binance-klines', '--instrument', 'BTC-PERP'];

  it.each([
    // [the open cell as written, as the importer names it] — csv-parse said "Invalid Opening Quote: a quote is found on field 1 at line 2" / "Invalid Closing Quote"
    ['79"12.50', '"79"12.50" is not a non-negative decimal'],
    ['"7912.50"x', '""7912.50"x" is not a non-negative decimal'],
    ['7912.50"', '"7912.50"" is not a non-negative decimal'],
  ])('%s: skipped and listed by its line; --strict refuses the file naming it, and writes nothing', (cell, why) => {
    const dir = write('q.csv', [HEADER, bar(0, cell), bar(1), bar(2)]);
    const lenient = clearsimIn(dir, 'import', 'q.csv', ...args, '--out', 'q.jsonl');
    expect(lenient.stderr).toContain(`line 2: open: ${why}`);
    expect(lenient.stderr).toContain('2 of 3 rows');
    expect(lenient.code).toBe(0);
    expect(readFileSync(join(dir, 'q.jsonl'), 'utf8').length).toBeGreaterThan(0);
    const strict = clearsimIn(dir, 'import', 'q.csv', ...args, '--out', 'strict.jsonl', '--strict');
    expectRefused(strict, `q.csv: line 2: open: ${why}`);
    expect(readdirSync(dir).sort()).toEqual(['q.csv', 'q.jsonl']);
  });

  it('the same in any CSV with another delimiter', () => {
    const dir = write('g.csv', ['when;venue;last', '2020-03-12T10:00:00Z;x;79"12.50', '2020-03-12T10:00:30Z;x;"7899"z', '2020-03-12T10:00:45Z;x;7890']);
    const out = clearsimIn(dir, 'import', 'g.csv', '--format', 'csv', '--delimiter', ';', '--time-col', 'when', '--price-col', 'last', '--instrument', 'ETH-PERP');
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('line 2: price: "79"12.50" is not a non-negative decimal');
    expect(out.stderr).toContain('line 3: price: ""7899"z" is not a non-negative decimal');
    expect(events(out.stdout).map((e) => [e.ts, e.price])).toEqual([['2020-03-12T10:00:45Z', '7890']]);
  });

  it('a quote that opens a cell and is never closed: exit 2 naming the line it opened on (was "internal error: Quote Not Closed")', () => {
    // 3,000 rows after it: csv-parse fails at the end of the file, when the reader of its rows is far behind
    const lines = [HEADER, ...Array.from({ length: 3000 }, (_, i) => bar(i))];
    lines.splice(1001, 0, bar(3000, '"7912.50'));
    const dir = write('open.csv', lines);
    const why = 'line 1002: a quote opens a cell and is never closed (the cell runs on to the end of the file): remove the stray quote, or close it';
    expectRefused(clearsimIn(dir, 'import', 'open.csv', ...args, '--out', 'open.jsonl'), `open.csv: ${why}`);
    expectRefused(clearsimIn(dir, 'import', 'open.csv', ...args, '--strict'), `open.csv: ${why}`);
    expectRefused(clearsimIn(dir, 'import', 'open.csv', '--format', 'csv', '--time-col', '1', '--price-col', '2', '--instrument', 'X', '--delimiter', ','), `open.csv: ${why}`);
    expect(readdirSync(dir)).toEqual(['open.csv']);
  });

  it('…and in a large file, stops a MiB on (not the whole file in one cell), still naming the line it opened on', () => {
    // 20,000 rows after the quote, 76 characters each: 1.5 MB
    const lines = [HEADER, ...Array.from({ length: 40_000 }, (_, i) => bar(i))];
    lines.splice(20_001, 0, bar(40_000, '"7912.50'));
    const dir = write('big.csv', lines);
    const out = clearsimIn(dir, 'import', 'big.csv', ...args, '--out', 'big.jsonl');
    expectRefused(out, out.stderr.split('\n')[0].replace(/^clearsim: /, ''));
    expect(out.stderr).toMatch(/^clearsim: big\.csv: line 20002: the row runs on past 1048576 characters, to line \d+: a quote that opens a cell and is never closed\?/);
    expect(readdirSync(dir)).toEqual(['big.csv']);
  });

  it('a stray quote that a later one closes: the row it swallowed is a bad row named by the line it began on', () => {
    const dir = write('twice.csv', [HEADER, bar(0), bar(1, '"7912.50'), bar(2, '7912.50"x'), bar(3)]);
    const out = clearsimIn(dir, 'import', 'twice.csv', ...args);
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('line 3: a quoted cell runs on over 2 lines, to line 4 (no cell of these files spans lines: a stray quote?)');
    expect(out.stderr).toContain('2 of 3 rows'); // lines 3 and 4 are one (bad) row
  });
});

describe('option values: refused naming the flag', () => {
  it.each([
    // was: 'field "instrument": must not be empty' and 'nothing was appended' (of a store import has not)
    [['binance-klines-futures.csv', '--format', 'binance-klines', '--instrument', ''], '--instrument: must not be empty'],
    [['binance-klines-futures.csv', '--format', 'binance-klines', '--instrument', 'X'.repeat(129)], `--instrument: "${'X'.repeat(32)}…" is 129 characters long (an id has at most 128)`],
    [['binance-klines-futures.csv', '--format', 'binance-klines', '--instrument', 'BTC\u001b[2J'], '--instrument: must not contain control characters (U+001B at index 3)'],
    [['binance-aggtrades.csv', '--format', 'binance-aggtrades', '--instrument', 'X', '--trade-accounts', 'a\u001bb', '--market-maker', 'mm'], '--trade-accounts: must not contain control characters (U+001B at index 1)'],
    // was: 'field "buyer": must not be empty'
    [['binance-aggtrades.csv', '--format', 'binance-aggtrades', '--instrument', 'X', '--trade-accounts', 'a', '--market-maker', ''], '--market-maker: must not be empty'],
    [['binance-aggtrades.csv', '--format', 'binance-aggtrades', '--instrument', 'X', '--trade-accounts', `${'p'.repeat(127)}:2`, '--market-maker', 'mm'], `--trade-accounts: "${'p'.repeat(32)}…" is 129 characters long (an id has at most 128)`], // p…-1
    // was: silently no quantity column / ignored
    [['generic.csv', '--format', 'csv', '--delimiter', ';', '--time-col', 'when', '--price-col', 'last', '--qty-col', '', '--instrument', 'X'], '--qty-col: must not be empty'],
    [['generic.csv', '--format', 'csv', '--delimiter', ';', '--time-col', 'when', '--price-col', 'last', '--qty-col', '  ', '--instrument', 'X'], '--qty-col: must not be empty (a header name, or a 1-based position)'],
    [['binance-aggtrades.csv', '--format', 'binance-aggtrades', '--instrument', 'X', '--time-col', 'when'], '--time-col, --price-col and --qty-col are for --format csv (binance-aggtrades has its own columns)'],
    // was: every row one cell, every row skipped
    [['binance-aggtrades.csv', '--format', 'binance-aggtrades', '--instrument', 'X', '--delimiter', '"'], '--delimiter: "\\"" cannot separate columns (it quotes cells or ends rows)'],
    [['binance-aggtrades.csv', '--format', 'binance-aggtrades', '--instrument', 'X', '--seed', '1'], '--market-maker and --seed go with --trade-accounts (trades as TradeExecuted)'],
    [['binance-aggtrades.csv', '--format', 'binance-aggtrades', '--instrument', 'X', '--mark', ''], '--mark: must not be empty'],
    [['binance-aggtrades.csv', '--format', 'binance-aggtrades', '--instrument', 'X', '--mark', 'last2'], '--mark: "last2" is not last or vwap'],
  ])('%j', (args, message) => {
    const out = clearsim('import', ...args);
    expectRefused(out, message);
    expect(out.stderr).not.toContain('nothing was appended');
  });

  it('a price beyond the ledger (9 decimals) is a bad row, not the end of the import', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-import-values-'));
    writeFileSync(join(dir, 'p.csv'), 'time,price\n1584007200000,7912.123456789\n1584007201000,7912.5\n');
    const out = clearsimIn(dir, 'import', 'p.csv', '--format', 'csv', '--time-col', 'time', '--price-col', 'price', '--instrument', 'X');
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('line 2: price: "7912.123456789" has more than 8 decimal places');
    expect(events(out.stdout).map((e) => e.price)).toEqual(['7912.5']);
  });
});

describe('a file that gives no event: exit 2 naming the file (and the first bad row), nothing written', () => {
  const HEADER = 'open_time,open,high,low,close,volume,close_time';
  const args = ['--format', 'binance-klines', '--instrument', 'BTC-PERP'];

  it.each([
    // [what the file holds, as written, the refusal] — each was exit 0 and an empty output file
    ['empty', '', 'k.csv: no rows: the file is empty'],
    ['a header alone', `${HEADER}\r\n`, 'k.csv: no rows: line 1 is a header (its time cell is not a time) and no row follows'],
    // a JSON line's first cell is not a time: read as a header
    ['one JSON line', '{"open_time": 1584007200000, "open": "7912.5"}\n', 'k.csv: no rows: line 1 is a header (its time cell is not a time) and no row follows'],
    ['only bad rows', `${HEADER}\n1584007200000,0,1,1,1,1,1584007259999\n1584007260000,-1,1,1,1,1,1584007319999\n`, 'k.csv: no row could be imported (2 bad): line 2: open: a price must be greater than 0'],
  ])('%s', (_what, text, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-import-none-'));
    writeFileSync(join(dir, 'k.csv'), text);
    expectRefused(clearsimIn(dir, 'import', 'k.csv', ...args, '--out', 'out/k.jsonl'), message);
    expectRefused(clearsimIn(dir, 'import', 'k.csv', ...args), message);
    // no output, no temporary, no folder made for it
    expect(readdirSync(dir)).toEqual(['k.csv']);
  });
});

describe('a file that is not text: exit 2 at its first NUL byte, naming its line, nothing written', () => {
  const args = ['--format', 'csv', '--time-col', 'time', '--price-col', 'price', '--instrument', 'X'];

  it('a CSV file with NUL bytes on line 3 (it was imported, the row with them skipped as bad)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-import-nul-'));
    writeFileSync(join(dir, 'k.csv'), 'time,price\n1584007200000,7912.5\n1584007260000,79\u0000\u0000\n1584007320000,7913\n');
    expectRefused(clearsimIn(dir, 'import', 'k.csv', ...args, '--out', 'out/k.jsonl'), 'k.csv: line 3 holds a NUL byte (U+0000): not a CSV/text file');
    expectRefused(clearsimIn(dir, 'import', 'k.csv', ...args), 'k.csv: line 3 holds a NUL byte (U+0000): not a CSV/text file');
    // no output, no temporary, no folder made for it
    expect(readdirSync(dir)).toEqual(['k.csv']);
  });

  it('/dev/zero, an endless stream of NUL bytes (it read 1 MiB and blamed a quote never closed), at its first chunk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-import-zero-'));
    // (clearsimIn kills the CLI after 60 s: were the endless file read on, the test would fail, not hang)
    expectRefused(clearsimIn(dir, 'import', '/dev/zero', '--format', 'binance-klines', '--instrument', 'X', '--out', 'k.jsonl'), '/dev/zero: line 1 holds a NUL byte (U+0000): not a CSV/text file');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('a line with no end in sight: the reader stops at its row bound, exit 2 naming the line, nothing written', () => {
  it('3 MiB without a line break after a header (it was blamed on a quote never closed, though the file has none)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-import-long-'));
    writeFileSync(join(dir, 'k.csv'), 'time,price\n' + '7'.repeat(3 << 20));
    expectRefused(
      clearsimIn(dir, 'import', 'k.csv', '--format', 'csv', '--time-col', 'time', '--price-col', 'price', '--instrument', 'X', '--out', 'k.jsonl'),
      'k.csv: line 2: the line runs on past 1048576 characters without a line break (a row of these files is a few hundred): not a CSV file of rows',
    );
    expect(readdirSync(dir)).toEqual(['k.csv']);
  });
});

describe("a scenario's price path from an exchange file", () => {
  it('a quote never closed in the file is refused naming the scenario field, the file and the line it opened on', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearsim-import-'));
    // line 2's close opens a quote that nothing closes
    writeFileSync(
      join(dir, 'k.csv'),
      '1584007200000,7900,7950,7850,7912.5,100,1584007259999,0,0,0,0,0\n1584007260000,7912.5,7950,7850,"7912.50,100,1584007319999,0,0,0,0,0\n1584007320000,7912.5,7950,7850,7912.5,100,1584007379999,0,0,0,0,0\n',
    );
    writeFileSync(
      join(dir, 's.yaml'),
      'name: q\nrules: crypto-cross\nseed: 1\nstart: 2020-03-12T10:00:00Z\ninstruments:\n  BTC-PERP: { kind: perpetual, underlying: BTC }\nprices:\n  every: 60\n  paths:\n    BTC-PERP: { file: k.csv, format: binance-klines }\naccounts:\n  insurance: { deposit: "100000" }\n',
    );
    expectRefused(
      clearsimIn(dir, 'run', 's.yaml', '--store', 'memory:'),
      's.yaml: prices.paths.BTC-PERP: k.csv: line 2: a quote opens a cell and is never closed (the cell runs on to the end of the file): remove the stray quote, or close it',
    );
  });
});
