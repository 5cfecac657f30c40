import { HolderSet, NO_COLLATERAL, PositionMap, type Account, type Position } from '@clearsim/ledger';
import { PriceBands } from '@clearsim/margin';
import type { Sha256State } from '@clearsim/events';
import type { ClearingState } from './clearing.state';

/**
 * Bumped whenever the shape of ClearingState changes so that an old snapshot
 * cannot be read into it; an old snapshot is then ignored (full replay).
 * Not bumped for changes `deserializeSnapshot` migrates: an account's
 * positions are written as a Map (`$m`) and read into a PositionMap, and an
 * account written without `version` (one that never held a position, before
 * every account had the field) gets 0, and a saga written before it kept liquidation clocks gets
 * empty ones. (5: the seen ids became content digests.)
 */
export const SNAPSHOT_FORMAT = 5;

export interface SnapshotPayload {
  format: number;
  state: ClearingState;
  outputHash: Sha256State;
}

// JSON cannot hold bigint, Map, Set, HolderSet or ±Infinity; these tags carry them exactly.
function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return { $n: value.toString() };
  // a PositionMap is written as the Map it stands for: the same text as before it existed
  if (value instanceof Map || value instanceof PositionMap) return { $m: [...value.entries()] };
  if (value instanceof Set) return { $s: [...value.values()] };
  if (value instanceof HolderSet) return { $h: value.toArray() };
  if (value instanceof PriceBands) return undefined; // a cache, rebuilt after restore
  if (value === Infinity) return { $inf: 1 };
  if (value === -Infinity) return { $inf: -1 };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const tagged = value as Record<string, unknown>;
    if (typeof tagged.$n === 'string') return BigInt(tagged.$n);
    if (Array.isArray(tagged.$m)) return new Map(tagged.$m as [unknown, unknown][]);
    if (Array.isArray(tagged.$s)) return new Set(tagged.$s);
    if (Array.isArray(tagged.$h)) return HolderSet.of(tagged.$h as string[]);
    if (tagged.$inf === 1) return Infinity;
    if (tagged.$inf === -1) return -Infinity;
  }
  return value;
}

/** Serializes a shard's whole state (and its running outputHash) to JSON text, exactly. */
export function serializeSnapshot(state: ClearingState, outputHash: Sha256State): string {
  const payload: SnapshotPayload = { format: SNAPSHOT_FORMAT, state, outputHash };
  return JSON.stringify(payload, replacer);
}

/** The inverse of serializeSnapshot; undefined for a snapshot of another format. */
export function deserializeSnapshot(text: string): SnapshotPayload | undefined {
  const payload = JSON.parse(text, reviver) as SnapshotPayload;
  if (payload.format !== SNAPSHOT_FORMAT) return undefined;
  for (const account of payload.state.ledger.accounts.values()) restoreAccount(account);
  // written before the saga kept liquidation clocks: none was running
  payload.state.saga.liquidatingSince ??= new Map();
  payload.state.saga.partialLiquidationAt ??= new Map();
  payload.state.bands = new PriceBands();
  payload.state.bandsStale = true;
  return payload;
}

/**
 * An account as JSON.parse gave it back: its positions from the Map they were
 * written as, a version if it had none, and the shared empty collateral map
 * again if it holds none (one empty Map per account would cost ~200 bytes each).
 */
function restoreAccount(account: Account): void {
  if (account.collateral.size === 0) account.collateral = NO_COLLATERAL;
  const written = account.positions as unknown as Map<string, Position>;
  account.positions = PositionMap.of(written.values());
  account.version ??= 0;
}
