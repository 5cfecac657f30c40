import { closeSync, createReadStream, createWriteStream, fstatSync, openSync, renameSync, rmdirSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { parse, type Info, type Options } from 'csv-parse';
import { SingleBar, Presets } from 'cli-progress';
import { encodeEvent, formatTimestamp, InputError } from '@clearsim/events';
import { CsvPosition, ImportUsageError, isCsvParseError, KEPT_PROBLEMS, LAYOUTS, MarketDataImport, NulByteScan, nulByteProblem, type LayoutName, type RowProblem, type TradeAssignment } from '@clearsim/market-data';
import { populationAccountIds } from '@clearsim/scenario';
import { makeDirectoriesSync } from '@clearsim/store/directories';
import { UsageError } from '../cli-error';
import { csvOptions, importOptionsOf, type ImportCommandOptions } from '../io/import-options';
import { cleanUpOnInterrupt, temporaryBeside } from '../io/pending-file';
import { escapeControls } from '../output/display-text';



/**
 * `clearsim import`: an exchange's data file → input JSONL (PriceUpdated
 * marks or FundingRateApplied), streamed row by row (files of millions of
 * rows in constant memory). Bad rows are reported by line and skipped, or,
 * with `--strict`, refuse the file: then nothing is written. The output is
 * written to a temporary file renamed when complete, so a failed import never
 * leaves half a file under the name asked for.
 *
 * Every mistake of usage — the options, the input path, the output path — is
 * refused (exit 2) before a byte is read or a file made, so a refused import
 * leaves nothing behind.
 */
export async function importCommand(file: string, options: ImportCommandOptions): Promise<void> {
  const importOptions = { ...importOptionsOf(options), trades: tradeAssignmentOf(file, options) };
  const parserOptions = csvOptions(options.delimiter);
  let machine: MarketDataImport;
  try {
    machine = new MarketDataImport(importOptions);
  } catch (error) {
    if (error instanceof ImportUsageError) throw new UsageError(error.message);
    throw error;
  }
  const target = options.out === undefined ? undefined : outputTarget(options.out);
  const source = openInput(file);
  const output = target ? openOutput(target, source.fd) : undefined;
  // Ctrl-C or a kill while writing: the temporary goes (and folders made for it), then the signal ends the process
  // as it would have (a temporary beside the target was left for every interrupted import)
  const stopWatching = output?.temporary ? cleanUpOnInterrupt(() => output.discard()) : undefined;
  const stream = output?.stream ?? process.stdout;
  // --strict to stdout (or to a device or pipe, written in place) holds everything until the file is known good: nothing of a refused file reaches it
  const holds = options.strict === true && !output?.temporary;
  const bar = options.progress !== false && process.stderr.isTTY ? progressBar(source.size) : undefined;
  const started = performance.now();
  const input = createReadStream('', { fd: source.fd });
  // not destroyed by its own error: the loop below reads every record the parser made before it failed, then the
  // error (a destroyed stream's buffered records are dropped), so the position names the right line
  const parser = parse({ ...parserOptions, autoDestroy: false } as Options);
  const position = new CsvPosition();
  // a binary file (a zip, /dev/zero) is refused at its first NUL byte, before the parser sees it
  const text = textOnly();
  // pipe() does not pass the reader's errors on: unforwarded, one (EIO, say) would be an unhandled 'error' event
  input.on('error', (error) => parser.destroy(error));
  text.on('error', (error) => parser.destroy(error));
  let kept = false;
  try {
    const rows = input.pipe(text).pipe(parser);
    let buffer = '';
    let sinceUpdate = 0;
    try {
      for await (const { record, info } of rows as AsyncIterable<{ record: string[]; info: Info }>) {
        position.record(info);
        let events;
        try {
          events = machine.row(record, info.lines);
        } catch (error) {
          if (error instanceof ImportUsageError) throw new UsageError(`${file}: ${error.message}`);
          // an event the log refuses is the importer's to catch as a bad row; should one get through, it is still this file's line, not a store's "nothing was appended"
          if (error instanceof InputError) throw new UsageError(`${file}: line ${info.lines}: ${error.message}`);
          throw error;
        }
        for (const event of events) buffer += encodeEvent(event) + '\n';
        if (options.strict && machine.problems.length > 0) break;
        if (buffer.length > 1 << 20 && !holds) {
          await write(stream, buffer, output?.failure);
          buffer = '';
        }
        if (bar && ++sinceUpdate === 10_000) {
          sinceUpdate = 0;
          bar.update(input.bytesRead, { rows: machine.stats.rows });
        }
      }
    } catch (error) {
      // what the CSV reader cannot skip row by row (a quote never closed): this file's line, exit 2
      if (isCsvParseError(error)) throw new UsageError(`${file}: ${position.describe(error)}`);
      if (error instanceof NulByteFound) throw new UsageError(`${file}: ${nulByteProblem(error.line)}`);
      throw error;
    }
    for (const event of machine.finish()) buffer += encodeEvent(event) + '\n';
    bar?.update(source.size, { rows: machine.stats.rows });
    bar?.stop();
    const problems = machine.problems;
    if (options.strict && problems.length > 0) {
      throw new UsageError(`${file}: ${describeProblem(problems[0])}`, '--strict refuses the whole file: nothing was written (without --strict bad rows are skipped and listed)');
    }
    // a file that gives no event is not the exchange data asked for (an empty download, a header alone, a JSON file
    // whose one line read as a header, every row bad): refused, rather than an empty output and exit 0
    if (machine.stats.events === 0) throw noEvents(file, machine);
    if (output) {
      await write(stream, buffer, output.failure);
      await output.close();
      if (output.temporary) renameSync(output.temporary, target!.path);
      kept = true;
    } else {
      stream.write(buffer);
    }
    const seconds = (performance.now() - started) / 1000;
    report(file, options, machine, seconds);
  } finally {
    stopWatching?.();
    bar?.stop();
    input.destroy();
    text.destroy();
    parser.destroy();
    if (output && !kept) output.discard();
  }
}

/** The error textOnly's stream fails with: the file's first NUL byte is on `line`. */
class NulByteFound extends Error {
  constructor(readonly line: number) {
    super(nulByteProblem(line));
  }
}

/**
 * A pass-through of the file's bytes that fails (NulByteFound) at the chunk holding its first NUL byte, which no
 * CSV or text file holds: the chunks before it went on to the parser, that one and the rest do not.
 */
function textOnly(): Transform {
  const scan = new NulByteScan();
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const line = scan.feed(chunk);
      if (line === undefined) done(null, chunk);
      else done(new NulByteFound(line));
    },
  });
}

/** Where `--out` goes: a new or regular file (written through a temporary renamed at the end), or an existing device or pipe (written in place). */
interface OutputTarget {
  path: string;
  /** An existing file that is not a regular one (/dev/null, a named pipe): renaming a temporary over it would replace it. */
  inPlace: boolean;
}

/**
 * Checks `--out` before anything is read: a file, in a directory or in a path
 * still to be made (no directory named, no regular file on the way). What the
 * file system refuses when it is made (no permission) is refused at openOutput.
 */
function outputTarget(out: string): OutputTarget {
  if (out === '') throw new UsageError('--out: must not be empty (without --out the events go to stdout)');
  const existing = statOrUndefined(out);
  if (existing?.isDirectory() || /[\\/]$/.test(out)) {
    throw new UsageError(`--out: ${out} is a directory, not a file to write`, `name a file in it, e.g. --out ${join(out, 'events.jsonl')}`);
  }
  if (existing) return { path: out, inPlace: !existing.isFile() };
  // the nearest part of the path that exists must be a directory (the rest is made): --out /etc/hostname/x.jsonl cannot be
  for (let parent = dirname(resolve(out)); ; parent = dirname(parent)) {
    const stat = statOrUndefined(parent);
    if (stat?.isDirectory()) break;
    if (stat) throw new UsageError(`--out: ${out} cannot be made: ${parent} is a file, not a directory`);
    if (dirname(parent) === parent) break;
  }
  return { path: out, inPlace: false };
}

interface Output {
  stream: WriteStream;
  /** The temporary written and renamed over the target at the end; undefined when written in place. */
  temporary?: string;
  /** The first error of the stream (a full disk), thrown at the next write or at close. */
  failure: { error?: Error };
  close(): Promise<void>;
  /** After a failure: removes the temporary and the directories made for it. */
  discard(): void;
}

/**
 * Makes the output: the directories --out names that do not exist yet, then a
 * temporary beside the target (exclusively created: never another's file),
 * renamed over the target when the import succeeds and removed, with the
 * directories made, when it does not. An existing device or pipe is opened in
 * place. The system's refusals (no permission) are usage errors naming --out.
 */
function openOutput(target: OutputTarget, inputFd: number): Output {
  const failure: { error?: Error } = {};
  const refuse = (error: unknown, what: string): never => {
    closeSync(inputFd);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new UsageError(`--out: ${what}: permission denied`);
    if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR' || code === 'ENAMETOOLONG' || code === 'ENOENT') throw new UsageError(`--out: ${what}: ${(error as Error).message}`);
    throw error;
  };
  if (target.inPlace) {
    let fd: number;
    try {
      fd = openSync(target.path, 'w');
    } catch (error) {
      return refuse(error, `cannot write ${target.path}`);
    }
    const stream = createWriteStream('', { fd });
    stream.on('error', (error) => (failure.error ??= error));
    return { stream, failure, close: () => closeStream(stream, failure), discard: () => stream.destroy() };
  }
  const directory = dirname(target.path);
  let made: string | undefined;
  try {
    // folder by folder: Node's recursive mkdir never returns on a file system that refuses the folder (/proc)
    made = makeDirectoriesSync(directory);
  } catch (error) {
    return refuse(error, `cannot make the directory ${directory}`);
  }
  const temporary = temporaryBeside(target.path);
  let fd: number;
  try {
    fd = openSync(temporary, 'wx');
  } catch (error) {
    removeMade(made, directory);
    return refuse(error, `cannot write in ${directory}`);
  }
  const stream = createWriteStream('', { fd });
  stream.on('error', (error) => (failure.error ??= error));
  return {
    stream,
    temporary,
    failure,
    close: () => closeStream(stream, failure),
    discard: () => {
      stream.destroy();
      rmSync(temporary, { force: true });
      removeMade(made, directory);
    },
  };
}

/** Removes the directories makeDirectoriesSync made (from `made`, the first, down to `directory`) if they are empty again. */
function removeMade(made: string | undefined, directory: string): void {
  if (made === undefined) return;
  for (let dir = resolve(directory); ; dir = dirname(dir)) {
    try {
      rmdirSync(dir);
    } catch {
      return; // not empty (another's file): leave it, and those above it
    }
    if (dir === resolve(made) || dirname(dir) === dir) return;
  }
}

/** Writes, waiting while the stream is full; the stream's error (ENOSPC, say) is thrown rather than left unhandled. */
async function write(stream: NodeJS.WritableStream, text: string, failure: { error?: Error } | undefined): Promise<void> {
  if (failure?.error) throw failure.error;
  if (text === '' || stream.write(text)) return;
  await new Promise<void>((done, fail) => {
    const settle = () => {
      stream.off('drain', settle);
      stream.off('close', settle);
      stream.off('error', settle);
      if (failure?.error) fail(failure.error);
      else done();
    };
    stream.on('drain', settle);
    stream.on('close', settle);
    stream.on('error', settle);
  });
}

/** Ends the stream and waits until all is written: its error (now or earlier) is thrown. */
async function closeStream(stream: WriteStream, failure: { error?: Error }): Promise<void> {
  if (failure.error) throw failure.error;
  stream.end();
  await finished(stream);
}

/**
 * Opens the input before anything is read: a path that does not exist, a
 * directory, or a file that cannot be read is a usage error naming it (not a
 * stream's unhandled EISDIR). Returns the open file, read through its
 * descriptor so what was checked is what is read.
 */
function openInput(file: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UsageError(`input file not found: ${file}`);
    if (code === 'EACCES' || code === 'EPERM') throw new UsageError(`cannot read ${file}: permission denied`);
    if (code === 'EISDIR') throw new UsageError(`${file} is a directory, not a data file`);
    if (code === 'ELOOP' || code === 'ENAMETOOLONG') throw new UsageError(`cannot open ${file}: ${(error as Error).message}`);
    throw error;
  }
  const stat = fstatSync(fd);
  // Linux opens a directory for reading; the first read fails (EISDIR)
  if (stat.isDirectory()) {
    closeSync(fd);
    throw new UsageError(`${file} is a directory, not a data file`, 'name a CSV file in it');
  }
  return { fd, size: stat.size };
}

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'EACCES' || code === 'EPERM') throw new UsageError(`--out: cannot write ${path}: permission denied`);
    throw error;
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


/** Why a file gave no event: no data row at all, or none that could be imported (the first bad row named). */
function noEvents(file: string, machine: MarketDataImport): UsageError {
  const { rows, header } = machine.stats;
  const hint = 'nothing was written';
  if (rows === 0) return new UsageError(`${file}: no rows: the file is empty`, hint);
  if (rows === 1 && header) return new UsageError(`${file}: no rows: line 1 is a header (its time cell is not a time) and no row follows`, hint);
  const problems = machine.problems;
  return new UsageError(`${file}: no row could be imported (${machine.problemCount} bad): ${describeProblem(problems[0]!)}`, hint);
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
  const count = machine.problemCount;
  if (count > 0) {
    // the first KEPT_PROBLEMS are kept (and shown), the rest counted
    lines.push(`  ${count} rows skipped:`);
    for (const problem of problems) lines.push(`    ${describeProblem(problem)}`);
    if (count > KEPT_PROBLEMS) lines.push(`    … ${count - KEPT_PROBLEMS} more (--strict refuses a file with any)`);
  }
  // the skipped rows' problems quote the file's cells: their control characters escaped
  process.stderr.write(escapeControls(lines.join('\n')) + '\n');
}

function progressBar(total: number): SingleBar {
  const bar = new SingleBar(
    { format: `importing {bar} {percentage}% of ${(total / 1e6).toFixed(1)} MB | {rows} rows | ETA {eta_formatted}`, hideCursor: true, stream: process.stderr, etaBuffer: 50 },
    Presets.shades_classic,
  );
  bar.start(Math.max(total, 1), 0, { rows: 0 });
  return bar;
}
