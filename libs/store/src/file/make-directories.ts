import { mkdirSync, promises as fs, statSync, type Stats } from 'node:fs';
import * as path from 'node:path';

/**
 * `mkdir -p`, one folder at a time: the folders missing below the deepest one that exists are made in order, each
 * with a plain (non-recursive) mkdir. Node's own recursive mkdir (`recursive: true`, Node 20) never returns where a
 * file system refuses a new folder with ENOENT although its parent exists, as /proc does: it takes the ENOENT for a
 * missing parent, makes the parent (there already) and tries the folder again, forever. Here that refusal is thrown
 * at once, as the system's error naming the folder (ENOENT, mkdir), as a file in the way is (ENOTDIR, or EEXIST when
 * `dir` itself is one). Answers the first folder made, or undefined when `dir` was a directory already, as recursive
 * mkdir does. A folder another process makes meanwhile is taken as made.
 */
export async function makeDirectories(dir: string): Promise<string | undefined> {
  const missing: string[] = [];
  for (let folder = path.resolve(dir); ; folder = path.dirname(folder)) {
    const stats = await fs.stat(folder).catch(absent);
    if (!planned(missing, folder, stats)) break;
  }
  let first: string | undefined;
  for (const folder of missing) {
    try {
      await fs.mkdir(folder);
      first ??= folder;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && (await fs.stat(folder).catch(absent))?.isDirectory()) continue;
      throw explained(error, (await fs.stat(path.dirname(folder)).catch(absent))?.isDirectory() === true);
    }
  }
  return first;
}

/** makeDirectories, synchronously (the CLI's output files). */
export function makeDirectoriesSync(dir: string): string | undefined {
  const missing: string[] = [];
  for (let folder = path.resolve(dir); ; folder = path.dirname(folder)) {
    let stats: Stats | undefined;
    try {
      stats = statSync(folder);
    } catch (error) {
      stats = absent(error);
    }
    if (!planned(missing, folder, stats)) break;
  }
  let first: string | undefined;
  for (const folder of missing) {
    try {
      mkdirSync(folder);
      first ??= folder;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && statSync(folder, { throwIfNoEntry: false })?.isDirectory()) continue;
      let parentIsDirectory = false;
      try {
        parentIsDirectory = statSync(path.dirname(folder)).isDirectory();
      } catch {
        // gone meanwhile: the system's error as it is
      }
      throw explained(error, parentIsDirectory);
    }
  }
  return first;
}

/** A stat's answer when nothing is there (ENOENT) or a file is above it (ENOTDIR): undefined. Other errors are thrown. */
function absent(error: unknown): undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
  throw error;
}

/**
 * Adds `folder` to the folders to make, outermost first, while it does not exist: false once the walk up is done.
 * What exists and is not a directory ends it too: the mkdir below it is what the system refuses (ENOTDIR), or, when
 * it is `dir` itself, the mkdir of it (EEXIST), as recursive mkdir would.
 */
function planned(missing: string[], folder: string, stats: Stats | undefined): boolean {
  if (stats !== undefined) {
    if (!stats.isDirectory() && missing.length === 0) missing.push(folder);
    return false;
  }
  missing.unshift(folder);
  // the root exists; a path whose root does not (another drive) is left to mkdir to refuse
  return path.dirname(folder) !== folder;
}

/** An ENOENT of a folder whose parent is a directory: the system's error (code, syscall, path kept), saying why. */
function explained(error: unknown, parentIsDirectory: boolean): unknown {
  const system = error as NodeJS.ErrnoException;
  // not `instanceof Error`: the system's errors may come from another realm (a test's sandbox)
  if (system.code === 'ENOENT' && parentIsDirectory && typeof system.message === 'string' && typeof system.path === 'string') {
    system.message += ` (${path.dirname(system.path)} exists, but its file system makes no folder in it)`;
  }
  return error;
}
