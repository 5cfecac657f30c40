import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { SingleBar, Presets } from 'cli-progress';
import { encodeEvent, InputError } from '@clearsim/events';
import { ShardRunner } from '@clearsim/shard';
import { DEFAULT_STORE_URL, parseStoreUrl, resetFileStore } from '@clearsim/store';
import { openInput, type InputSource } from '../io/input-source';
import { logThreadWanted } from '../io/log-thread';
import { prepareOutputFile } from '../io/file-paths';
import { PendingFile } from '../io/pending-file';
import { InterestingAccounts } from '../output/report-data';
import { writeJsonSummary } from '../output/summary-json';
import { ACCOUNT_ROWS, renderSummary } from '../output/summary-table';
import { displayText, escapeControls } from '../output/display-text';
import { openStoreFromUrl } from './store-options';
import { UsageError, withHint } from '../cli-error';

export interface RunOptions {
  rules?: string;
  store?: string;
  decisions?: string;
  report?: string;
  json?: boolean;
  reset?: boolean;
  progress?: boolean;
  snapshot?: boolean;
}

/**
 * `clearsim run`: feeds the inputs through the clearing core and appends
 * inputs and decisions to the store — all of it, or (on a refused input, an
 * error or a crash) nothing. The runner streams: it decides and appends a
 * chunk at a time inside one store transaction, so memory follows the state,
 * not the input; `--decisions` is written as the chunks are decided, to a
 * temporary file renamed once the run is committed (removed if it is not).
 */
export async function runCommand(file: string, options: RunOptions): Promise<void> {
  const chunkEvents = chunkEventsOf(process.env[CHUNK_ENV]);
  limitHeapGrowth();
  // the decode thread (a JSONL file's lines) starts here: stopped below however the run ends
  const source = openInput(file, options.rules, { decodeThread: true, logThread: logThreadWanted() });
  try {
    await runFrom(source, options, chunkEvents);
  } finally {
    await source.close();
  }
}

async function runFrom(source: InputSource, options: RunOptions, chunkEvents: number | undefined): Promise<void> {
  // output paths first: a run must not fail after its append for want of a directory, or on a path that is one
  if (options.decisions) prepareOutputFile('--decisions', options.decisions);
  if (options.report) prepareOutputFile('--report', options.report);
  if (options.reset) await resetStore(options.store);
  // a file store this run creates (its folder absent or empty): a run that commits nothing leaves no store behind
  const created = newFileStore(options.store);
  let committed = false;
  let store: Awaited<ReturnType<typeof openStoreFromUrl>>;
  try {
    store = await openStoreFromUrl(options.store);
  } catch (error) {
    // an open that failed after making the store's folders (a name too long below them…) leaves none behind either
    if (created) removeNewFileStore(created);
    throw error;
  }
  let decisionsFile: PendingFile | undefined;
  try {
    decisionsFile = options.decisions ? new PendingFile(options.decisions) : undefined;
    const runner = await ShardRunner.open(store);
    const startHead = runner.head;
    const bar = options.progress !== false && !options.json && process.stderr.isTTY ? progressBar(source) : undefined;
    const started = performance.now();
    const rate = (inputs: number) => Math.round(inputs / Math.max((performance.now() - started) / 1000, 1e-9));
    const deficits = new Map<string, bigint>();
    // the report's per-account timelines follow the accounts this run decided about (report-data.ts, InterestingAccounts)
    const interesting = options.report ? new InterestingAccounts() : undefined;
    let result;
    try {
      result = await runner.runBatches(source.batches, {
        chunkEvents,
        // the log's lines built, chained and written by the decode thread, which waits for the main thread anyway;
        // it encodes the decisions for them and hashes them into the outputHash there too
        wrapTransaction: source.writeLog,
        decisionsHashedByTransaction: source.writeLog !== undefined,
        onProgress: (done) => bar?.update(source.progress().done, { inputs: done, rate: rate(done), phase: 'deciding' }),
        onCommitting: (done) => bar?.update(source.progress().total, { inputs: done, rate: rate(done), phase: 'committing' }),
        onDecisions: (decisions) => {
          // a bankrupt account's equity is 0 after its close-out: the table shows what it could not pay instead
          for (const d of decisions) if (d.type === 'AccountBankrupted') deficits.set(d.account, (deficits.get(d.account) ?? 0n) + d.deficit);
          interesting?.note(decisions);
          if (decisionsFile) decisionsFile.write(decisions.map((d) => encodeEvent(d) + '\n').join(''));
        },
      });
    } catch (error) {
      if (error instanceof InputError && startHead > 0 && error.line === 1) {
        // the usual cause in a first hour: an example run twice into the same ./data (refused at its first line, older
        // than the store's clock); a refusal further on is of that line, and appending to a store is legal
        const reset = parseStoreUrl(store.url).kind === 'file' ? 'add --reset to start over, or ' : '';
        throw withHint(error, `nothing was appended; ${store.url} already held ${startHead} events before this run: ${reset}use another --store`);
      }
      throw error;
    } finally {
      bar?.stop();
    }
    committed = true;
    decisionsFile?.keep();
    if (options.snapshot) await runner.snapshot();
    const seconds = (performance.now() - started) / 1000;
    if (options.report) {
      // the last phase after deciding and committing: say so on a terminal (a large log's report takes a while)
      if (bar) process.stderr.write(`report: reading the log back for ${escapeControls(options.report)}…\n`);
      const { writeReport } = await import('../output/html-report');
      await writeReport(options.report, store, { title: source.description, tracked: interesting!.select(runner.engine), lastTs: runner.engine.state.clock, accounts: runner.engine.state.ledger.accounts.size });
    }
    const violations = runner.engine.invariantViolations();
    if (violations.length > 0) throw new Error(`invariant violated after the run: ${violations.join('; ')}`);
    // the accounts are streamed (--json) or ranked keeping only the table's rows: never every account's view at once
    if (options.json) {
      writeJsonSummary({ store: store.url, appended: result.appended, fromPosition: startHead + 1, head: result.head }, runner.engine);
      return;
    }
    process.stdout.write(
      renderSummary(runner.engine.summary({ accounts: false }), runner.engine.accountsInTrouble(ACCOUNT_ROWS), {
        title: `clearsim run ${source.description}`,
        deficits,
        extra: [
          ['store', `${displayText(store.url)} (positions ${startHead + 1}..${result.head})`],
          ['throughput', `${result.inputsAccepted} inputs in ${seconds.toFixed(2)} s (${Math.round(result.inputsAccepted / Math.max(seconds, 1e-9))} inputs/s)`],
        ],
      }),
    );
    const byType = Object.entries(result.decisionsByType)
      .map(([type, n]) => `${type} ${n}`)
      .join(', ');
    if (byType) process.stdout.write(wrap(`decisions of this run: ${byType}`, 100));
    if (options.decisions) process.stdout.write(`decisions written to ${escapeControls(options.decisions)}\n`);
    if (options.report) process.stdout.write(`report written to ${escapeControls(options.report)} (open it in a browser)\n`);
  } finally {
    decisionsFile?.discard();
    await store.close();
    if (!committed && created) removeNewFileStore(created);
  }
}

/**
 * A file store's folder before the run, when the run would create the store: absent (`path`: the outermost folder
 * of it that does not exist yet, which the run makes with the folders below it), or present and empty.
 */
function newFileStore(url: string | undefined): { path: string; existed: boolean } | undefined {
  const location = parseStoreUrl(url ?? DEFAULT_STORE_URL);
  if (location.kind !== 'file') return undefined;
  if (!existsSync(location.path)) {
    let outermost = resolve(location.path);
    while (dirname(outermost) !== outermost && !existsSync(dirname(outermost))) outermost = dirname(outermost);
    return { path: outermost, existed: false };
  }
  try {
    return statSync(location.path).isDirectory() && readdirSync(location.path).length === 0 ? { path: location.path, existed: true } : undefined;
  } catch {
    return undefined;
  }
}

/** Removes what a run that committed nothing created of a new file store: its folder, or what it put in an empty one. */
function removeNewFileStore(created: { path: string; existed: boolean }): void {
  try {
    if (!created.existed) rmSync(created.path, { recursive: true, force: true });
    else for (const entry of readdirSync(created.path)) rmSync(join(created.path, entry), { recursive: true, force: true });
  } catch (error) {
    process.stderr.write(escapeControls(`warning: the store ${created.path} this run created could not be removed: ${(error as Error).message}\n`));
  }
}

/** Folds a list of comma-separated items between items so no line is longer than `width` (continuations indented). */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const item of text.split(', ')) {
    if (line !== '' && line.length + 2 + item.length > width) {
      lines.push(`${line},`);
      line = `  ${item}`;
    } else line = line === '' ? item : `${line}, ${item}`;
  }
  return [...lines, line].join('\n') + '\n';
}

/**
 * How far V8 may let the heap grow past what the last full collection kept,
 * in percent. Left to itself V8 lets the heap grow by up to 300 % (the next
 * full collection at 4× the live heap). A run's garbage is short-lived, but
 * some of it is promoted all the same, and over a long log the old generation
 * fills with it up to that 4× before each full collection: a 10^7-event day
 * over a 35 MB state peaked at ~145 MB of heap, a 10^6-event day ends before
 * reaching it (docs/performance.md, B1-scale); with a million one-position
 * accounts (≈ 500 MB of state) V8's default, not the state, decided the peak
 * RSS (B7). So a run caps it at 25 % from its start (a full collection then
 * marks ~35 MB, a few ms): against 35 % until the state was large, the
 * 10^6-event day's time is the same (14 paired runs: CPU 1.000×) and the
 * 10^7-event day peaks ~5 MiB lower. The flag is V8's own, read at every
 * collection; node started with its own --heap-growing-percent keeps it.
 */
export const HEAP_GROWTH_PERCENT = 25;

function limitHeapGrowth(): void {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((flag) => /^--heap[-_]growing[-_]percent\b/.test(flag));
  if (!given) setFlagsFromString(`--heap-growing-percent=${HEAP_GROWTH_PERCENT}`);
}

/** Events per chunk of the run's transaction, for tests that need several chunks from a small input (crash tests). */
export const CHUNK_ENV = 'CLEARSIM_RUN_CHUNK_EVENTS';

function chunkEventsOf(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new UsageError(`${CHUNK_ENV}: "${text}" is not a whole number from 1 to 999999999`);
  return Number(text);
}

/** The bar: how much of the input is read (bytes of a file, events of a scenario) → percentage and ETA; then "committing". */
function progressBar(source: InputSource): SingleBar {
  const { total, unit } = source.progress();
  const bar = new SingleBar(
    { format: `{phase} {bar} {percentage}% of ${unit === 'bytes' ? `${(total / 1e6).toFixed(1)} MB` : `${total} events`} | {inputs} inputs | {rate} inputs/s | ETA {eta_formatted}`, hideCursor: true, stream: process.stderr, etaBuffer: 50 },
    Presets.shades_classic,
  );
  bar.start(Math.max(total, 1), 0, { phase: 'deciding', inputs: 0, rate: 0 });
  return bar;
}

/**
 * `--reset` deletes a file store's log, its HEAD and its snapshots before the run (so an example can be re-run from
 * scratch), under the store's writer lock: a store that `serve` or another `run` is writing is refused, not emptied.
 */
async function resetStore(url: string | undefined): Promise<void> {
  const location = parseStoreUrl(url);
  if (location.kind !== 'file') throw new UsageError('--reset only applies to file: stores');
  await resetFileStore(location.path, `event store ${url ?? DEFAULT_STORE_URL}`, (message) => process.stderr.write(`warning: ${escapeControls(message)}\n`));
}
