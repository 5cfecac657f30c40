import { fileURLToPath } from 'node:url';
import type { EventStore } from './event-store.port';
import { FileEventStore } from './file/file-event-store';
import type { KurrentDBEventStore, KurrentDBEventStoreOptions } from './kurrentdb/kurrentdb-event-store';
import { InMemoryEventStore } from './memory/in-memory-event-store';
import type { PostgresEventStore, PostgresEventStoreOptions } from './postgres/postgres-event-store';
import { DEFAULT_STORE_URL, redactUrl } from './store-url';
import { StoreUrlError } from './errors';

export { DEFAULT_STORE_URL, redactUrl };

export type StoreLocation =
  | { kind: 'file'; path: string }
  | { kind: 'postgres'; url: string }
  | { kind: 'kurrentdb'; url: string }
  | { kind: 'memory'; name: string };

const ACCEPTED = 'file:PATH (e.g. file:./data), postgres://…, postgresql://…, esdb://…, kurrentdb://…, memory:[NAME]';

/** Parses a store URL. Throws, naming the accepted forms, on anything else. */
export function parseStoreUrl(url: string = DEFAULT_STORE_URL): StoreLocation {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'file': {
      const path = url.startsWith('file://') ? filePathOfUrl(url) : url.slice('file:'.length);
      if (path === '') throw new StoreUrlError(`store URL "${url}" has no path: use file:PATH, e.g. file:./data`);
      return { kind: 'file', path };
    }
    case 'postgres':
    case 'postgresql':
      return { kind: 'postgres', url };
    case 'esdb':
    case 'kurrentdb':
      return { kind: 'kurrentdb', url };
    case 'memory':
      return { kind: 'memory', name: url.slice('memory:'.length) };
    default:
      throw new StoreUrlError(
        scheme === undefined
          ? `store URL "${redactUrl(url)}" has no scheme; accepted: ${ACCEPTED}`
          : `unknown store scheme "${scheme}:" in "${redactUrl(url)}"; accepted: ${ACCEPTED}`,
      );
  }
}

function filePathOfUrl(url: string): string {
  try {
    return fileURLToPath(url);
  } catch (error) {
    throw new StoreUrlError(`store URL "${url}" is not a valid file URL (${(error as Error).message}); use file:PATH, e.g. file:./data`);
  }
}

export interface OpenStoreOptions {
  /** Recovery notices (torn tail dropped, stale lock taken over, a snapshot ignored). */
  warn?: (message: string) => void;
  /** PostgreSQL and KurrentDB: the shard's stream, instead of the URL's `?stream=` (default `shard-0`). */
  stream?: string;
  /**
   * Open for reading only: nothing is created or modified (no directory, lock,
   * truncation or table), the writer lock is neither taken nor waited for,
   * writes are refused (ReadOnlyStoreError), the log is read as of its last
   * complete commit, and a store that does not exist or holds no event is a
   * StoreNotFoundError.
   */
  readOnly?: boolean;
}

/**
 * Opens the event store a URL names:
 * - `file:PATH` (relative to the working directory, or absolute; `file:./data`
 *   when `url` is undefined): the embedded file log, the default;
 * - `postgres://…` / `postgresql://…`: PostgreSQL (`?stream=shard-1` picks the
 *   shard's stream, `?schema=NAME` the schema; both are removed before
 *   connecting);
 * - `esdb://…` / `kurrentdb://…`: EventStoreDB / KurrentDB (`?stream=shard-1`
 *   → stream `clearsim-shard-1`; the rest is the client's connection string,
 *   e.g. `?tls=false`);
 * - `memory:` (a new empty log) / `memory:NAME` (shared by every open of that
 *   name in this process): in memory, nothing survives the process.
 * The PostgreSQL and KurrentDB drivers are loaded only when such a URL is opened.
 */
export async function openStore(url: string = DEFAULT_STORE_URL, options: OpenStoreOptions = {}): Promise<EventStore> {
  const location = parseStoreUrl(url);
  switch (location.kind) {
    case 'file':
      return FileEventStore.open(location.path, { url, warn: options.warn, readOnly: options.readOnly });
    case 'postgres':
      return openPostgresStore(url, { warn: options.warn, stream: options.stream, readOnly: options.readOnly });
    case 'kurrentdb':
      return openKurrentDBStore(url, { warn: options.warn, stream: options.stream, readOnly: options.readOnly });
    case 'memory':
      return InMemoryEventStore.open(url, { readOnly: options.readOnly });
  }
}

/** Opens a PostgreSQL event store (loading `pg` on first use). */
export async function openPostgresStore(url: string, options: PostgresEventStoreOptions = {}): Promise<PostgresEventStore> {
  const { PostgresEventStore } = await import('./postgres/postgres-event-store');
  return PostgresEventStore.open(url, options);
}

/** Opens a KurrentDB / EventStoreDB event store (loading the gRPC client on first use); it also offers `subscribe`. */
export async function openKurrentDBStore(url: string, options: KurrentDBEventStoreOptions = {}): Promise<KurrentDBEventStore> {
  const { KurrentDBEventStore } = await import('./kurrentdb/kurrentdb-event-store');
  return KurrentDBEventStore.open(url, options);
}
