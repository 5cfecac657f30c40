import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '@clearsim/events';
import { decodeMessages, transferList, type DecodeMessage, type ErrorMessage } from './mark-columns';

/**
 * The decode thread of `clearsim run` (decode-thread.ts starts it): reads the file, posts its lines as
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
  const progress = { bytesRead: 0 };
  try {
    for await (const message of decodeMessages(file, progress, linesPerMessage)) {
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
