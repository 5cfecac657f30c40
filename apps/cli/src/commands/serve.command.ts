import { randomBytes } from 'node:crypto';
import { redactUrl } from '@clearsim/store';
import { UsageError } from '../cli-error';
import { DEFAULT_STORE } from './store-options';

export interface ServeOptions {
  store?: string;
  port?: string;
  host?: string;
  /** Repeated `--api-key SECRET:admin` / `SECRET:venue:PREFIX`. */
  apiKey?: string[];
  snapshotEvery?: string;
  logLevel?: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * `clearsim serve`: the HTTP service (apps/server) over a store, until
 * SIGINT/SIGTERM (then it drains the shard's queue and exits 0). Keys come
 * from `--api-key` and `CLEARSIM_API_KEYS`; without any, a random admin key is
 * made for this run and printed once.
 */
export async function serveCommand(options: ServeOptions): Promise<void> {
  const port = wholeNumber('--port', options.port ?? '8080', 65535);
  const snapshotEvery = wholeNumber('--snapshot-every', options.snapshotEvery ?? '10000', Number.MAX_SAFE_INTEGER);
  const logLevel = options.logLevel ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new UsageError(`--log-level: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
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
  const store = options.store ?? DEFAULT_STORE;
  const app = await server.createServer({ store, port, host: options.host ?? '127.0.0.1', apiKeys, snapshotEvery, logLevel: logLevel as (typeof LOG_LEVELS)[number] });
  const url = await app.getUrl();
  const lines = [
    `clearsim serve: listening on ${url} (store ${redactUrl(store)})`,
    `  OpenAPI:  ${url}/docs`,
    `  health:   ${url}/healthz, ${url}/readyz; metrics: ${url}/metrics`,
    `  API keys: ${apiKeys.map((key) => server.describePrincipal(key.principal)).join(', ')}`,
    ...(generated ? [`  no --api-key or CLEARSIM_API_KEYS given: this run's admin key is ${generated}`] : []),
  ];
  process.stderr.write(lines.join('\n') + '\n');
}

function wholeNumber(flag: string, text: string, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value > max) throw new UsageError(`${flag}: "${text}" is not a whole number from 0 to ${max}`);
  return value;
}
