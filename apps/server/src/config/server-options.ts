import type { ApiKey } from '../auth/api-keys';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Everything `createServer` needs; the CLI's `serve` and the e2e tests build it. */
export interface ServerOptions {
  /** Event store URL (`file:PATH`, …), as for `clearsim run`. */
  store: string;
  /** TCP port; 0 picks a free one (tests). Default 8080. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Who may call the API (see auth/api-keys.ts). No keys: every guarded route answers 401. */
  apiKeys: readonly ApiKey[];
  /** Save a snapshot every this many appended events (0: never). Default 10,000. */
  snapshotEvery?: number;
  /** JSON log level (pino). Default info; tests use silent. */
  logLevel?: LogLevel;
  /** Collect prom-client's default process metrics. Default true. */
  processMetrics?: boolean;
  /** Close gracefully on SIGINT/SIGTERM (Nest shutdown hooks, then exit 0). Default true; tests turn it off. */
  shutdownHooks?: boolean;
  /** Most inputs one batch may carry. Default 10,000. */
  maxBatch?: number;
}

/** Injection token of the ServerOptions. */
export const SERVER_OPTIONS = Symbol('SERVER_OPTIONS');

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_SNAPSHOT_EVERY = 10_000;
export const DEFAULT_MAX_BATCH = 10_000;
