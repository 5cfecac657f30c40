import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { writeFullySync } from './write-fully-sync';

/** The small file that proves how far the log reached: updated after every commit. */
export const HEAD_FILE = 'HEAD';
const FORMAT = 'clearsim-head';
/**
 * HEAD's fixed length: the record, padded with spaces, then a newline. One
 * length for every version lets a commit overwrite it in place (one small
 * write at offset 0, inside one disk sector) instead of a temporary file and
 * a rename. A record is about 300 bytes (three snapshots listed).
 */
export const HEAD_BYTES = 512;
/** Reads of an unreadable HEAD (a reader may meet a writer's in-place update half done: its CRC does not match) before it counts as unreadable. */
const HEAD_READ_TRIES = 3;

/**
 * What HEAD records: the last commit the writer made durable (its position,
 * the log line it ends on, the byte length of the log and the chain there),
 * which log it belongs to, and the snapshots kept. A log shorter than HEAD
 * was truncated; a listed snapshot that is gone was deleted.
 */
export interface HeadRecord {
  log: string;
  position: number;
  line: number;
  bytes: number;
  chain: string;
  snapshots: number[];
}

export type HeadRead = { kind: 'none' } | { kind: 'unreadable'; detail: string } | { kind: 'ok'; head: HeadRecord };

export async function readHead(dir: string): Promise<HeadRead> {
  let read: HeadRead = { kind: 'none' };
  for (let attempt = 0; attempt < HEAD_READ_TRIES; attempt++) {
    read = await readHeadOnce(dir);
    if (read.kind !== 'unreadable') return read;
  }
  return read;
}

async function readHeadOnce(dir: string): Promise<HeadRead> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, HEAD_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    return { kind: 'unreadable', detail: (error as Error).message };
  }
  let value: Partial<HeadRecord & { format: unknown; version: unknown; crc: unknown }>;
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    return { kind: 'unreadable', detail: text.trim() === '' ? 'it is empty' : 'it is not JSON' };
  }
  const whole = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  if (
    value === null ||
    typeof value !== 'object' ||
    value.format !== FORMAT ||
    value.version !== 1 ||
    typeof value.log !== 'string' ||
    !whole(value.position) ||
    !whole(value.line) ||
    !whole(value.bytes) ||
    typeof value.chain !== 'string' ||
    !Array.isArray(value.snapshots) ||
    !value.snapshots.every(whole) ||
    (value.crc !== undefined && typeof value.crc !== 'string')
  ) {
    return { kind: 'unreadable', detail: 'it is not a clearsim HEAD record' };
  }
  const { log, position, line, bytes, chain, snapshots } = value as HeadRecord;
  const head = { log, position, line, bytes, chain, snapshots };
  // a HEAD written before the CRC was added has none; one that has it must match (a torn in-place update does not)
  if (value.crc !== undefined && value.crc !== crcOf(recordJson(head))) return { kind: 'unreadable', detail: `its CRC-32 does not match its record (a torn update?)` };
  return { kind: 'ok', head };
}

function recordJson({ log, position, line, bytes, chain, snapshots }: HeadRecord): string {
  return JSON.stringify({ format: FORMAT, version: 1, log, position, line, bytes, chain, snapshots });
}

function crcOf(text: string): string {
  return crc32(text).toString(16).padStart(8, '0');
}

/** HEAD's bytes: the record with the CRC-32 of its JSON, padded to HEAD_BYTES; undefined if it does not fit (then it is written unpadded, and only by replacing). */
function headBytes(head: HeadRecord): { bytes: Buffer; fixed: boolean } {
  const json = recordJson(head);
  const text = `${json.slice(0, -1)},"crc":"${crcOf(json)}"}`;
  if (text.length >= HEAD_BYTES) return { bytes: Buffer.from(text + '\n', 'utf8'), fixed: false };
  return { bytes: Buffer.from(text.padEnd(HEAD_BYTES - 1, ' ') + '\n', 'utf8'), fixed: true };
}

/**
 * The writer's HEAD. Never fsynced, on purpose: HEAD is written only after
 * the log's own fsync, so whatever version of HEAD survives a power failure
 * never claims more than the log holds; losing the newest one only weakens
 * the proof for a moment, and an unreadable HEAD (a torn update fails its
 * CRC-32) is reported as a warning, never trusted.
 *
 * `replace` writes a temporary file and renames it over HEAD (on open, when
 * the snapshots listed change, and whenever no in-place update is possible);
 * `update` (after every commit) overwrites the fixed-length record in place
 * through a handle kept open, one `pwrite` of HEAD_BYTES at offset 0: the
 * proof is the same after every commit, at a few microseconds instead of a
 * file created and renamed. A reader that reads HEAD while an update is half
 * done sees a CRC that does not match and reads again.
 */
export class HeadFile {
  private handle?: FileHandle;

  constructor(private readonly dir: string) {}

  async replace(head: HeadRecord): Promise<void> {
    await this.close();
    const { bytes, fixed } = headBytes(head);
    const tmp = path.join(this.dir, `.${HEAD_FILE}.tmp-${process.pid}`);
    const file = path.join(this.dir, HEAD_FILE);
    try {
      await fs.writeFile(tmp, bytes);
      await fs.rename(tmp, file);
    } catch (error) {
      // a HEAD that cannot be replaced (a directory of that name, a full disk): the temporary is not left in the store
      await fs.rm(tmp, { force: true });
      throw error;
    }
    if (fixed) this.handle = await fs.open(file, 'r+');
  }

  async update(head: HeadRecord): Promise<void> {
    const { bytes, fixed } = headBytes(head);
    const handle = this.handle;
    if (!handle || !fixed) return this.replace(head);
    try {
      // synchronous: one small pwrite, cheaper than a thread-pool round trip (see SYNC_WRITE_MAX_BYTES in file-event-store.ts)
      writeFullySync(handle.fd, bytes, 0);
    } catch (error) {
      await this.close().catch(() => undefined); // the next update replaces HEAD
      throw error;
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}
