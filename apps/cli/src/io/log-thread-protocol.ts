import type { ClearingEvent, Sha256State } from '@clearsim/events';
import type { DetachedBatchEnd, DetachedBatchStart } from '@clearsim/store/detached-lines';
import type { HandOver } from './mark-columns';

// What the main thread and the decode thread say to each other about the log (log-thread.ts): a module the
// decode thread loads without the main thread's side (the store's index, the codec's schemas).

/** The words of the shared control array of the decode thread (Int32Array over a SharedArrayBuffer). */
export const CONTROL = {
  /** Messages the thread may still post (decode-thread.ts, DECODE_CREDITS). */
  CREDITS: 0,
  /** Moved by the main thread with every credit and command: the thread sleeps on it. */
  SIGNAL: 1,
  /** 1 while the thread sleeps (the main thread wakes it only then: a wake-up is a system call, and a context switch on a busy machine). */
  SLEEPING: 2,
  /** Log chunks (`lines` commands) the thread has taken in. */
  WRITTEN: 3,
  /** 1 once the thread's writing failed (the error follows on the commands port). */
  FAILED: 4,
  /**
   * 1 once the thread has loaded its code (before its `ready` message): the main thread, busy deciding, turns its
   * event loop only between chunks, and read the message ~0.6 s after it was posted; it reads this at every message.
   */
  READY: 5,
  LENGTH: 6,
} as const;

/** refs[2e] of an entry that is the next refs[2e+1] bytes of LogLines.bytes (an event's canonical JSON). */
export const JSON_BYTES = -1;
/** refs[2e] of an entry that is the next of LogLines.events: a decision (hashed into the outputHash when the thread hashes) or an input. */
export const EVENT_DECISION = -2;
export const EVENT_INPUT = -3;

/**
 * One chunk's lines: entry e is mark line refs[2e+1] of held message refs[2e] (≥ 0), or (JSON_BYTES) the next
 * refs[2e+1] bytes of `bytes`, an event's canonical JSON (a mark the main thread decoded), or (EVENT_DECISION,
 * EVENT_INPUT) the next of `events`, which the thread encodes (encodeEvent: the same JSON). Messages held under an
 * id below `release` are no longer needed.
 */
export interface LogLines {
  kind: 'lines';
  count: number;
  refs: Int32Array<ArrayBuffer>;
  bytes: Uint8Array<ArrayBuffer>;
  events: ClearingEvent[];
  release: number;
}

/** What the main thread tells the decode thread (over its commands port). */
export type ThreadCommand =
  | { kind: 'start'; from: HandOver }
  /** Keep the marks' JSON of the messages from now on (LinesMessage.held). */
  | { kind: 'hold' }
  /** Write the lines of the chunks that follow there; with `decisionsHash`, hash their decisions from that state. */
  | { kind: 'write'; start: DetachedBatchStart; decisionsHash?: Sha256State }
  | LogLines
  /** Write what is left; answer `written`. */
  | { kind: 'finish' };

/** What the decode thread answers about the log (over the same port). */
export type WriterMessage = { kind: 'written'; end: DetachedBatchEnd; decisionsHash?: Sha256State } | { kind: 'write-error'; message: string; code?: string };
