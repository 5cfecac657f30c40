import type { Fixed } from '@clearsim/money';
import type { DecisionEvent, Timestamp } from '@clearsim/events';
import type { Account } from '@clearsim/ledger';
import { unitKey, type MarginUnit } from '@clearsim/margin';

export interface OpenCall extends MarginUnit {
  key: string;
  issuedAt: Timestamp;
  /** Undefined for a warning call (no grace timer). */
  deadline?: Timestamp;
  amount: Fixed;
  expired: boolean;
}

/** What the saga remembers between events: open calls (its timers) and each account's last outcome. */
export interface SagaState {
  calls: Map<string, OpenCall>;
  /** The keys of each account's open calls, so "is this account called, and on which units?" never scans every call. */
  callsByAccount: Map<string, Set<string>>;
  /** Earliest deadline of an unexpired call, so a quiet clock costs nothing. */
  earliestDeadline: number;
  /**
   * How many unexpired calls have each deadline: when the last call of the
   * earliest one goes, the next is the smallest key here (calls issued at
   * the same time share a deadline, so a storm of cures never rescans every
   * call), found with a heap of the keys kept beside the map (heapOf).
   */
  deadlines: Map<number, number>;
  outcome: Map<string, 'liquidated' | 'bankrupt'>;
  /**
   * The liquidation clock (docs/rules.md §13, "Escalating fee"): per account, the `ts` of the first
   * `LiquidationStarted` since it last acted itself (a trade, a deposit, a withdrawal request) or
   * held no position — the time Drift's escalating liquidator fee counts from.
   */
  liquidatingSince: Map<string, Timestamp>;
  /** Under `venueLiquidation.partial` only: per account, the `ts` of its last partial liquidation fill (Hyperliquid's cooldown). */
  partialLiquidationAt: Map<string, Timestamp>;
}

export function emptySaga(): SagaState {
  return { calls: new Map(), callsByAccount: new Map(), earliestDeadline: Infinity, deadlines: new Map(), outcome: new Map(), liquidatingSince: new Map(), partialLiquidationAt: new Map() };
}

/**
 * An account acted itself (Drift's `update_last_active_slot`): its liquidation clock stops.
 * Called by evolve for the inputs that name an account as the actor.
 */
export function noteOwnAction(saga: SagaState, account: string): void {
  saga.liquidatingSince.delete(account);
}

/**
 * After a liquidation or ADL fill has been folded into the ledger: an account left with no open
 * position has no liquidation clock and no cooldown any more; under `venueLiquidation.partial`
 * (`recordPartial`), a fill that leaves the position open starts the account's cooldown.
 */
export function noteLiquidationFill(saga: SagaState, account: Account, instrument: string, ts: Timestamp, recordPartial: boolean): void {
  if (saga.liquidatingSince.size === 0 && saga.partialLiquidationAt.size === 0 && !recordPartial) return;
  let open = false;
  for (const p of account.positions.values()) if (p.qty !== 0n) open = true;
  if (!open) {
    saga.liquidatingSince.delete(account.id);
    saga.partialLiquidationAt.delete(account.id);
  } else if (recordPartial && (account.positions.get(instrument)?.qty ?? 0n) !== 0n) {
    saga.partialLiquidationAt.set(account.id, ts);
  }
}

function openCall(saga: SagaState, call: OpenCall): void {
  let keys = saga.callsByAccount.get(call.account);
  if (!keys) saga.callsByAccount.set(call.account, (keys = new Set()));
  keys.add(call.key);
  saga.calls.set(call.key, call);
}

/** Removes an open call; returns it (undefined if there was none). */
function closeCall(saga: SagaState, key: string): OpenCall | undefined {
  const call = saga.calls.get(key);
  if (!call) return undefined;
  saga.calls.delete(key);
  const keys = saga.callsByAccount.get(call.account);
  keys?.delete(key);
  if (keys?.size === 0) saga.callsByAccount.delete(call.account);
  return call;
}

export const hasOpenCall = (saga: SagaState, account: string): boolean => saga.callsByAccount.has(account);

/** The open calls of one account (its cross unit, or its isolated positions), in the order they were issued (as in `calls`). */
export function openCallsOf(saga: SagaState, account: string): OpenCall[] {
  const keys = saga.callsByAccount.get(account);
  if (!keys) return [];
  return [...keys].map((key) => saga.calls.get(key)!);
}

/**
 * The distinct deadlines of a saga's `deadlines` as a binary min-heap: when the last call of the earliest deadline
 * goes, the next earliest is found in O(log n) instead of a scan of every distinct deadline (a day of one-second marks
 * whose thousand open calls are met and issued again at every tick spent most of its saga in that scan). An index
 * derived from the map, kept beside it (keyed by it, never written in a snapshot: rebuilt from the map's keys on first
 * use after a restore). It may still hold deadlines that left the map, dropped when they reach the top; it is rebuilt
 * when those outnumber the live ones.
 */
const deadlineHeaps = new WeakMap<Map<number, number>, number[]>();

function heapOf(deadlines: Map<number, number>): number[] {
  let heap = deadlineHeaps.get(deadlines);
  if (heap === undefined) {
    heap = [...deadlines.keys()].sort((a, b) => a - b); // a sorted array is a heap
    deadlineHeaps.set(deadlines, heap);
  }
  return heap;
}

function heapPush(heap: number[], value: number): void {
  let i = heap.push(value) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]! <= value) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = value;
}

function heapPop(heap: number[]): void {
  const last = heap.pop()!;
  if (heap.length === 0) return;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= heap.length) break;
    const child = left + 1 < heap.length && heap[left + 1]! < heap[left]! ? left + 1 : left;
    if (heap[child]! >= last) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = last;
}

/**
 * The keys of the unexpired calls by deadline, an index derived from `calls` and kept beside `deadlines` as the heap
 * is (keyed by that map, never in a snapshot, built from the calls on first use after a restore): the calls a time
 * has passed are found without a scan of every open call (callsDueBefore).
 */
const keysByDeadline = new WeakMap<Map<number, number>, Map<number, Set<string>>>();

function keysByDeadlineOf(saga: SagaState): Map<number, Set<string>> {
  let index = keysByDeadline.get(saga.deadlines);
  if (index === undefined) {
    index = new Map();
    for (const call of saga.calls.values()) {
      if (call.expired || call.deadline === undefined) continue;
      let keys = index.get(call.deadline);
      if (keys === undefined) index.set(call.deadline, (keys = new Set()));
      keys.add(call.key);
    }
    keysByDeadline.set(saga.deadlines, index);
  }
  return index;
}

/**
 * The unexpired calls whose deadline is strictly before `until`, in deadline order, then unit key: from the heap's
 * deadlines below `until` (a walk from its root that stops at every node not below it, a parent being never above its
 * children) and the calls of each. O(the calls due) rather than O(the calls open).
 */
export function callsDueBefore(saga: SagaState, until: number): { deadline: number; key: string }[] {
  const heap = heapOf(saga.deadlines);
  const index = keysByDeadlineOf(saga);
  const due: { deadline: number; key: string }[] = [];
  const seen = new Set<number>();
  const stack = heap.length > 0 ? [0] : [];
  while (stack.length > 0) {
    const i = stack.pop()!;
    const deadline = heap[i]!;
    if (!(deadline < until)) continue;
    if (!seen.has(deadline)) {
      seen.add(deadline);
      for (const key of index.get(deadline) ?? []) due.push({ deadline, key });
    }
    if (2 * i + 1 < heap.length) stack.push(2 * i + 1);
    if (2 * i + 2 < heap.length) stack.push(2 * i + 2);
  }
  return due.sort((a, b) => a.deadline - b.deadline || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** An unexpired call (`key`) with this deadline now counts toward the earliest deadline. */
function deadlineAdded(saga: SagaState, deadline: number | undefined, key: string): void {
  if (deadline === undefined) return;
  const index = keysByDeadline.get(saga.deadlines);
  if (index !== undefined) {
    let keys = index.get(deadline);
    if (keys === undefined) index.set(deadline, (keys = new Set()));
    keys.add(key);
  }
  const count = saga.deadlines.get(deadline) ?? 0;
  saga.deadlines.set(deadline, count + 1);
  if (count === 0) {
    const heap = deadlineHeaps.get(saga.deadlines);
    if (heap !== undefined) {
      if (heap.length > 2 * saga.deadlines.size + 64) deadlineHeaps.delete(saga.deadlines);
      else heapPush(heap, deadline);
    }
  }
  if (deadline < saga.earliestDeadline) saga.earliestDeadline = deadline;
}

/** An unexpired call (`key`) with this deadline stopped counting (met, expired, liquidated). */
function deadlineGone(saga: SagaState, deadline: number | undefined, key: string): void {
  if (deadline === undefined) return;
  const keys = keysByDeadline.get(saga.deadlines)?.get(deadline);
  if (keys !== undefined) {
    keys.delete(key);
    if (keys.size === 0) keysByDeadline.get(saga.deadlines)!.delete(deadline);
  }
  const left = (saga.deadlines.get(deadline) ?? 1) - 1;
  if (left > 0) {
    saga.deadlines.set(deadline, left);
    return;
  }
  saga.deadlines.delete(deadline);
  if (deadline !== saga.earliestDeadline) return;
  const heap = heapOf(saga.deadlines);
  while (heap.length > 0 && !saga.deadlines.has(heap[0]!)) heapPop(heap);
  saga.earliestDeadline = heap.length > 0 ? heap[0]! : Infinity;
}

/** The saga's half of evolve: folds its own decisions into its timers. */
export function evolveSaga(saga: SagaState, decision: DecisionEvent): void {
  switch (decision.type) {
    case 'MarginCallIssued': {
      const unit = { account: decision.account, instrument: decision.instrument };
      const key = unitKey(unit);
      openCall(saga, { ...unit, key, issuedAt: decision.ts, deadline: decision.deadline, amount: decision.amount, expired: false });
      deadlineAdded(saga, decision.deadline, key);
      saga.outcome.delete(decision.account);
      return;
    }
    case 'MarginCallMet':
    case 'LiquidationStarted': {
      // a cure, or a liquidation (which resolves the call, met or not); an expired call no longer counts for the deadline
      const call = closeCall(saga, unitKey(decision));
      if (call && !call.expired) deadlineGone(saga, call.deadline, call.key);
      if (decision.type === 'LiquidationStarted') {
        saga.outcome.set(decision.account, 'liquidated');
        if (!saga.liquidatingSince.has(decision.account)) saga.liquidatingSince.set(decision.account, decision.ts);
      }
      return;
    }
    case 'GracePeriodExpired': {
      const call = saga.calls.get(unitKey(decision));
      if (call && !call.expired) {
        call.expired = true;
        deadlineGone(saga, call.deadline, call.key);
      }
      return;
    }
    case 'AccountBankrupted':
      // its liquidation ended: the positions go to the fund or the counterparties
      saga.outcome.set(decision.account, 'bankrupt');
      saga.liquidatingSince.delete(decision.account);
      saga.partialLiquidationAt.delete(decision.account);
      return;
    default:
      return;
  }
}
