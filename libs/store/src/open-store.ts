import { fileURLToPath } from 'node:url';
import type { EventStore } from './event-store.port';
import { FileEventStore } from './file/file-event-store';

/** Where the CLI keeps its log when no `--store` is given (DESIGN §5). */
export const DEFAULT_STORE_URL = 'file:./data';

export type StoreLocation =
  | { kind: 'file'; path: string }
  | { kind: 'postgres'; url: string }
  | { kind: 'kurrentdb'; url: string };

const ACCEPTED = 'file:PATH (e.g. file:./data), postgres://…, postgresql://…, esdb://…, kurrentdb://…';

/** Parses a store URL (DESIGN §5). Throws, naming the accepted forms, on anything else. */
export function parseStoreUrl(url: string = DEFAULT_STORE_URL): StoreLocation {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'file': {
      const path = url.startsWith('file://') ? filePathOfUrl(url) : url.slice('file:'.length);
      if (path === '') throw new Error(`store URL "${url}" has no path: use file:PATH, e.g. file:./data`);
      return { kind: 'file', path };
    }
    case 'postgres':
    case 'postgresql':
      return { kind: 'postgres', url };
    case 'esdb':
    case 'kurrentdb':
      return { kind: 'kurrentdb', url };
    default:
      throw new Error(
        scheme === undefined
          ? `store URL "${redactUrl(url)}" has no scheme; accepted: ${ACCEPTED}`
          : `unknown store scheme "${scheme}:" in "${redactUrl(url)}"; accepted: ${ACCEPTED}`,
      );
  }
}

/** The URL with any password replaced by `***`, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

function filePathOfUrl(url: string): string {
  try {
    return fileURLToPath(url);
  } catch (error) {
    throw new Error(`store URL "${url}" is not a valid file URL (${(error as Error).message}); use file:PATH, e.g. file:./data`);
  }
}

export interface OpenStoreOptions {
  /** Recovery notices (torn tail dropped, stale lock taken over). */
  warn?: (message: string) => void;
}

/**
 * Opens the event store a URL names: `file:PATH` (relative to the working
 * directory, or absolute; `file:./data` when `url` is undefined) is the
 * embedded file log. The PostgreSQL and KurrentDB adapters are not built yet.
 */
export async function openStore(url: string = DEFAULT_STORE_URL, options: OpenStoreOptions = {}): Promise<EventStore> {
  const location = parseStoreUrl(url);
  switch (location.kind) {
    case 'file':
      return FileEventStore.open(location.path, { url, warn: options.warn });
    case 'postgres':
      throw new Error(`store URL "${redactUrl(url)}": the PostgreSQL event store adapter is not built yet (another issue adds it); use file:PATH for now`);
    case 'kurrentdb':
      throw new Error(`store URL "${redactUrl(url)}": the EventStoreDB/KurrentDB event store adapter is not built yet (another issue adds it); use file:PATH for now`);
  }
}
