import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeDirectoriesSync } from '@clearsim/store/directories';
import { UsageError } from '../cli-error';

/**
 * Makes `path` ready to be written by `flag` (`--decisions`, `--report`, …) before the command does anything: its
 * folder created, and refused (exit 2, naming the flag) when it cannot be a file — a directory already there, a
 * folder that cannot be made (a file above it, no permission). A run must not fail after its append for a path it
 * could have checked first.
 */
export function prepareOutputFile(flag: string, path: string): void {
  let existing;
  try {
    existing = statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    throw pathError(flag, path, error);
  }
  if (existing?.isDirectory()) throw new UsageError(`${flag}: ${path} is a directory; give the path of a file to write`);
  try {
    // folder by folder: Node's recursive mkdir never returns on a file system that refuses the folder (/proc)
    makeDirectoriesSync(dirname(path));
  } catch (error) {
    throw pathError(flag, path, error);
  }
}

/** Refuses an input path that is not a readable file (a directory, say) with a message naming it. */
export function checkInputFile(what: string, path: string): void {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${what} ${path} is a directory, not a file`);
}

function pathError(flag: string, path: string, error: unknown): UsageError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOTDIR' || code === 'EEXIST'
      ? 'a path above it is a file, not a folder'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'its folder cannot be written (permission, or a read-only file system)'
        : code === 'ENOENT'
          ? `its folder cannot be made there: ${(error as Error).message}`
          : (error as Error).message;
  return new UsageError(`${flag}: cannot write ${path}: ${why}`);
}
