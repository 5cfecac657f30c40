import { randomBytes } from 'node:crypto';
import type { ConsumerThreadSetting } from '@clearsim/kafka';
import { redactUrl } from '@clearsim/store';
import { RuntimeFailure, UsageError } from '../cli-error';
import { wholeNumberOption } from '../io/whole-number-option';
import { DEFAULT_STORE_URL } from '@clearsim/store';

export interface ServeOptions {
  store?: string;
  port?: string;
  host?: string;
  /** Repeated `--api-key SECRET:admin` / `SECRET:venue:PREFIX`. */
  apiKey?: string[];
  snapshotEvery?: string;
  logLevel?: string;
  /** `/metrics` without a key (default: an admin key). */
  publicMetrics?: boolean;
  /** Largest request body in bytes (413 beyond it). */
  maxBodyBytes?: string;
  /** How long a request may take to arrive, in ms (408 beyond it). */
  requestTimeoutMs?: string;
  /** The group commit's bounded delay in µs (0: off). */
  commitDelayUs?: string;
  /** Kafka (`host:port,host:port`; also KAFKA_BROKERS): enables the Kafka module. */
  kafkaBrokers?: string;
  inputsTopic?: string;
  decisionsTopic?: string;
  shards?: string;
  shard?: string;
  group?: string;
  /** kafkajs on a thread of its own: on, off, auto (also CLEARSIM_KAFKA_CONSUMER_THREAD; default auto). */
  kafkaConsumerThread?: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * `clearsim serve`: the HTTP service (apps/server) over a store, until
 * SIGINT/SIGTERM (then it drains the shard's queue and exits 0). Keys come
 * from `--api-key` and `CLEARSIM_API_KEYS`; without any, a random admin key is
 * made for this run and printed once. With `--kafka-brokers` (or
 * KAFKA_BROKERS) it also consumes its shard's partition of the inputs topic
 * and publishes every decision to the decisions topic (apps/server/src/kafka).
 */
export async function serveCommand(options: ServeOptions): Promise<void> {
  const port = wholeNumberOption('--port', options.port ?? '8080', 0, 65535);
  const snapshotEvery = wholeNumberOption('--snapshot-every', options.snapshotEvery ?? '10000', 0, Number.MAX_SAFE_INTEGER);
  const logLevel = options.logLevel ?? 'info';
  // at least 1 KiB (a single input), at most 1 GiB (body-parser holds the body in memory)
  const maxBodyBytes = wholeNumberOption('--max-body-bytes', options.maxBodyBytes ?? String(16 * 1024 * 1024), 0, 1 << 30);
  if (maxBodyBytes < 1024) throw new UsageError(`--max-body-bytes: "${options.maxBodyBytes}" is less than 1024`);
  // the bounds of ServerOptions.requestTimeoutMs (apps/server/src/config/server-options.ts)
  const requestTimeoutMs = wholeNumberOption('--request-timeout-ms', options.requestTimeoutMs ?? '60000', 100, 3_600_000);
  const commitDelayMicros = wholeNumberOption('--commit-delay-us', options.commitDelayUs ?? '1000', 0, 1_000_000);
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new UsageError(`--log-level: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  const kafka = kafkaOptions(options);
  if (kafka) kafka.consumerThread = await consumerThreadSetting(options.kafkaConsumerThread);
  // loaded here, so the other commands do not pay for NestJS
  const server = await import('../../../server/src/main');
  let apiKeys;
  try {
    apiKeys = server.parseApiKeys(options.apiKey ?? [], process.env.CLEARSIM_API_KEYS);
  } catch (error) {
    if (error instanceof server.ApiKeySpecError) throw new UsageError(`--api-key: ${error.message}`);
    throw error;
  }
  let generated: string | undefined;
  if (apiKeys.length === 0) {
    generated = randomBytes(18).toString('base64url');
    apiKeys = server.parseApiKeys([`${generated}:admin`]);
  }
  const store = options.store ?? DEFAULT_STORE_URL;
  const host = options.host ?? '127.0.0.1';
  let app;
  try {
    app = await server.createServer({ store, port, host, apiKeys, snapshotEvery, logLevel: logLevel as (typeof LOG_LEVELS)[number], maxBodyBytes, requestTimeoutMs, commitDelayMicros, kafka, publicMetrics: options.publicMetrics === true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new RuntimeFailure(`cannot listen on ${host}:${port}: the port is in use`, 'choose another with --port (or --port 0 for any free one)');
    if (code === 'EADDRNOTAVAIL' || code === 'EACCES') throw new RuntimeFailure(`cannot listen on ${host}:${port}: ${(error as Error).message}`, 'check --host and --port');
    throw error;
  }
  const url = await app.getUrl();
  const lines = [
    `clearsim serve: listening on ${url} (store ${redactUrl(store)})`,
    `  OpenAPI:  ${url}/docs`,
    `  live:     ${url}/ui (the monitoring page; type an API key into it)`,
    `  health:   ${url}/healthz, ${url}/readyz; metrics: ${url}/metrics${options.publicMetrics ? ' (public)' : ' (admin key)'}`,
    `  API keys: ${apiKeys.map((key) => server.describePrincipal(key.principal)).join(', ')}`,
    ...(kafka ? [kafkaLine(server.kafkaSettings(kafka))] : []),
    ...(generated ? [`  no --api-key or CLEARSIM_API_KEYS given: this run's admin key is ${generated}`] : []),
  ];
  process.stderr.write(lines.join('\n') + '\n');
}

/** The Kafka options, or undefined without brokers (then the Kafka-only flags are a usage error). */
function kafkaOptions(options: ServeOptions): ServeKafka | undefined {
  const brokersText = options.kafkaBrokers ?? process.env.KAFKA_BROKERS ?? '';
  const brokers = brokersText
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  const given = (['inputsTopic', 'decisionsTopic', 'shards', 'shard', 'group', 'kafkaConsumerThread'] as const).filter((key) => options[key] !== undefined);
  if (brokers.length === 0) {
    if (options.kafkaBrokers !== undefined) throw new UsageError('--kafka-brokers: give at least one host:port');
    if (given.length > 0) throw new UsageError(`${given.map(flagOf).join(', ')}: need --kafka-brokers (or KAFKA_BROKERS)`);
    return undefined;
  }
  for (const broker of brokers) {
    if (!/^[^\s:/]+:\d{1,5}$/.test(broker)) throw new UsageError(`--kafka-brokers: "${broker}" is not host:port`);
  }
  const shards = wholeNumberOption('--shards', options.shards ?? '1', 0, 1024);
  const shard = wholeNumberOption('--shard', options.shard ?? '0', 0, 1023);
  if (shards < 1) throw new UsageError('--shards: must be at least 1');
  if (shard >= shards) throw new UsageError(`--shard: ${shard} is not a shard of ${shards} (0 to ${shards - 1})`);
  const topic = /^[A-Za-z0-9._-]{1,200}$/;
  for (const key of ['inputsTopic', 'decisionsTopic', 'group'] as const) {
    const value = options[key];
    if (value !== undefined && !topic.test(value)) throw new UsageError(`${flagOf(key)}: "${value}" is not a Kafka name (letters, digits, '.', '_', '-')`);
  }
  if (options.inputsTopic !== undefined && options.inputsTopic === options.decisionsTopic) throw new UsageError('--decisions-topic: must differ from --inputs-topic');
  return {
    brokers,
    shards,
    shard,
    ...(options.inputsTopic ? { inputsTopic: options.inputsTopic } : {}),
    ...(options.decisionsTopic ? { decisionsTopic: options.decisionsTopic } : {}),
    ...(options.group ? { group: options.group } : {}),
  };
}

/**
 * `--kafka-consumer-thread`, else CLEARSIM_KAFKA_CONSUMER_THREAD, else the default (auto), read by libs/kafka's
 * parser (the one the server and the bench use); a usage error naming the flag or variable otherwise. libs/kafka
 * is loaded only here, when Kafka is configured, so the other commands do not load kafkajs.
 */
async function consumerThreadSetting(flag: string | undefined): Promise<ConsumerThreadSetting> {
  const { DEFAULT_CONSUMER_THREAD, parseConsumerThreadSetting } = await import('@clearsim/kafka');
  const [field, text] = flag !== undefined ? ['--kafka-consumer-thread', flag] : ['CLEARSIM_KAFKA_CONSUMER_THREAD', process.env.CLEARSIM_KAFKA_CONSUMER_THREAD];
  if (text === undefined || (flag === undefined && text === '')) return DEFAULT_CONSUMER_THREAD;
  try {
    return parseConsumerThreadSetting(text, field);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

interface ServeKafka {
  consumerThread?: ConsumerThreadSetting;
  brokers: string[];
  shards: number;
  shard: number;
  inputsTopic?: string;
  decisionsTopic?: string;
  group?: string;
}

const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function kafkaLine(s: { brokers: string[]; inputsTopic: string; decisionsTopic: string; deadLetterTopic: string; groupId: string; shards: number; shard: number }): string {
  return `  Kafka:    shard ${s.shard} of ${s.shards}: ${s.inputsTopic} partition ${s.shard} → ${s.decisionsTopic} (dead letters ${s.deadLetterTopic}, group ${s.groupId}, brokers ${s.brokers.join(',')})`;
}

