import { BenchUsageError, parseBenchArgs, parseOnly } from '../../bench/config';
import { makeRow, stats } from '../../bench/harness';

/** The bench harness's own logic: option parsing, the spread of runs and the ratio of a row (no timing). */
describe('bench options', () => {
  it('selects benchmarks by id, case-insensitively, in the harness order; "run" is B1', () => {
    expect(parseOnly('b9,B1')).toEqual(['B9', 'B1']);
    expect(parseOnly('run,portfolio')).toEqual(['B1', 'portfolio']);
    expect(parseBenchArgs(['--only', 'B9,b1-scale,B1'], {}).only).toEqual(['B1', 'B1-scale', 'B9']);
    expect(parseBenchArgs([], {}).only).toEqual(['B1', 'B1-scale', 'B3', 'B5', 'B6', 'B7', 'B8', 'B9', 'portfolio']);
  });

  it('refuses an unknown id, flag or size with a message naming it', () => {
    expect(() => parseOnly('B1,B2')).toThrow(new BenchUsageError('--only: "B2" is not one of B1, B1-scale, B3, B5, B6, B7, B8, B9, portfolio'));
    expect(() => parseBenchArgs(['--holders', '10000,1e5'], {})).toThrow('--holders: "1e5" is not a whole number > 0');
    expect(() => parseBenchArgs(['--events', '0'], {})).toThrow('--events: "0" is not a whole number > 0');
    expect(() => parseBenchArgs(['--fast'], {})).toThrow('unknown option "--fast"');
    expect(() => parseBenchArgs(['--runs'], {})).toThrow('--runs needs a value');
  });

  it('takes sizes as --flag value or --flag=value; --quick shrinks the defaults, explicit sizes win', () => {
    const full = parseBenchArgs(['--scale=100000,1000000', '--bankruptcies', '50'], {});
    expect(full).toMatchObject({ quick: false, events: 1_000_000, scale: [100_000, 1_000_000], bankruptcies: 50, holders: [10_000, 100_000, 1_000_000], runs: undefined });
    const quick = parseBenchArgs(['--quick', '--ticks', '7'], {});
    expect(quick).toMatchObject({ quick: true, events: 20_000, ticks: 7, runs: 2, crashAccounts: [200, 1_000], bankruptcies: 20 });
  });
});

describe('bench options from the environment', () => {
  it('reads BENCH_<FLAG> when the flag is not given; the flag wins', () => {
    const env = { BENCH_ONLY: 'B3', BENCH_HOLDERS: '500,5000', BENCH_QUICK: '1', BENCH_B7_ACCOUNTS: '3000' };
    expect(parseBenchArgs([], env)).toMatchObject({ only: ['B3'], holders: [500, 5_000], quick: true, b7Accounts: 3_000 });
    expect(parseBenchArgs(['--holders', '7'], env).holders).toEqual([7]);
    expect(parseBenchArgs([], { BENCH_QUICK: '0' }).quick).toBe(false);
  });

  it('names the variable a bad value came from', () => {
    expect(() => parseBenchArgs([], { BENCH_EVENTS: 'lots' })).toThrow('BENCH_EVENTS: "lots" is not a whole number > 0');
    expect(() => parseBenchArgs([], { BENCH_ONLY: 'B4' })).toThrow('BENCH_ONLY: "B4" is not one of');
  });
});

describe('bench rows', () => {
  it('summarises runs as min, median (the mean of the middle two when even) and max', () => {
    expect(stats([5, 1, 3])).toEqual({ min: 1, median: 3, max: 5 });
    // even count: (2 + 4) / 2 = 3
    expect(stats([4, 8, 2, 1])).toEqual({ min: 1, median: 3, max: 8 });
  });

  it('makes the figure the median and the ratio figure / baseline', () => {
    // events/s of three runs against a baseline of 600,000: median 12,000 → 12,000 / 600,000 = 0.02
    const row = makeRow({ id: 'B1', group: 'B1', workload: 'w', unit: 'events/s', runs: [11_000, 14_000, 12_000], baseline: 600_000, target: '≥ 0.5 × the baseline', targetMet: (_f, ratio) => ratio !== null && ratio >= 0.5, peakRssMiB: 690.4, quick: false });
    expect(row).toMatchObject({ figure: 12_000, min: 11_000, median: 12_000, max: 14_000, ratio: 0.02, targetMet: false, completed: true, failure: null, peakRssMiB: 690 });
    expect(row.loadAverage).toHaveLength(3);
  });

  it('records a run that did not finish: no figure, no ratio, its target not met', () => {
    const row = makeRow({ id: 'B7', group: 'B7', workload: 'w', unit: 'MiB peak RSS', runs: [], target: 'completes, peak RSS ≤ 1,024 MiB', targetMet: (figure) => figure <= 1024, failure: 'did not finish: timeout after 600 s', peakRssMiB: 1_400, quick: false });
    expect(row).toMatchObject({ figure: null, ratio: null, min: null, targetMet: false, completed: false, failure: 'did not finish: timeout after 600 s', peakRssMiB: 1_400 });
  });
});
