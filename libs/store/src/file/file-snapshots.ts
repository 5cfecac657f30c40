import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import type { Snapshot } from '../event-store.port';
import { sha256, SNAPSHOTS_KEPT } from '../adapter-support';
import { CorruptLogError } from '../errors';
import { makeDirectories } from './make-directories';

/** The snapshot directory inside a file store. */
export const SNAPSHOTS_DIR = 'snapshots';

/** Digits of a snapshot file name: every safe integer fits, and names sort like positions. */
const POSITION_DIGITS = 16;
const NAME_PATTERN = /^(\d{16})\.json$/;
const TMP_PREFIX = '.tmp-';
const FORMAT = 'clearsim-snapshot';
const VERSION = 2;
const STATE_KEY = ',"state":';
/** A header is well under this (position, log id, chain, anchor, sha256): enough to read it without the state. */
const HEADER_BYTES = 1024;

/** The file name of the snapshot at `position`: `0000000000001234.json`. */
export function snapshotFileName(position: number): string {
  return `${String(position).padStart(POSITION_DIGITS, '0')}.json`;
}

/** What ties a stored snapshot to its log, without its state. */
export interface SnapshotHeader {
  position: number;
  /** The id of the log it was taken from (null: a version-1 snapshot, of a log this version cannot read). */
  log: string | null;
  /** The log's chain at `position` when that was the head (the usual case), else null. */
  chain: string | null;
  /** SHA-256 of the canonical JSON of the event at `position` ('' at 0; null: saved beyond the head, never trusted). */
  anchor: string | null;
}

/** A snapshot as stored. */
export interface StoredSnapshot extends Snapshot, SnapshotHeader {}

/**
 * Snapshots of a file store: one file per snapshot, `<dir>/snapshots/<position
 * padded to 16 digits>.json`, holding
 * `{"format":"clearsim-snapshot","version":2,"position":N,"log":…,"chain":…,"anchor":…,"sha256":…,"state":<state>}`
 * — the state text verbatim as the last member, so a JSON state leaves the file
 * readable with any JSON tool, while the store never parses the state itself;
 * `sha256` is the hash of the state text, checked on load. `log` and `chain`
 * tie it to the log (see SnapshotHeader). A file that is not what this class
 * wrote is a CorruptLogError of kind `corrupt-snapshot` (crashes cannot make
 * one: saves are atomic).
 *
 * A save writes a temporary file, fsyncs it, renames it into place and fsyncs
 * the directory: a crash leaves either the old set of snapshots or the new one
 * (plus perhaps a stray temporary file, deleted by the next prune). `prune`
 * keeps the newest SNAPSHOTS_KEPT. Not safe for two writers: the store's lock
 * makes the directory single-writer.
 */
export class FileSnapshots {
  private created = false;

  constructor(
    /** Absolute path of the snapshot directory. */
    readonly dir: string,
  ) {}

  async save(snapshot: StoredSnapshot): Promise<void> {
    await this.ensureDir();
    const file = path.join(this.dir, snapshotFileName(snapshot.position));
    const tmp = path.join(this.dir, `${TMP_PREFIX}${snapshotFileName(snapshot.position)}-${process.pid}`);
    const { position, log, chain, anchor } = snapshot;
    const header = JSON.stringify({ format: FORMAT, version: VERSION, position, log, chain, anchor, sha256: sha256(snapshot.state) });
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(`${header.slice(0, -1)}${STATE_KEY}${snapshot.state}}\n`, 'utf8');
      await handle.sync();
    } catch (error) {
      await handle.close();
      await fs.rm(tmp, { force: true });
      throw error;
    }
    await handle.close();
    await fs.rename(tmp, file);
    await fsyncDirectory(this.dir);
  }

  /** The positions `prune` keeps, given the files present: the newest SNAPSHOTS_KEPT. */
  async kept(): Promise<number[]> {
    return (await this.positions()).slice(0, SNAPSHOTS_KEPT);
  }

  /** Positions of the snapshot files present, highest first. */
  async positions(): Promise<number[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const positions: number[] = [];
    for (const name of names) {
      const match = NAME_PATTERN.exec(name);
      if (match) positions.push(Number(match[1]));
    }
    return positions.sort((a, b) => b - a);
  }

  /**
   * Reads only the header of the snapshot at `position` (undefined: no such
   * file, e.g. pruned meanwhile). Throws CorruptLogError (corrupt-snapshot)
   * when the file is not a snapshot this store wrote.
   */
  async header(position: number): Promise<SnapshotHeader | undefined> {
    const file = path.join(this.dir, snapshotFileName(position));
    let handle: FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const buffer = Buffer.alloc(HEADER_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, HEADER_BYTES, 0);
      const text = buffer.toString('utf8', 0, bytesRead);
      const split = text.indexOf(STATE_KEY);
      if (split < 0) throw corrupt(file, 'not a clearsim snapshot file, or cut short (no "state" member in its first KB)');
      return parseHeader(file, position, text.slice(0, split));
    } finally {
      await handle.close();
    }
  }

  /**
   * Loads the snapshot at `position` (undefined: no such file, e.g. pruned
   * meanwhile). Throws CorruptLogError (corrupt-snapshot) when the file is not
   * a snapshot this store wrote, or its state does not match its SHA-256.
   */
  async load(position: number): Promise<StoredSnapshot | undefined> {
    const file = path.join(this.dir, snapshotFileName(position));
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // pruned meanwhile
      throw error;
    }
    const split = text.indexOf(STATE_KEY);
    if (split < 0 || !text.endsWith('}\n')) throw corrupt(file, 'not a clearsim snapshot file, or cut short');
    const header = parseHeader(file, position, text.slice(0, split), true);
    const state = text.slice(split + STATE_KEY.length, -2);
    if (sha256(state) !== header.sha256) throw corrupt(file, 'the state does not match its SHA-256: the file is damaged');
    return { position, log: header.log, chain: header.chain, anchor: header.anchor, state };
  }

  /** Deletes all but the newest SNAPSHOTS_KEPT snapshots, and temporary files left by a crash. */
  async prune(): Promise<void> {
    for (const position of (await this.positions()).slice(SNAPSHOTS_KEPT)) {
      await fs.rm(path.join(this.dir, snapshotFileName(position)), { force: true });
    }
    for (const name of await fs.readdir(this.dir)) {
      if (name.startsWith(TMP_PREFIX)) await fs.rm(path.join(this.dir, name), { force: true });
    }
  }
  private async ensureDir(): Promise<void> {
    if (this.created) return;
    const made = await makeDirectories(this.dir);
    if (made !== undefined) await fsyncDirectory(path.dirname(this.dir));
    this.created = true;
  }
}

function corrupt(file: string, detail: string): CorruptLogError {
  return new CorruptLogError(file, 0, detail, { unit: 'file', kind: 'corrupt-snapshot' });
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Parses and checks a snapshot header (the JSON before `,"state":`, closed with `}`). */
function parseHeader(file: string, position: number, headerText: string, withSha?: false): SnapshotHeader;
function parseHeader(file: string, position: number, headerText: string, withSha: true): SnapshotHeader & { sha256: string };
function parseHeader(file: string, position: number, headerText: string): SnapshotHeader & { sha256: string } {
  let header: { format?: unknown; version?: unknown; position?: unknown; log?: unknown; chain?: unknown; anchor?: unknown; sha256?: unknown };
  try {
    header = JSON.parse(headerText + '}') as typeof header;
  } catch {
    throw corrupt(file, 'its header is not JSON');
  }
  if (header.format !== FORMAT || (header.version !== 1 && header.version !== VERSION)) {
    throw corrupt(file, `unknown format ${JSON.stringify(header.format)} version ${JSON.stringify(header.version)}`);
  }
  if (header.position !== position) throw corrupt(file, `it holds position ${JSON.stringify(header.position)}, but its name says ${position}`);
  if (typeof header.anchor !== 'string' && header.anchor !== null) throw corrupt(file, 'no anchor');
  if (typeof header.sha256 !== 'string' || !HEX64.test(header.sha256)) throw corrupt(file, 'no sha256 of its state');
  if (header.version === 1) return { position, log: null, chain: null, anchor: header.anchor, sha256: header.sha256 };
  if (typeof header.log !== 'string') throw corrupt(file, 'no log id');
  if (header.chain !== null && (typeof header.chain !== 'string' || !HEX64.test(header.chain))) throw corrupt(file, 'its chain is not 64 hex digits');
  return { position, log: header.log, chain: header.chain as string | null, anchor: header.anchor, sha256: header.sha256 };
}

/** fsync on a directory makes a new entry in it durable. Not supported everywhere (Windows): skipped there. */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw error;
  } finally {
    await handle?.close();
  }
}
