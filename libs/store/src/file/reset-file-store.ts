import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { EVENTS_FILE, LOCK_FILE } from './file-event-store';
import { FileLock } from './file-lock';
import { HEAD_FILE } from './head-file';
import { SNAPSHOTS_DIR } from './file-snapshots';

/**
 * Empties a file store: its log, HEAD and snapshots are deleted, under the
 * writer lock, so a store that `serve` or `run` is writing is refused
 * (StoreLockedError) instead of being deleted under it. A directory that does
 * not exist is left alone (there is nothing to reset). Other files in the
 * directory are not touched.
 */
export async function resetFileStore(dir: string, what: string, warn: (message: string) => void = () => undefined): Promise<void> {
  try {
    await fs.access(dir);
  } catch {
    return;
  }
  const lock = await FileLock.acquire(path.join(dir, LOCK_FILE), what, warn);
  try {
    await fs.rm(path.join(dir, EVENTS_FILE), { force: true });
    await fs.rm(path.join(dir, HEAD_FILE), { force: true });
    await fs.rm(path.join(dir, SNAPSHOTS_DIR), { recursive: true, force: true });
  } finally {
    await lock.release();
  }
}
