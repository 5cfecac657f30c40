import { formatFixed } from '@clearsim/money';
import type { ClearingEvent } from './codec';
import { fastEncode } from './fast-codec';
import { SCHEMA_VERSION } from './schema-version';
import { formatTimestamp } from './timestamp';

// An event's canonical JSON (the log's lines, the outputHash's): a module with no schema, so the decode thread of
// `clearsim run`, which writes the log's lines and hashes the decisions, loads no zod (codec.ts re-exports it).

const TIMESTAMP_FIELDS = new Set(['ts', 'deadline', 'expiry']);

function toJsonValue(key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return formatFixed(value);
  if (typeof value === 'number' && TIMESTAMP_FIELDS.has(key)) return formatTimestamp(value);
  if (Array.isArray(value)) return value.map((item) => toJsonValue('', item));
  if (value && typeof value === 'object') return sortedObject(value as Record<string, unknown>);
  return value;
}

function sortedObject(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj).sort()) {
    if (obj[key] !== undefined) out[key] = toJsonValue(key, obj[key]);
  }
  return out;
}

/**
 * The canonical JSON form of an event: `type`, `v`, `ts` first, then every
 * other field in key order (recursively), decimals as canonical strings,
 * timestamps as ISO-8601 UTC. `outputHash` is computed over these lines.
 */
export function toCanonicalJson(event: ClearingEvent): Record<string, unknown> {
  const { type, ts, ...rest } = event;
  return { type, v: SCHEMA_VERSION, ts: formatTimestamp(ts), ...sortedObject(rest) };
}

export function encodeEvent(event: ClearingEvent): string {
  return fastEncode(event, SCHEMA_VERSION) ?? encodeEventGeneric(event);
}

/** encodeEvent without the flat-event fast path: the reference it must match byte for byte. */
export function encodeEventGeneric(event: ClearingEvent): string {
  return JSON.stringify(toCanonicalJson(event));
}
