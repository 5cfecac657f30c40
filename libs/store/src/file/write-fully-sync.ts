import { writeSync } from 'node:fs';

/** Writes all of `bytes` to `fd` at `offset` with synchronous `pwrite`s (a pwrite may write less than it is given). */
export function writeFullySync(fd: number, bytes: Uint8Array, offset: number): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, offset + done);
}
