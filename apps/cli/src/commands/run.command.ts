import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { encodeEvent } from '@clearsim/events';
import { ShardRunner } from '@clearsim/shard';
import { EVENTS_FILE, HEAD_FILE, parseStoreUrl, SNAPSHOTS_DIR } from '@clearsim/store';
import { openInput, type InputSource } from '../io/input-source';
import { renderSummary } from '../output/summary-table';
import { openStoreFromUrl } from './store-options';
import { UsageError } from '../cli-error';

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
  const source = openInput(file, options.rules);
  // output folders first: a run must not fail after its append for want of a directory
  for (const output of [options.decisions, options.report]) if (output) mkdirSync(dirname(output), { recursive: true });
  if (options.reset) resetStore(options.store);
  const store = await openStoreFromUrl(options.store);
  const decisionsFile = options.decisions ? new PendingFile(options.decisions) : undefined;
  try {
    const runner = await ShardRunner.open(store);
    const startHead = runner.head;
    const bar = options.progress !== false && !options.json && process.stderr.isTTY ? progressBar(source) : undefined;
    const started = performance.now();
    const rate = (inputs: number) => Math.round(inputs / Math.max((performance.now() - started) / 1000, 1e-9));
    let result;
    try {
      result = await runner.runBatches(source.batches, {
        chunkEvents,
        onProgress: (done) => bar?.update(source.progress().done, { inputs: done, rate: rate(done), phase: 'deciding' }),
        onCommitting: (done) => bar?.update(source.progress().total, { inputs: done, rate: rate(done), phase: 'committing' }),
        onDecisions: decisionsFile ? (decisions) => decisionsFile.write(decisions.map((d) => encodeEvent(d) + '\n').join('')) : undefined,
      });
    } finally {
      bar?.stop();
    }
    decisionsFile?.keep();
    if (options.snapshot) await runner.snapshot();
    const seconds = (performance.now() - started) / 1000;
    if (options.report) {
      const { writeReport } = await import('../output/html-report');
      await writeReport(options.report, store, { title: source.description });
    }
    const summary = runner.engine.summary();
    const violations = runner.engine.invariantViolations();
    if (violations.length > 0) throw new Error(`invariant violated after the run: ${violations.join('; ')}`);
    if (options.json) {
      process.stdout.write(JSON.stringify({ store: store.url, appended: result.appended, fromPosition: startHead + 1, head: result.head, ...summary }) + '\n');
      return;
    }
    process.stdout.write(
      renderSummary(summary, {
        title: `clearsim run ${source.description}`,
        extra: [
          ['store', `${store.url} (positions ${startHead + 1}..${result.head})`],
          ['throughput', `${result.inputsAccepted} inputs in ${seconds.toFixed(2)} s (${Math.round(result.inputsAccepted / Math.max(seconds, 1e-9))} inputs/s)`],
        ],
      }),
    );
    const byType = Object.entries(result.decisionsByType)
      .map(([type, n]) => `${type} ${n}`)
      .join(', ');
    if (byType) process.stdout.write(`decisions of this run: ${byType}\n`);
  } finally {
    decisionsFile?.discard();
    await store.close();
  }
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

/** `--decisions FILE` as it is written: a temporary file beside it, renamed to FILE by `keep`, removed by `discard` if not kept. */
class PendingFile {
  private readonly temporary: string;
  private fd: number | undefined;

  constructor(private readonly path: string) {
    this.temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    this.fd = openSync(this.temporary, 'w');
  }

  write(text: string): void {
    writeFileSync(this.fd!, text);
  }

  keep(): void {
    closeSync(this.fd!);
    this.fd = undefined;
    renameSync(this.temporary, this.path);
  }

  discard(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.temporary, { force: true });
  }
}

/** `--reset` deletes a file store's log, its HEAD and its snapshots before the run (so an example can be re-run from scratch). */
function resetStore(url: string | undefined): void {
  const location = parseStoreUrl(url);
  if (location.kind !== 'file') throw new UsageError('--reset only applies to file: stores');
  rmSync(join(location.path, EVENTS_FILE), { force: true });
  rmSync(join(location.path, HEAD_FILE), { force: true });
  rmSync(join(location.path, SNAPSHOTS_DIR), { recursive: true, force: true });
}
