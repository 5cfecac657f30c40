import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
// the light entry points (the codec's bytes, the line kinds, the log's line writers): this thread loads no schema,
// no zod, no clearing core
import { encodeEvent, InputError, Sha256 } from '@clearsim/events/bytes';
import { LINE_MARK } from '@clearsim/shard/line-kinds';
import { DetachedBatchWriter } from '@clearsim/store/detached-lines';
import type { DecodeWorkerData } from './decode-worker-spawn';
import { CONTROL, EVENT_DECISION, JSON_BYTES, type LogLines, type ThreadCommand, type WriterMessage } from './log-thread-protocol';
import { decodeMessages, holdJson, transferList, type DecodeMessage, type ErrorMessage, type HeldJson, type LinesMessage } from './mark-columns';

/**
 * The decode thread of `clearsim run` (decode-thread.ts starts it). Once loaded it posts `ready`, then serves the
 * main thread's commands (ThreadCommand, over `commands`, read without an event loop: receiveMessageOnPort) and
 * decodes: after `start` (the line after which it takes over from the main thread), or at once when started with
 * `from` (early-decode-thread.ts), it reads the file and posts its lines as LinesMessages, then `end`, or the
 * reader's error. It posts a message only while `control[CREDITS]` (shared memory) is above 0 and takes one off per
 * message; the main thread gives one back per message it takes — a shared
 * counter rather than a message back, which cost the main thread ~1 ms of waiting on the port per message on a busy
 * machine. With `write` it also writes the run's log (log-thread.ts): it keeps the marks' JSON it encoded (`hold`)
 * and writes each chunk's lines from them and the bytes the main thread sends for the rest.
 * With nothing to do it sleeps on `control[SIGNAL]`, which the main thread moves with every credit and command.
 */

/** How long the thread sleeps at most before it looks at its credits and commands again (it is woken by Atomics.notify). */
const WAIT_MS = 100;
// read once: a re-exported constant is a getter call at every use in the compiled code
const MARK = LINE_MARK;
/** Released messages' log bytes kept for reuse (about the messages in flight). */
const FREE_KEPT = 16;
/**
 * Log bytes between two background syncs of what the thread wrote (DetachedBatchWriter's syncEvery): the commit's
 * fsync then writes at most about this much at the end of the run instead of the whole log.
 */
const SYNC_EVERY_BYTES = 16 << 20;

const port = parentPort!;
const { file, control, commands, linesPerMessage, from } = workerData as DecodeWorkerData;

async function main(): Promise<void> {
  Atomics.store(control, CONTROL.READY, 1);
  port.postMessage({ kind: 'ready' } satisfies DecodeMessage);
  let decoding: AsyncGenerator<LinesMessage> | undefined;
  let hold = false;
  const held = new Map<number, HeldJson>();
  let nextHeld = 0;
  // the log bytes of released messages, filled again by the next ones: new ones for every message lived until they were
  // written, long enough to be promoted, and the thread's old generation filled with them between its full collections
  const free: HeldJson[] = [];
  const reuse = (): HeldJson | undefined => free.pop();
  // started early (before the main thread could decode anything): from its first line at once, with no `start`
  if (from) decoding = decodeMessages(file, { bytesRead: 0 }, linesPerMessage, undefined, from, reuse);
  let writer: DetachedBatchWriter | undefined;
  // the run's decisions hashed here, as the engine would (RunOptions.decisionsHashedByTransaction)
  let decisionsHash: Sha256 | undefined;
  let writeFailed = false;

  const writeLines = (lines: LogLines): void => {
    const { refs, bytes, events, count, release } = lines;
    for (let e = 0, at = 0, k = 0; e < count; e++) {
      const id = refs[2 * e]!;
      const n = refs[2 * e + 1]!;
      if (id >= 0) {
        const marks = held.get(id);
        if (marks === undefined) throw new Error(`the log's chunk refers to mark line ${n} of message ${id}, which the decode thread does not hold`);
        writer!.addEncoded(marks.json, marks.jsonStart[n]!, marks.jsonEnd[n]!, marks.crc[n]!);
      } else if (id === JSON_BYTES) {
        writer!.addJsonBytes(bytes, at, at + n);
        at += n;
      } else {
        // an event the main thread decided or decoded: its canonical JSON, and a decision's line into the outputHash
        const json = encodeEvent(events[k++]!);
        writer!.addJson(json);
        if (id === EVENT_DECISION) decisionsHash?.updateLine(json);
      }
    }
    for (const [id, marks] of held) {
      if (id >= release) continue;
      held.delete(id);
      if (free.length < FREE_KEPT) free.push(marks);
    }
  };

  // the writing failed: no more lines are written; the main thread sees the flag and then reads the error
  const failWriting = (error: unknown): void => {
    writeFailed = true;
    Atomics.store(control, CONTROL.FAILED, 1);
    commands.postMessage(writerError(error) satisfies WriterMessage);
  };

  // every line is written: once the background syncs are done (their error fails the writing), answer where they end
  const finishWriting = async (): Promise<void> => {
    try {
      await writer!.settled();
      commands.postMessage({ kind: 'written', end: writer!.finish(), ...(decisionsHash ? { decisionsHash: decisionsHash.state() } : {}) } satisfies WriterMessage);
    } catch (error) {
      failWriting(error);
    }
    writer = undefined;
    held.clear();
  };

  const serve = (command: ThreadCommand): Promise<void> | undefined => {
    switch (command.kind) {
      case 'start':
        decoding = decodeMessages(file, { bytesRead: 0 }, linesPerMessage, undefined, command.from, reuse);
        return;
      case 'hold':
        hold = true;
        return;
      case 'write':
        writer = new DetachedBatchWriter(command.start, SYNC_EVERY_BYTES);
        decisionsHash = command.decisionsHash ? new Sha256(command.decisionsHash) : undefined;
        return;
      case 'lines':
        try {
          if (!writeFailed) writeLines(command);
        } catch (error) {
          failWriting(error);
        }
        Atomics.add(control, CONTROL.WRITTEN, 1);
        Atomics.notify(control, CONTROL.WRITTEN);
        return;
      case 'finish':
        if (writeFailed) return;
        return finishWriting();
    }
  };

  for (;;) {
    const signal = Atomics.load(control, CONTROL.SIGNAL);
    for (let command = receiveMessageOnPort(commands); command !== undefined; command = receiveMessageOnPort(commands)) {
      const serving = serve(command.message as ThreadCommand);
      if (serving !== undefined) await serving;
    }
    if (decoding !== undefined && Atomics.load(control, CONTROL.CREDITS) > 0) {
      let next: IteratorResult<LinesMessage>;
      try {
        next = await decoding.next();
      } catch (error) {
        decoding = undefined;
        port.postMessage(errorMessage(error));
        continue;
      }
      if (next.done) {
        decoding = undefined;
        port.postMessage({ kind: 'end' } satisfies DecodeMessage);
        continue;
      }
      const message = next.value;
      Atomics.sub(control, CONTROL.CREDITS, 1);
      // a message with no encoded mark has nothing to be referred to: held, it would be released only by a later
      // message's mark (a file of trades and deposits first would pile them all up)
      if (hold && hasEncodedMark(message)) held.set(nextHeld, holdJson(message, nextHeld++));
      port.postMessage(message satisfies DecodeMessage, transferList(message));
      continue;
    }
    // nothing to do: sleep until the main thread moves the signal (a credit, a command), or a while
    Atomics.store(control, CONTROL.SLEEPING, 1);
    Atomics.wait(control, CONTROL.SIGNAL, signal, WAIT_MS);
    Atomics.store(control, CONTROL.SLEEPING, 0);
  }
}

function hasEncodedMark(message: LinesMessage): boolean {
  const { kinds, jsonStart, count } = message;
  for (let i = 0; i < count; i++) if (kinds[i] === MARK && jsonStart[i]! >= 0) return true;
  return false;
}

function errorMessage(error: unknown): ErrorMessage {
  if (error instanceof InputError) return { kind: 'error', name: 'InputError', message: error.message, issues: error.issues, source: error.source, line: error.line };
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind: 'error', name: e.name, message: e.message, code: (e as NodeJS.ErrnoException).code };
}

function writerError(error: unknown): WriterMessage {
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind: 'write-error', message: e.message, code: (e as NodeJS.ErrnoException).code };
}

void main();
