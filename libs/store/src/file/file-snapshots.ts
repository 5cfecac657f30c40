import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import type { Snapshot } from '../event-store.port';
import { sha256, SNAPSHOTS_KEPT } from '../adapter-support';

/** The snapshot directory inside a file store. */
export const SNAPSHOTS_DIR = 'snapshots';

/** Digits of a snapshot file name: every safe integer fits, and names sort like positions. */
const POSITION_DIGITS = 16;
const NAME_PATTERN = /^(\d{16})\.json$/;
const TMP_PREFIX = '.tmp-';
const FORMAT = 'clearsim-snapshot';
const STATE_KEY = ',"state":';

/** The file name of the snapshot at `position`: `0000000000001234.json`. */
export function snapshotFileName(position: number): string {
  return `${String(position).padStart(POSITION_DIGITS, '0')}.json`;
}

/** A snapshot as stored, with the anchor that ties it to its log (null: saved beyond the head, never trusted). */
export interface StoredSnapshot extends Snapshot {
  anchor: string | null;
}

/**
 * Snapshots of a file store: one file per snapshot, `<dir>/snapshots/<position
 * padded to 16 digits>.json`, holding
 * `{"format":"clearsim-snapshot","version":1,"position":N,"anchor":…,"sha256":…,"state":<state>}`
 * — the state text verbatim as the last member, so a JSON state leaves the file
 * readable with any JSON tool, while the store never parses the state itself;
 * `sha256` is the hash of the state text, checked on load.
 *
 * A save writes a temporary file, fsyncs it, renames it into place and fsyncs
 * the directory: a crash leaves either the old set of snapshots or the new one
 * (plus perhaps a stray temporary file, deleted by the next save). Only the
 * newest SNAPSHOTS_KEPT are kept. Not safe for two writers: the store's lock
 * makes the directory single-writer.
 */
export class FileSnapshots {
  private created = false;

  constructor(
    /** Absolute path of the snapshot directory. */
    readonly dir: string,
    private readonly warn: (message: string) => void,
  ) {}

  async save(snapshot: StoredSnapshot): Promise<void> {
    await this.ensureDir();
    const file = path.join(this.dir, snapshotFileName(snapshot.position));
    const tmp = path.join(this.dir, `${TMP_PREFIX}${snapshotFileName(snapshot.position)}-${process.pid}`);
    const header = JSON.stringify({ format: FORMAT, version: 1, position: snapshot.position, anchor: snapshot.anchor, sha256: sha256(snapshot.state) });
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
    await this.prune();
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

  /** Loads the snapshot at `position`; undefined (with a warning) when the file cannot be read or fails its checks. */
  async load(position: number): Promise<StoredSnapshot | undefined> {
    const file = path.join(this.dir, snapshotFileName(position));
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // pruned meanwhile
      this.warn(`${file}: ignoring an unreadable snapshot (${(error as Error).message})`);
      return undefined;
    }
    const problem = (detail: string) => {
      this.warn(`${file}: ignoring an unreadable snapshot (${detail})`);
      return undefined;
    };
    const split = text.indexOf(STATE_KEY);
    if (split < 0 || !text.endsWith('}\n')) return problem('not a clearsim snapshot file, or cut short');
    let header: { format?: unknown; version?: unknown; position?: unknown; anchor?: unknown; sha256?: unknown };
    try {
      header = JSON.parse(text.slice(0, split) + '}') as typeof header;
    } catch {
      return problem('its header is not JSON');
    }
    if (header.format !== FORMAT || header.version !== 1) return problem(`unknown format ${JSON.stringify(header.format)} version ${JSON.stringify(header.version)}`);
    if (header.position !== position) return problem(`it holds position ${JSON.stringify(header.position)}, but its name says ${position}`);
    if (typeof header.anchor !== 'string' && header.anchor !== null) return problem('no anchor');
    const state = text.slice(split + STATE_KEY.length, -2);
    if (sha256(state) !== header.sha256) return problem('the state does not match its SHA-256: the file is damaged');
    return { position, state, anchor: header.anchor };
  }

  /** Deletes all but the newest SNAPSHOTS_KEPT snapshots, and temporary files left by a crash. */
  private async prune(): Promise<void> {
    for (const position of (await this.positions()).slice(SNAPSHOTS_KEPT)) {
      await fs.rm(path.join(this.dir, snapshotFileName(position)), { force: true });
    }
    for (const name of await fs.readdir(this.dir)) {
      if (name.startsWith(TMP_PREFIX)) await fs.rm(path.join(this.dir, name), { force: true });
    }
  }

  private async ensureDir(): Promise<void> {
    if (this.created) return;
    const made = await fs.mkdir(this.dir, { recursive: true });
    if (made !== undefined) await fsyncDirectory(path.dirname(this.dir));
    this.created = true;
  }
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
