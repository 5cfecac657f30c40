import { formatTimestamp } from '@clearsim/events';
import { ShardRunner } from '@clearsim/shard';
import { parseAt } from '../io/at-option';
import { writeJsonSummary } from '../output/summary-json';
import { ACCOUNT_ROWS, renderSummary } from '../output/summary-table';
import { openStoreFromUrl } from './store-options';

/** `clearsim replay`: rebuilds every account from the log, deciding nothing. */
export async function replayCommand(options: { store?: string; at?: string; json?: boolean }): Promise<void> {
  const at = parseAt(options.at);
  const store = await openStoreFromUrl(options.store, { readOnly: true });
  try {
    const started = performance.now();
    const runner = await ShardRunner.open(store, { at });
    const seconds = (performance.now() - started) / 1000;
    if (options.json) {
      writeJsonSummary({ store: store.url, position: runner.head, at: at === undefined ? null : formatTimestamp(at) }, runner.engine);
      return;
    }
    process.stdout.write(
      renderSummary(runner.engine.summary({ accounts: false }), runner.engine.accountsInTrouble(ACCOUNT_ROWS), {
        title: `clearsim replay ${store.url}${at === undefined ? '' : ` --at ${formatTimestamp(at)}`}`,
        extra: [['replayed', `${runner.head} events in ${seconds.toFixed(2)} s`]],
      }),
    );
  } finally {
    await store.close();
  }
}
