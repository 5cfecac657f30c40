import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { encodeEvent, type DecisionEvent } from '@clearsim/events';
import { ShardRunner } from '@clearsim/shard';
import { EVENTS_FILE, parseStoreUrl, SNAPSHOTS_DIR } from '@clearsim/store';
import { openInput } from '../io/input-source';
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
 * inputs and decisions to the store — all of it, or (on a refused input)
 * nothing.
 */
export async function runCommand(file: string, options: RunOptions): Promise<void> {
  const source = openInput(file, options.rules);
  // output folders first: a run must not fail after its append for want of a directory
  for (const output of [options.decisions, options.report]) if (output) mkdirSync(dirname(output), { recursive: true });
  if (options.reset) resetStore(options.store);
  const store = await openStoreFromUrl(options.store);
  try {
    const runner = await ShardRunner.open(store);
    const startHead = runner.head;
    const bar = options.progress !== false && !options.json && process.stderr.isTTY ? new SingleBar({ format: 'clearing {bar} {value} inputs | {rate} inputs/s', hideCursor: true, stream: process.stderr }, Presets.shades_classic) : undefined;
    const started = performance.now();
    bar?.start(0, 0, { rate: 0 });
    const result = await runner.run(source.inputs, (done) => {
      bar?.setTotal(done);
      bar?.update(done, { rate: Math.round(done / ((performance.now() - started) / 1000)) });
    });
    bar?.stop();
    if (options.snapshot) await runner.snapshot();
    const seconds = (performance.now() - started) / 1000;
    if (options.decisions) writeFileSync(options.decisions, result.decisions.map((d) => encodeEvent(d) + '\n').join(''));
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
    const byType = countByType(result.decisions as DecisionEvent[]);
    if (byType) process.stdout.write(`decisions of this run: ${byType}\n`);
  } finally {
    await store.close();
  }
}

function countByType(decisions: DecisionEvent[]): string {
  const counts = new Map<string, number>();
  for (const d of decisions) counts.set(d.type, (counts.get(d.type) ?? 0) + 1);
  return [...counts].map(([type, n]) => `${type} ${n}`).join(', ');
}

/** `--reset` deletes a file store's log (and its snapshots) before the run (so an example can be re-run from scratch). */
function resetStore(url: string | undefined): void {
  const location = parseStoreUrl(url);
  if (location.kind !== 'file') throw new UsageError('--reset only applies to file: stores');
  rmSync(join(location.path, EVENTS_FILE), { force: true });
  rmSync(join(location.path, SNAPSHOTS_DIR), { recursive: true, force: true });
}
