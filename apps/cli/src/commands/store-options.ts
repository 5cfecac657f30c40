import { InputError } from '@clearsim/events';
import { openStore, type EventStore } from '@clearsim/store';

export const DEFAULT_STORE = 'file:./data';

/** Opens a store from its URL, printing the store's own warnings (e.g. a torn tail it repaired) on stderr. */
export async function openStoreFromUrl(url: string | undefined): Promise<EventStore> {
  return openStore(url ?? DEFAULT_STORE, { warn: (message) => process.stderr.write(`warning: ${message}\n`) });
}

export function isBadInput(error: unknown): boolean {
  return error instanceof InputError;
}
