import { getConfigToken } from '@nestjs/config';
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
  /**
   * Serve `/metrics` without a key. Default false: the scrape needs an admin
   * key (`Authorization: Bearer KEY`, as Prometheus' `authorization` setting
   * sends it, or `x-api-key`); a venue key gets 403 (the metrics are market-wide).
   */
  publicMetrics?: boolean;
  /** Collect prom-client's default process metrics. Default true. */
  processMetrics?: boolean;
  /** Close gracefully on SIGINT/SIGTERM (Nest shutdown hooks, then exit 0). Default true; tests turn it off. */
  shutdownHooks?: boolean;
  /**
   * Answer the plain single input of POST /v1/inputs ahead of Nest's
   * per-request pipeline (clearing/fast-inputs.route.ts). Default true; false
   * sends every request through Nest's route, the reference the tests compare
   * the fast route with.
   */
  fastInputsRoute?: boolean;
  /** Most inputs one batch may carry. Default 10,000. */
  maxBatch?: number;
  /** Largest request body, in bytes (413 beyond it, on every route). Default 16 MiB: a batch of 10,000 inputs fits. */
  maxBodyBytes?: number;
  /**
   * How long a request (its line, headers and body) may take to arrive, in ms:
   * past it the server answers 408 and closes the connection. Without a
   * bound, a body shorter than its Content-Length held its connection (and a
   * closing server) forever. Default 60,000: a 16 MiB body at 2.3 Mbit/s or more.
   */
  requestTimeoutMs?: number;
  /**
   * The group commit's bounded delay, in µs (clearing/group-commit.queue.ts):
   * while other submissions are about, a group of HTTP inputs starts no sooner
   * than this after the previous one, so one fsync serves more inputs; 0
   * disables it. Default 1,000 (docs/performance.md, B5 round 7).
   */
  commitDelayMicros?: number;
  /** Kafka inputs in / decisions out (apps/server/src/kafka). Absent: HTTP only. */
  kafka?: KafkaServerOptions;
}

/**
 * `serve --kafka-brokers …`: this server is shard `shard` of `shards`. It
 * consumes partition `shard` of the inputs topic (group `<group>.shard-<i>-of-<N>`)
 * and publishes every decision of its log (from Kafka or HTTP inputs) to the
 * decisions topic, keyed by account.
 */
export interface KafkaServerOptions {
  brokers: string[];
  /** Default `clearsim.inputs`; it must have exactly `shards` partitions (created so if missing). */
  inputsTopic?: string;
  /** Default `clearsim.decisions`. */
  decisionsTopic?: string;
  /** Default `<inputsTopic>.dlq`. */
  deadLetterTopic?: string;
  /** Consumer group prefix. Default `clearsim`. */
  group?: string;
  /** Default 1. With more than one, inputs come through Kafka only (HTTP inputs: 409). */
  shards?: number;
  /** Default 0. */
  shard?: number;
  /** kafkajs client id. Default `clearsim-shard-<i>`. */
  clientId?: string;
  /** How often the `clearsim_consumer_lag` gauge is refreshed (ms). Default 2,000. */
  lagIntervalMs?: number;
  /** Consumer group timings (tests shorten them); kafkajs-ports defaults otherwise. */
  sessionTimeout?: number;
  heartbeatInterval?: number;
  maxWaitTimeInMs?: number;
  /**
   * kafkajs on a thread of its own (`--kafka-consumer-thread`): `on`, `off`, or `auto` (on with ≥ 2 cores).
   * Absent: CLEARSIM_KAFKA_CONSUMER_THREAD, else `auto` (docs/performance.md, B6 round 4).
   */
  consumerThread?: 'on' | 'off' | 'auto';
}

export const DEFAULT_INPUTS_TOPIC = 'clearsim.inputs';
export const DEFAULT_DECISIONS_TOPIC = 'clearsim.decisions';
export const DEFAULT_GROUP = 'clearsim';
export const DEFAULT_LAG_INTERVAL_MS = 2_000;

/** The @nestjs/config namespace of the ServerOptions (`ConfigService.get('server')`). */
export const SERVER_CONFIG_NAMESPACE = 'server';

/** Injection token of the (validated) ServerOptions: the token of their @nestjs/config namespace (server.config.ts). */
export const SERVER_OPTIONS = getConfigToken(SERVER_CONFIG_NAMESPACE);

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_SNAPSHOT_EVERY = 10_000;
export const DEFAULT_MAX_BATCH = 10_000;
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** The bounds of requestTimeoutMs (serve --request-timeout-ms): an hour is as good as none, so none is not offered. */
export const MIN_REQUEST_TIMEOUT_MS = 100;
export const MAX_REQUEST_TIMEOUT_MS = 3_600_000;
