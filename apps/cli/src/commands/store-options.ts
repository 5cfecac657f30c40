import { openStore, type EventStore } from '@clearsim/store';
import { escapeControls } from '../output/display-text';

/**
 * Opens a store from its URL (DEFAULT_STORE_URL when none), printing the store's own warnings (e.g. a torn tail it
 * repaired) on stderr. `readOnly` (the inspection commands): the store's bytes are never changed, the writer lock is
 * not taken (so it works while `run` or `serve` writes), and a store that does not exist or is empty is a
 * StoreNotFoundError instead of being created.
 */
export async function openStoreFromUrl(url: string | undefined, options: { readOnly?: boolean } = {}): Promise<EventStore> {
  return openStore(url, { warn: (message) => process.stderr.write(`warning: ${escapeControls(message)}\n`), readOnly: options.readOnly });
}
