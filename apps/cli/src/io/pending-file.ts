import { closeSync, openSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The signals that end a command early: a file it is writing is removed first. */
const INTERRUPTS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Runs `cleanUp` if the command is interrupted (Ctrl-C, SIGTERM, SIGHUP) before the returned function is called,
 * then lets the signal end the process as it would have without a handler.
 */
export function cleanUpOnInterrupt(cleanUp: () => void): () => void {
  const interrupted = (signal: NodeJS.Signals): void => {
    stop();
    cleanUp();
    process.kill(process.pid, signal);
  };
  const stop = (): void => {
    for (const signal of INTERRUPTS) process.off(signal, interrupted);
  };
  for (const signal of INTERRUPTS) process.once(signal, interrupted);
  return stop;
}

/** The temporary an output `path` is written to before it is renamed: beside it (the rename stays within its file system), its name cut to stay within 255 bytes. */
export function temporaryBeside(path: string): string {
  return join(dirname(path), `.${basename(path).slice(0, 200)}.${process.pid}.tmp`);
}

/**
 * An output file as it is written (`run --decisions`, `generate population|day`): a temporary beside it, renamed to
 * the path by `keep`, removed by `discard` if not kept — and removed too if the command is interrupted (Ctrl-C,
 * SIGTERM, SIGHUP) before either, after which the signal ends the process as it would have. A reader of the path
 * never sees half a file, and an interrupted command leaves no temporary behind.
 *
 * A path that exists and is not a regular file (/dev/null, /dev/stdout, a named pipe) is written in place: a
 * temporary renamed over it would replace the device (as root, /dev/null itself) or the pipe with a file.
 */
export class PendingFile {
  /** Where the bytes go: the temporary, or the path itself when it is written in place (a writer that opens files by name, e.g. a stream, opens this). */
  readonly temporary: string;
  private readonly inPlace: boolean;
  private fd: number | undefined;
  private readonly stopWatching: () => void;

  constructor(private readonly path: string) {
    const existing = statSync(path, { throwIfNoEntry: false });
    this.inPlace = existing !== undefined && !existing.isFile();
    this.temporary = this.inPlace ? path : temporaryBeside(path);
    this.fd = openSync(this.temporary, 'w');
    this.stopWatching = this.inPlace ? () => undefined : cleanUpOnInterrupt(() => this.discard());
  }

  write(text: string): void {
    writeFileSync(this.fd!, text);
  }

  /** Closes the temporary (for a writer that wrote it by name) without keeping or discarding it yet. */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  keep(): void {
    this.close();
    this.stopWatching();
    if (!this.inPlace) renameSync(this.temporary, this.path);
  }

  discard(): void {
    this.close();
    this.stopWatching();
    if (!this.inPlace) rmSync(this.temporary, { force: true });
  }

}
