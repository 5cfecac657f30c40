import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '@clearsim/events';
import { decodeMessages, transferList, type DecodeMessage, type ErrorMessage, type HandOver } from './mark-columns';

/**
 * The decode thread of `clearsim run` (decode-thread.ts starts it): once loaded, posts `ready` and waits for its
 * HandOver (the line after which it takes over), then reads the file and posts its lines from there as
 * LinesMessages, then `end`, or the reader's error. It posts a message only while `credits[0]` (shared memory) is
 * above 0 and takes one off per message; the main thread gives one back per message it takes — a shared counter
 * rather than a message back, which cost the main thread ~1 ms of waiting on the port per message on a busy machine.
 */
export interface DecodeWorkerData {
  file: string;
  credits: Int32Array<SharedArrayBuffer>;
  linesPerMessage: number;
}

/** How long the thread sleeps at most before it looks at its credits again (it is woken by Atomics.notify). */
const CREDIT_WAIT_MS = 100;

const port = parentPort!;
const { file, credits, linesPerMessage } = workerData as DecodeWorkerData;

async function main(): Promise<void> {
  // loaded: the main thread, which decodes the first lines itself meanwhile, says where to take over
  const handOver = new Promise<HandOver>((resolve) => port.once('message', resolve));
  port.postMessage({ kind: 'ready' } satisfies DecodeMessage);
  const from = await handOver;
  const progress = { bytesRead: 0 };
  try {
    for await (const message of decodeMessages(file, progress, linesPerMessage, undefined, from)) {
      // nothing else runs on this thread between messages (the reader is suspended at its yield): it may block
      while (Atomics.load(credits, 0) <= 0) Atomics.wait(credits, 0, 0, CREDIT_WAIT_MS);
      Atomics.sub(credits, 0, 1);
      port.postMessage(message satisfies DecodeMessage, transferList(message));
    }
    port.postMessage({ kind: 'end' } satisfies DecodeMessage);
  } catch (error) {
    port.postMessage(errorMessage(error));
  }
}

function errorMessage(error: unknown): ErrorMessage {
  if (error instanceof InputError) return { kind: 'error', name: 'InputError', message: error.message, issues: error.issues, source: error.source, line: error.line };
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind: 'error', name: e.name, message: e.message, code: (e as NodeJS.ErrnoException).code };
}

void main();
