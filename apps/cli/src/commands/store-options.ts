import { openStore, type EventStore } from '@clearsim/store';

/** Opens a store from its URL (DEFAULT_STORE_URL when none), printing the store's own warnings (e.g. a torn tail it repaired) on stderr. */
export async function openStoreFromUrl(url: string | undefined): Promise<EventStore> {
  return openStore(url, { warn: (message) => process.stderr.write(`warning: ${message}\n`) });
}
