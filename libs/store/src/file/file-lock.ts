import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StoreLockedError } from '../errors';
import type { FileHandle } from 'node:fs/promises';

/**
 * A single-writer lock: `<dir>/LOCK`, holding the owner's pid and created
 * with it in one step (a draft hard-linked into place: see createWithPid). A lock whose pid is no longer alive (the owner was killed)
 * is taken over with a warning; a live one is refused.
 *
 * Limits: the pid check is local to this machine (no NFS); a pid recycled by
 * another live process looks alive (the error says which file to delete); two
 * processes taking over the same stale lock at the same instant can race.
 */
/** Lock files this process holds, to tell "open twice here" from "a previous process had our pid". */
const heldHere = new Set<string>();

export class FileLock {
  private released = false;

  private constructor(readonly path: string) {}

  static async acquire(path: string, what: string, warn: (message: string) => void): Promise<FileLock> {
    await removeStaleDrafts(path);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await createWithPid(path)) {
        heldHere.add(path);
        return new FileLock(path);
      }
      const holder = await readPid(path);
      if (holder === undefined) continue; // removed while we looked: try again
      if (holder === 'unreadable') {
        throw new StoreLockedError(`${what} is locked: ${path} exists but holds no pid. If no clearsim process is using the store, delete ${path}.`, path);
      }
      if (holder === process.pid && heldHere.has(path)) {
        throw new StoreLockedError(`${what} is already open for writing in this process (pid ${holder}, lock ${path}); close it first.`, path);
      }
      // our own pid without us holding it: an earlier process had this pid (a container restarted, say)
      if (holder !== process.pid && isAlive(holder)) {
        throw new StoreLockedError(
          `${what} is locked by another process (pid ${holder}, lock ${path}): only one writer may open it. ` +
            `If that pid is not a clearsim process, delete ${path}.`,
          path,
        );
      }
      const gone = holder === process.pid ? 'an earlier process with the same pid as this one' : 'a process that is no longer running';
      warn(`${what}: taking over a stale lock ${path} left by pid ${holder} (${gone})`);
      await fs.rm(path, { force: true });
    }
    throw new StoreLockedError(`${what}: could not take the lock ${path} (it keeps changing; is another process opening the store?)`, path);
  }

  /** Removes the lock file if it is still ours. Safe to call twice. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.path);
    if ((await readPid(this.path)) === process.pid) await fs.rm(this.path, { force: true });
  }
}

/**
 * Creates `path` holding this process's pid, or answers false when it
 * already exists. The pid is written to a draft (`<path>.<pid>`) that is then
 * hard-linked to `path` (link fails when the target exists, as O_EXCL does),
 * so the lock appears with its pid or not at all: a writer killed while
 * taking it leaves no lock without a pid, which nobody could tell from a
 * live one (at most a draft, removed by the next writer).
 */
async function createWithPid(path: string): Promise<boolean> {
  const draft = `${path}.${process.pid}`;
  const handle: FileHandle = await fs.open(draft, 'w');
  try {
    await handle.writeFile(`${process.pid}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.link(draft, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await fs.rm(draft, { force: true });
  }
}

/** Drafts of `path` (createWithPid) left by writers killed while taking the lock: those of pids no longer running, and ours. */
async function removeStaleDrafts(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = name.slice(prefix.length);
    if (!/^[1-9]\d*$/.test(pid)) continue;
    if (Number(pid) === process.pid || !isAlive(Number(pid))) await fs.rm(join(dir, name), { force: true });
  }
}

async function readPid(path: string): Promise<number | 'unreadable' | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const trimmed = text.trim();
  return /^[1-9]\d*$/.test(trimmed) ? Number(trimmed) : 'unreadable';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
