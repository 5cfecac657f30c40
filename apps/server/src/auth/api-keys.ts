import { createHash } from 'node:crypto';

/**
 * Who may call the API. An admin key may do everything; a venue key may
 * read and write only the accounts whose id starts with its prefix, and may
 * not post market-wide inputs (prices, rules, clock, listings, funding,
 * settlement, volatility).
 */
export type Principal = { name: string; role: 'admin' } | { name: string; role: 'venue'; prefix: string };

/** A configured key: the secret a client sends, and who it is. */
export interface ApiKey {
  secret: string;
  principal: Principal;
}

export class ApiKeySpecError extends Error {}

/** An 8-hex-digit SHA-256 fingerprint: tells keys apart in logs and on start without showing them. */
export const fingerprint = (secret: string): string => createHash('sha256').update(secret).digest('hex').slice(0, 8);

/**
 * Parses one key spec, `SECRET:admin` or `SECRET:venue:PREFIX` (the form of
 * `--api-key` and of each comma-separated entry of `CLEARSIM_API_KEYS`). The
 * key's name, shown in logs and on start, is its role (and prefix) and the
 * fingerprint of its secret: `admin#1a2b3c4d`, `venue:a-#5e6f7a8b`.
 */
export function parseApiKey(spec: string): ApiKey {
  const parts = spec.trim().split(':');
  const [secret, role, prefix, ...rest] = parts;
  const usage = `API key "${redact(spec)}": expected SECRET:admin or SECRET:venue:PREFIX`;
  if (!secret || rest.length > 0) throw new ApiKeySpecError(usage);
  if (secret.length < 8) throw new ApiKeySpecError(`API key "${redact(spec)}": the secret must have at least 8 characters`);
  const tag = fingerprint(secret);
  if (role === 'admin') {
    if (prefix !== undefined) throw new ApiKeySpecError(`${usage} (an admin key has no account prefix)`);
    return { secret, principal: { name: `admin#${tag}`, role: 'admin' } };
  }
  if (role === 'venue') {
    if (!prefix) throw new ApiKeySpecError(`${usage} (a venue key needs a non-empty account prefix)`);
    return { secret, principal: { name: `venue:${prefix}#${tag}`, role: 'venue', prefix } };
  }
  throw new ApiKeySpecError(`${usage} (role "${role ?? ''}" is neither admin nor venue)`);
}

/** Parses specs from flags and a `CLEARSIM_API_KEYS`-style comma-separated list; refuses a secret given twice. */
export function parseApiKeys(specs: readonly string[], env?: string): ApiKey[] {
  const all = [...(env ?? '').split(','), ...specs].map((s) => s.trim()).filter((s) => s !== '');
  const keys = all.map(parseApiKey);
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key.secret)) throw new ApiKeySpecError(`API key ${key.principal.name} is configured twice`);
    seen.add(key.secret);
  }
  return keys;
}

/** A spec with its secret hidden, for messages. */
function redact(spec: string): string {
  const colon = spec.indexOf(':');
  return colon < 0 ? '***' : `***${spec.slice(colon)}`;
}

export function describePrincipal(principal: Principal): string {
  return principal.role === 'admin' ? `${principal.name} (admin)` : `${principal.name} (venue, accounts ${principal.prefix}*)`;
}
