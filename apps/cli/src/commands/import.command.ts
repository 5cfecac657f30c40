import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync, createWriteStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { once } from 'node:events';
import { parse } from 'csv-parse';
import { SingleBar, Presets } from 'cli-progress';
import { encodeEvent, formatTimestamp } from '@clearsim/events';
import { ImportUsageError, LAYOUTS, MarketDataImport, type LayoutName, type RowProblem, type TradeAssignment } from '@clearsim/market-data';
import { populationAccountIds } from '@clearsim/scenario';
import { UsageError } from '../cli-error';
import { csvOptions, delimiterOf, importOptionsOf, type ImportCommandOptions } from '../io/import-options';


/** How many problem rows are printed (all are counted). */
const SHOWN_PROBLEMS = 10;

/**
 * `clearsim import`: an exchange's data file → input JSONL (PriceUpdated
 * marks or FundingRateApplied), streamed row by row (files of millions of
 * rows in constant memory). Bad rows are reported by line and skipped, or,
 * with `--strict`, refuse the file: then nothing is written. The output is
 * written to a temporary file renamed when complete, so a failed import never
 * leaves half a file under the name asked for.
 */
export async function importCommand(file: string, options: ImportCommandOptions): Promise<void> {
  const importOptions = { ...importOptionsOf(options), trades: tradeAssignmentOf(file, options) };
  delimiterOf(options.delimiter);
  if (!existsSync(file)) throw new UsageError(`input file not found: ${file}`);
  let machine: MarketDataImport;
  try {
    machine = new MarketDataImport(importOptions);
  } catch (error) {
    if (error instanceof ImportUsageError) throw new UsageError(error.message);
    throw error;
  }
  const total = statSync(file).size;
  const temporary = options.out ? join(dirname(options.out), `.${basename(options.out)}.${process.pid}.tmp`) : undefined;
  if (options.out) mkdirSync(dirname(options.out), { recursive: true });
  const output = temporary ? createWriteStream(temporary) : process.stdout;
  const bar = options.progress !== false && process.stderr.isTTY ? progressBar(total) : undefined;
  const started = performance.now();
  const input = createReadStream(file);
  let kept = false;
  try {
    const rows = input.pipe(parse(csvOptions(options.delimiter)));
    let buffer = '';
    let sinceUpdate = 0;
    for await (const { record, info } of rows as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      let events;
      try {
        events = machine.row(record, info.lines);
      } catch (error) {
        if (error instanceof ImportUsageError) throw new UsageError(`${file}: ${error.message}`);
        throw error;
      }
      for (const event of events) buffer += encodeEvent(event) + '\n';
      if (options.strict && machine.problems.length > 0) break;
      // --strict to stdout holds everything until the file is known good (nothing of a refused file reaches stdout)
      if (buffer.length > 1 << 20 && !(options.strict && !temporary)) {
        if (!output.write(buffer)) await once(output, 'drain');
        buffer = '';
      }
      if (bar && ++sinceUpdate === 10_000) {
        sinceUpdate = 0;
        bar.update(input.bytesRead, { rows: machine.stats.rows });
      }
    }
    for (const event of machine.finish()) buffer += encodeEvent(event) + '\n';
    bar?.update(total, { rows: machine.stats.rows });
    bar?.stop();
    const problems = machine.problems;
    if (options.strict && problems.length > 0) {
      throw new UsageError(`${file}: ${describeProblem(problems[0])}`, '--strict refuses the whole file: nothing was written (without --strict bad rows are skipped and listed)');
    }
    output.write(buffer);
    if (temporary) {
      (output as ReturnType<typeof createWriteStream>).end();
      await once(output, 'close');
      renameSync(temporary, options.out!);
      kept = true;
    }
    const seconds = (performance.now() - started) / 1000;
    report(file, options, machine, seconds);
  } finally {
    bar?.stop();
    input.destroy();
    if (temporary && !kept) {
      (output as ReturnType<typeof createWriteStream>).destroy();
      rmSync(temporary, { force: true });
    }
  }
}


/**
 * `--trade-accounts long:700,short:300,alice --market-maker mm --seed 1` → the
 * takers (`prefix:count` expands as a scenario's population does:
 * prefix-001 … prefix-700), the maker and the seed; each trade's id is the
 * file's name and line. Undefined without --trade-accounts.
 */
export function tradeAssignmentOf(file: string, options: Pick<ImportCommandOptions, 'tradeAccounts' | 'marketMaker' | 'seed'>): TradeAssignment | undefined {
  if (options.tradeAccounts === undefined) {
    if (options.marketMaker !== undefined || options.seed !== undefined) throw new UsageError('--market-maker and --seed go with --trade-accounts (trades as TradeExecuted)');
    return undefined;
  }
  if (options.marketMaker === undefined) throw new UsageError('--trade-accounts needs --market-maker (the account on the other side of every trade)');
  const accounts: string[] = [];
  for (const entry of options.tradeAccounts.split(',')) {
    const match = /^([A-Za-z0-9][A-Za-z0-9_.:-]*):([1-9]\d{0,6})$/.exec(entry.trim());
    if (match) accounts.push(...populationAccountIds(match[1]!, Number(match[2])));
    else if (/^[^\s,]{1,128}$/.test(entry.trim())) accounts.push(entry.trim());
    else throw new UsageError(`--trade-accounts: "${entry}" is neither an account id nor prefix:count (e.g. long:700)`);
  }
  if (options.seed !== undefined && !/^\d{1,19}$/.test(options.seed)) throw new UsageError(`--seed: "${options.seed}" is not a non-negative integer`);
  return { accounts: [...new Set(accounts)], marketMaker: options.marketMaker, seed: BigInt(options.seed ?? '1'), tradeIdPrefix: basename(file).slice(0, 100) };
}


function describeProblem(problem: RowProblem): string {
  return `line ${problem.line}${problem.field ? `: ${problem.field}` : ''}: ${problem.message}`;
}

function report(file: string, options: ImportCommandOptions, machine: MarketDataImport, seconds: number): void {
  const { stats, problems } = machine;
  const span = stats.firstTime !== undefined && stats.lastTime !== undefined ? `, ${formatTimestamp(stats.firstTime)} … ${formatTimestamp(stats.lastTime)}` : '';
  const what = LAYOUTS[options.format as LayoutName].kind === 'funding' ? 'FundingRateApplied' : 'PriceUpdated';
  const written = stats.trades > 0 ? `${stats.events - stats.trades} ${what} + ${stats.trades} TradeExecuted` : `${stats.events} ${what}`;
  const lines = [
    `clearsim import ${file} (${options.format}${stats.header ? ', with a header' : ''}): ${stats.imported} of ${stats.rows - (stats.header ? 1 : 0)} rows → ${written} for ${options.instrument}${span}` +
      `${options.out ? ` → ${options.out}` : ''} in ${seconds.toFixed(2)} s (${Math.round(stats.rows / Math.max(seconds, 1e-9))} rows/s)`,
  ];
  if (stats.gaps > 0) lines.push(`  ${stats.gaps} gaps between bars (the longest ${Math.round(stats.longestGap / 1000)} s): the price holds across a gap`);
  if (problems.length > 0) {
    lines.push(`  ${problems.length} rows skipped:`);
    for (const problem of problems.slice(0, SHOWN_PROBLEMS)) lines.push(`    ${describeProblem(problem)}`);
    if (problems.length > SHOWN_PROBLEMS) lines.push(`    … ${problems.length - SHOWN_PROBLEMS} more (--strict refuses a file with any)`);
  }
  process.stderr.write(lines.join('\n') + '\n');
}

function progressBar(total: number): SingleBar {
  const bar = new SingleBar(
    { format: `importing {bar} {percentage}% of ${(total / 1e6).toFixed(1)} MB | {rows} rows | ETA {eta_formatted}`, hideCursor: true, stream: process.stderr, etaBuffer: 50 },
    Presets.shades_classic,
  );
  bar.start(Math.max(total, 1), 0, { rows: 0 });
  return bar;
}
