import { ConfigModule, registerAs } from '@nestjs/config';
import type { DynamicModule } from '@nestjs/common';
import { z } from 'zod';
import { wholeNumberOf } from '@clearsim/events';
import { parseApiKeys } from '../auth/api-keys';
import { DEFAULT_HOST, DEFAULT_PORT, MAX_REQUEST_TIMEOUT_MS, MIN_REQUEST_TIMEOUT_MS, SERVER_CONFIG_NAMESPACE, type LogLevel, type ServerOptions } from './server-options';

/** Server options that cannot be used: the message names each field and what is wrong with it. */
export class InvalidServerOptions extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid server options: ${problems.join('; ')}`);
    this.name = 'InvalidServerOptions';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const satisfies readonly LogLevel[];
const whole = (min: number, max: number) => z.number().int(`must be a whole number`).min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);
const kafkaName = z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, "must be a Kafka name (letters, digits, '.', '_', '-')");

/**
 * What the service accepts (the same bounds as `clearsim serve`'s flags);
 * absent fields take the defaults of server-options.ts. Fields this schema
 * does not know pass unchecked (the ServerOptions type already refuses
 * unknown ones at compile time, and a new option need not be listed twice).
 */
const ServerOptionsSchema = z
  .object({
    store: z.string().min(1, 'must not be empty'),
    port: whole(0, 65535).optional(),
    host: z.string().min(1, 'must not be empty').optional(),
    apiKeys: z.array(z.object({ secret: z.string().min(8), principal: z.object({ name: z.string(), role: z.enum(['admin', 'venue']) }).loose() }).loose()),
    snapshotEvery: whole(0, Number.MAX_SAFE_INTEGER).optional(),
    logLevel: z.enum(LOG_LEVELS).optional(),
    publicMetrics: z.boolean().optional(),
    processMetrics: z.boolean().optional(),
    shutdownHooks: z.boolean().optional(),
    fastInputsRoute: z.boolean().optional(),
    maxBatch: whole(1, Number.MAX_SAFE_INTEGER).optional(),
    maxBodyBytes: whole(1024, 1 << 30).optional(),
    requestTimeoutMs: whole(MIN_REQUEST_TIMEOUT_MS, MAX_REQUEST_TIMEOUT_MS).optional(),
    commitDelayMicros: whole(0, 1_000_000).optional(),
    kafka: z
      .object({
        brokers: z.array(z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port')).min(1, 'needs at least one host:port'),
        inputsTopic: kafkaName.optional(),
        decisionsTopic: kafkaName.optional(),
        deadLetterTopic: kafkaName.optional(),
        group: kafkaName.optional(),
        shards: whole(1, 1024).optional(),
        shard: whole(0, 1023).optional(),
        clientId: z.string().min(1).optional(),
        lagIntervalMs: whole(1, 3_600_000).optional(),
        sessionTimeout: whole(1, 3_600_000).optional(),
        heartbeatInterval: whole(1, 3_600_000).optional(),
        maxWaitTimeInMs: whole(0, 3_600_000).optional(),
        consumerThread: z.enum(['on', 'off', 'auto']).optional(),
      })
      .refine((kafka) => (kafka.shard ?? 0) < (kafka.shards ?? 1), { path: ['shard'], message: 'must be less than shards' })
      .optional(),
  });

/** Checks the options and returns them as given: validation changes no value and adds no default. */
export function validateServerOptions(options: ServerOptions): ServerOptions {
  const result = ServerOptionsSchema.safeParse(options);
  if (!result.success) throw new InvalidServerOptions(result.error.issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`));
  return options;
}

/** The ServerOptions as the `server` namespace of @nestjs/config, validated when the module is built. */
export const serverConfig = (options: ServerOptions) => registerAs(SERVER_CONFIG_NAMESPACE, () => validateServerOptions(options));

/**
 * @nestjs/config, global, holding only the server options (no .env file, no
 * process.env): a server is configured by `clearsim serve`'s flags or, for
 * `node dist/apps/server/src/main.js`, by serverOptionsFromEnvironment — never
 * by whatever the environment of a test process holds.
 */
export function serverConfigModule(options: ServerOptions): Promise<DynamicModule> {
  return ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, ignoreEnvVars: true, skipProcessEnv: true, load: [serverConfig(options)] });
}

/** A variable that must be a whole number in [min, max] when set. */
function wholeVar(env: NodeJS.ProcessEnv, name: string, min: number, max: number, problems: string[]): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const whole = wholeNumberOf(text, min, max);
  if (!whole.ok) {
    problems.push(`${name}: "${text}" is not a whole number from ${min} to ${max}`);
    return undefined;
  }
  return whole.value;
}

/**
 * The ServerOptions of `node dist/apps/server/src/main.js` from its environment:
 * CLEARSIM_STORE, CLEARSIM_PORT, CLEARSIM_HOST, CLEARSIM_API_KEYS,
 * CLEARSIM_LOG_LEVEL, CLEARSIM_MAX_BODY_BYTES, CLEARSIM_REQUEST_TIMEOUT_MS, CLEARSIM_COMMIT_DELAY_US. A bad value is refused with its
 * variable's name (it used to become NaN and fail later, or be ignored).
 */
export function serverOptionsFromEnvironment(env: NodeJS.ProcessEnv, defaultStore: string): ServerOptions {
  const problems: string[] = [];
  const port = wholeVar(env, 'CLEARSIM_PORT', 0, 65535, problems);
  const maxBodyBytes = wholeVar(env, 'CLEARSIM_MAX_BODY_BYTES', 1024, 1 << 30, problems);
  const requestTimeoutMs = wholeVar(env, 'CLEARSIM_REQUEST_TIMEOUT_MS', MIN_REQUEST_TIMEOUT_MS, MAX_REQUEST_TIMEOUT_MS, problems);
  const commitDelayMicros = wholeVar(env, 'CLEARSIM_COMMIT_DELAY_US', 0, 1_000_000, problems);
  const logLevel = env.CLEARSIM_LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) problems.push(`CLEARSIM_LOG_LEVEL: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  let apiKeys: ServerOptions['apiKeys'] = [];
  try {
    apiKeys = parseApiKeys([], env.CLEARSIM_API_KEYS);
  } catch (error) {
    problems.push(`CLEARSIM_API_KEYS: ${(error as Error).message}`);
  }
  if (problems.length > 0) throw new InvalidServerOptions(problems);
  return {
    store: env.CLEARSIM_STORE || defaultStore,
    port: port ?? DEFAULT_PORT,
    host: env.CLEARSIM_HOST || DEFAULT_HOST,
    apiKeys,
    logLevel: logLevel as LogLevel,
    ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
    ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
    ...(commitDelayMicros === undefined ? {} : { commitDelayMicros }),
  };
}
