import { escapeControls } from '../output/display-text';
import { TextTable } from '../output/text-table';
import { verifyLog } from '@clearsim/shard';
import { EXIT_RUNTIME } from '../cli-error';
import { openStoreFromUrl } from './store-options';

/** `clearsim verify`: re-decides every input of the log and fails (exit 1) on any mismatch. */
export async function verifyCommand(options: { store?: string; json?: boolean }): Promise<number> {
  const store = await openStoreFromUrl(options.store, { readOnly: true });
  try {
    const report = await verifyLog(store);
    const ok = report.mismatches.length === 0 && report.invariantViolations.length === 0 && report.snapshot?.matches !== false;
    if (options.json) {
      process.stdout.write(JSON.stringify({ store: store.url, ok, ...report }) + '\n');
    } else {
      // the title (it carries the store's path) above the table, as run and replay print theirs: the table is as wide as the hash
      const table = new TextTable();
      table.push(['events', String(report.events)], ['inputs re-decided', String(report.inputs)], ['logged decisions', String(report.decisions)], ['outputHash', report.outputHash], ['snapshot', report.snapshot === null ? 'none' : `position ${report.snapshot.position}: ${report.snapshot.matches ? 'equals the re-simulated state' : 'DIFFERS from the re-simulated state'}`], ['result', ok ? 'OK: every logged decision is what the rules decide' : 'MISMATCH']);
      process.stdout.write(`clearsim verify ${escapeControls(store.url)}\n${table.toString()}\n`);
      // the decisions are JSON lines and the invariants' messages name ids as they are: their control characters escaped
      for (const m of report.mismatches) {
        process.stdout.write(`position ${m.position}:\n  logged:  ${escapeControls(m.logged ?? '(nothing)')}\n  decided: ${escapeControls(m.decided ?? '(nothing)')}\n`);
      }
      for (const v of report.invariantViolations) process.stdout.write(`invariant: ${escapeControls(v)}\n`);
    }
    return ok ? 0 : EXIT_RUNTIME;
  } finally {
    await store.close();
  }
}
