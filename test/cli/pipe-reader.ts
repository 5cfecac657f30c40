import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

/**
 * A named pipe `name` in `dir` with a reader on it (`cat`), for the tests of outputs that must be written into a
 * pipe rather than replaced by a renamed temporary: `closed` settles once the writer has closed it (made before
 * anything writes, so a writer that finishes first is not missed), `text()` is what was read, `stop()` ends the
 * reader if it is still there.
 */
export function pipeReader(dir: string, name: string): { fifo: string; closed: Promise<unknown>; text: () => string; stop: () => void } {
  const fifo = join(dir, name);
  const made = spawnSync('mkfifo', [fifo]);
  if (made.status !== 0) throw new Error(`mkfifo ${fifo} failed: ${String(made.stderr)}`);
  const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
  let read = '';
  reader.stdout.on('data', (chunk) => (read += chunk));
  const closed = once(reader, 'close');
  return { fifo, closed, text: () => read, stop: () => void (reader.exitCode === null && reader.kill()) };
}
