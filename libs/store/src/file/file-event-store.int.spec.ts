import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { encodeEvent } from '@clearsim/events';
import type { EventStore, StoredEvent } from '../event-store.port';
import { describeEventStoreContract, sampleEvents } from '../testing';
import { CorruptLogError, EVENTS_FILE, FileEventStore, HEAD_FILE, LOCK_FILE } from './file-event-store';
import { HEAD_BYTES } from './head-file';
import { ReadOnlyStoreError, StoreNotFoundError, StoreUrlError, type CorruptionKind } from '../errors';
import { SNAPSHOTS_DIR } from './file-snapshots';
import { DetachedBatchWriter, isDetachable } from './detached-batch';
import { eventLine, MarkJsonEncoder } from './log-format';

const tempDirs: string[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearsim-file-store-'));
  tempDirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function readAll(store: EventStore, fromPosition?: number, toPosition?: number): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const stored of store.read(fromPosition, toPosition === undefined ? undefined : { toPosition })) out.push(stored);
  return out;
}

const unexpectedWarning = (message: string) => {
  throw new Error(`unexpected warning: ${message}`);
};

describeEventStoreContract('FileEventStore', async () => {
  const dir = tempDir();
  let current = await FileEventStore.open(dir, { warn: unexpectedWarning });
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await FileEventStore.open(dir, { warn: unexpectedWarning });
      return current;
    },
    cleanup: async () => {
      await current.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('FileEventStore', () => {
  let dir: string;
  let warnings: string[];
  const open = () => FileEventStore.open(dir, { warn: (message) => warnings.push(message) });
  const openReadOnly = () => FileEventStore.open(dir, { warn: (message) => warnings.push(message), readOnly: true });
  const logFile = () => path.join(dir, EVENTS_FILE);
  const lines = () => fs.readFileSync(logFile(), 'utf8').split('\n').slice(0, -1);
  /** The 1-based line number of the line holding `position`. */
  const lineOf = (position: number) => lines().findIndex((line) => line.startsWith(`{"position":${position},`)) + 1;
  const writeLines = (all: string[]) => fs.writeFileSync(logFile(), all.map((l) => l + '\n').join(''));
  /** Opening must refuse, and change no byte of the store. */
  async function expectRefused(opening: () => Promise<unknown>, kind: CorruptionKind, message: string | RegExp): Promise<CorruptLogError> {
    const before = directoryHashes(dir);
    const error = await opening().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CorruptLogError);
    expect((error as CorruptLogError).kind).toBe(kind);
    expect((error as Error).message).toMatch(message);
    expect(directoryHashes(dir)).toEqual(before);
    return error as CorruptLogError;
  }

  beforeEach(() => {
    dir = tempDir();
    warnings = [];
  });

  it('writes a header, one line per event (position, CRC-32, canonical event) and a commit record chaining the batch', async () => {
    const store = await open();
    const events = sampleEvents(3);
    await store.append(events, 0);
    await store.append(sampleEvents(1, 3), 3);
    await store.close();

    const [header, ...rest] = lines();
    expect(header).toMatch(/^\{"format":"clearsim-log","version":3,"log":"[0-9a-f-]{36}"\}$/);
    const eventLines = events.map((e, i) => `{"position":${i + 1},"crc":"${crc32(encodeEvent(e)).toString(16).padStart(8, '0')}",${encodeEvent(e).slice(1)}`);
    expect(rest.slice(0, 3)).toEqual(eventLines);
    // chain_1 = SHA-256(SHA-256(header line + "\n") ‖ the three event lines with their newlines)
    const chain0 = createHash('sha256').update(header + '\n').digest();
    const chain1 = createHash('sha256').update(chain0).update(eventLines.map((l) => l + '\n').join('')).digest('hex');
    expect(rest[3]).toBe(`\t{"commit":3,"events":3,"chain":"${chain1}"}`); // a TAB first: no event line holds one
    const chain2 = createHash('sha256').update(Buffer.from(chain1, 'hex')).update(rest[4] + '\n').digest('hex');
    expect(rest[5]).toBe(`\t{"commit":4,"events":1,"chain":"${chain2}"}`);
    expect(rest).toHaveLength(6);
    // HEAD: the last commit's position, line (header + 4 events + 2 commit records = 7) and chain
    const head = JSON.parse(fs.readFileSync(path.join(dir, HEAD_FILE), 'utf8'));
    expect(head).toMatchObject({ format: 'clearsim-head', position: 4, line: 7, bytes: fs.statSync(logFile()).size, chain: chain2, snapshots: [] });
  });

  it('creates the directory (and its parents), a log holding only its header, and HEAD at position 0', async () => {
    const nested = path.join(dir, 'a', 'b');
    const store = await FileEventStore.open(nested);
    expect(await store.head()).toBe(0);
    expect(fs.readFileSync(path.join(nested, EVENTS_FILE), 'utf8')).toBe(`{"format":"clearsim-log","version":3,"log":"${store.id}"}\n`);
    expect(JSON.parse(fs.readFileSync(path.join(nested, HEAD_FILE), 'utf8'))).toMatchObject({ position: 0, log: store.id });
    await store.close();
  });

  describe('given a log whose last write was torn by a crash', () => {
    let intact: number;
    beforeEach(async () => {
      const store = await open();
      await store.append(sampleEvents(3), 0);
      await store.close();
      intact = fs.statSync(logFile()).size;
    });

    it('a writer cuts off an unterminated last line with a warning naming the bytes, and the next append continues at the right position', async () => {
      fs.appendFileSync(logFile(), '{"position":4,"crc":"00000000","type":"PriceUpd'); // 47 bytes

      const store = await open();

      expect(await store.head()).toBe(3);
      expect(fs.statSync(logFile()).size).toBe(intact);
      expect(warnings).toEqual([
        `${logFile()}: dropped, after the last commit (position 3), a torn write of 47 byte(s) after the last newline: 47 byte(s) from byte offset ${intact} (a write cut short by a crash)`,
      ]);
      expect(await store.append(sampleEvents(2, 3), 3)).toBe(5);
      expect((await readAll(store)).map((s) => s.position)).toEqual([1, 2, 3, 4, 5]);
      await store.close();
    });

    it('a writer cuts off lines without a commit record (whatever their bytes), naming the positions', async () => {
      const two = sampleEvents(2, 3).map((e, i) => `{"position":${4 + i},"crc":"00000000",${encodeEvent(e).slice(1)}\n`).join('');
      fs.appendFileSync(logFile(), two + '\0\0\0\0\0\n{"position":6');

      const store = await open();

      expect(await store.head()).toBe(3);
      expect(fs.statSync(logFile()).size).toBe(intact);
      const dropped = Buffer.byteLength(two) + 19;
      expect(warnings).toEqual([
        `${logFile()}: dropped, after the last commit (position 3), an incomplete final batch (positions 4..5, no commit record) and a torn write of 13 byte(s) after the last newline: ${dropped} byte(s) from byte offset ${intact} (a write cut short by a crash)`,
      ]);
      expect(await store.append(sampleEvents(1, 3), 3)).toBe(4);
      await store.close();
    });

    it('a reader skips it with a warning and changes nothing', async () => {
      fs.appendFileSync(logFile(), '{"position":4,"crc":"00000000","type":"PriceUpd');
      const before = directoryHashes(dir);

      const store = await openReadOnly();

      expect(await store.head()).toBe(3);
      expect((await readAll(store)).map((s) => s.position)).toEqual([1, 2, 3]);
      expect(warnings).toEqual([expect.stringContaining(`${logFile()}: skipping, after the last commit (position 3), a torn write of 47 byte(s)`)]);
      await store.close();
      expect(directoryHashes(dir)).toEqual(before);
    });

    it('a writer replaces a header torn while the log was created (no HEAD yet)', async () => {
      fs.rmSync(path.join(dir, HEAD_FILE));
      fs.writeFileSync(logFile(), '{"form');
      const store = await open();
      expect(await store.head()).toBe(0);
      expect(warnings).toEqual([`${logFile()}: dropped a torn header (6 byte(s)) written by a crash while the log was created`]);
      expect(await store.append(sampleEvents(1), 0)).toBe(1);
      await store.close();
    });

    it('opens a clean log without a warning', async () => {
      const store = await open();
      expect(await store.head()).toBe(3);
      expect(warnings).toEqual([]);
      await store.close();
    });
  });

  describe('a final batch torn by a power failure during its one fsync (its commit record kept, some of its lines lost)', () => {
    // Positions 1..4, 5..7, then 8..10; `staleHead` is HEAD as it was after the commit of 7: a power failure
    // during the fsync of 8..10 leaves HEAD there (it is written only after that fsync returns).
    let staleHead: Buffer;
    let intact: Buffer;
    beforeEach(async () => {
      const store = await open();
      await store.append(sampleEvents(4), 0);
      await store.append(sampleEvents(3, 4), 4);
      staleHead = fs.readFileSync(path.join(dir, HEAD_FILE));
      await store.append(sampleEvents(3, 7), 7);
      await store.close();
      intact = fs.readFileSync(logFile());
    });
    /** Zeroes the 64 bytes of the log from the start of position 9's line (a page the disk never got). */
    const loseBytesOfPosition9 = () => {
      const bytes = Buffer.from(intact);
      bytes.fill(0, bytes.indexOf('{"position":9,'), bytes.indexOf('{"position":9,') + 64);
      fs.writeFileSync(logFile(), bytes);
    };
    const committedUpTo7 = () => intact.subarray(0, intact.indexOf('{"position":8,'));

    it('HEAD stops before it: a writer cuts it off with a warning naming the positions and the damage; the store then verifies', async () => {
      loseBytesOfPosition9();
      fs.writeFileSync(path.join(dir, HEAD_FILE), staleHead);
      const store = await open();
      expect(await store.head()).toBe(7);
      expect(warnings).toEqual([
        expect.stringMatching(
          new RegExp(
            `^${logFile().replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: dropped, after the last commit vouched for \\(position 7\\), a final batch \\(positions 8..10, ${intact.length - committedUpTo7().length} byte\\(s\\) from byte offset ${committedUpTo7().length}\\) that does not verify \\(.*a NUL byte.*\\)`,
          ),
        ),
      ]);
      expect(fs.readFileSync(logFile()).equals(committedUpTo7())).toBe(true);
      await store.append(sampleEvents(1, 7), 7); // the log goes on from 7
      await store.close();
      warnings = [];
      const again = await open();
      expect(await again.head()).toBe(8);
      expect(warnings).toEqual([]);
      await again.close();
    });

    it('HEAD stops before it: a reader skips it with a warning and changes no byte', async () => {
      loseBytesOfPosition9();
      fs.writeFileSync(path.join(dir, HEAD_FILE), staleHead);
      const before = directoryHashes(dir);
      const store = await openReadOnly();
      expect(await store.head()).toBe(7);
      expect((await readAll(store)).map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      await store.close();
      expect(warnings).toEqual([expect.stringContaining('skipping, after the last commit vouched for (position 7), a final batch (positions 8..10,')]);
      expect(directoryHashes(dir)).toEqual(before);
    });

    it('HEAD vouches for it (its fsync returned): the same damage is refused, naming the line', async () => {
      loseBytesOfPosition9();
      await expectRefused(open, 'invalid-bytes', `${logFile()}:line ${lineOf(8) + 1}: corrupt event log: a NUL byte`);
    });

    it('damage in an earlier batch is refused even when HEAD stops before the final batch', async () => {
      const bytes = Buffer.from(intact);
      bytes.fill(0, bytes.indexOf('{"position":6,'), bytes.indexOf('{"position":6,') + 64);
      fs.writeFileSync(logFile(), bytes);
      fs.writeFileSync(path.join(dir, HEAD_FILE), staleHead);
      await expectRefused(open, 'invalid-bytes', `${logFile()}:line ${lineOf(5) + 1}: corrupt event log: a NUL byte`);
    });
  });

  describe('integrity: every damage is an early error naming the line, and the store is left as it was', () => {
    // 3 batches: positions 1..4 (lines 2-5, commit line 6), 5..7 (lines 7-9, commit 10), 8..10 (lines 11-13, commit 14)
    beforeEach(async () => {
      const store = await open();
      await store.append(sampleEvents(4), 0);
      await store.append(sampleEvents(3, 4), 4);
      await store.saveSnapshot({ position: 7, state: 'at 7' });
      await store.append(sampleEvents(3, 7), 7);
      await store.close();
      expect(lineOf(6)).toBe(8);
    });

    it('a changed amount: tampered-line at its exact line, on a writer or a reader open', async () => {
      const all = lines();
      const line = lineOf(5); // sample 4 is a Deposited of 1004.5
      expect(all[line - 1]).toContain('"amount":"1004.5"');
      all[line - 1] = all[line - 1]!.replace('"amount":"1004.5"', '"amount":"9004.5"');
      writeLines(all);

      const expected = `${logFile()}:line ${line}: corrupt event log: position 5: the line's bytes changed since it was written (its CRC-32 does not match: a changed field, e.g. an amount?)`;
      await expectRefused(open, 'tampered-line', expected);
      await expectRefused(openReadOnly, 'tampered-line', expected);
    });

    it('a line removed from the middle: missing-line where it was', async () => {
      const all = lines();
      all.splice(lineOf(6) - 1, 1);
      writeLines(all);
      await expectRefused(open, 'missing-line', `${logFile()}:line 8: corrupt event log: position 6 missing: this line holds position 7 (a line removed from the middle of the log?)`);
    });

    it('a NUL byte: invalid-bytes, naming the byte offset', async () => {
      const bytes = fs.readFileSync(logFile());
      const offset = bytes.indexOf('"price"', bytes.indexOf('{"position":6,'));
      bytes[offset + 3] = 0;
      fs.writeFileSync(logFile(), bytes);
      await expectRefused(open, 'invalid-bytes', `${logFile()}:line 8: corrupt event log: a NUL byte at byte offset ${offset + 3}`);
    });

    it('bytes that are not UTF-8: invalid-bytes', async () => {
      const bytes = fs.readFileSync(logFile());
      bytes[bytes.indexOf('BTC-PERP', bytes.indexOf('{"position":6,'))] = 0xff;
      fs.writeFileSync(logFile(), bytes);
      await expectRefused(open, 'invalid-bytes', `${logFile()}:line 8: corrupt event log: bytes that are not UTF-8 in the line holding position 6`);
    });

    it('a changed commit record: tampered-line at the record', async () => {
      const all = lines();
      all[9] = all[9]!.replace(/"chain":"(.)/, (_, c: string) => `"chain":"${c === '0' ? '1' : '0'}`);
      writeLines(all);
      await expectRefused(open, 'tampered-line', `${logFile()}:line 10: corrupt event log: the hash chain does not match the commit record of positions 5..7`);
    });

    it('truncation at a line boundary after a commit in the middle: truncated-log, proved by HEAD', async () => {
      writeLines(lines().slice(0, 10)); // positions 1..7 and their commit records
      await expectRefused(
        open,
        'truncated-log',
        `${logFile()}:line 10: corrupt event log: the log ends at position 7 (line 10, byte ${fs.statSync(logFile()).size}), but HEAD records position 10 committed (line 14): positions 8..10 missing (the log was truncated)`,
      );
      await expectRefused(openReadOnly, 'truncated-log', /positions 8\.\.10 missing/);
    });

    it('truncation with HEAD gone: the snapshot at position 7 proves it', async () => {
      writeLines(lines().slice(0, 6)); // positions 1..4
      fs.rmSync(path.join(dir, HEAD_FILE));
      await expectRefused(open, 'truncated-log', /the log ends at position 4 .*, but the snapshot .*0000000000000007\.json was taken at position 7 of this log: positions 5\.\.7 missing/);
    });

    it('an input kept without its decisions (the last batch cut inside): missing-decisions, naming what is kept and what is missing', async () => {
      writeLines(lines().slice(0, 11)); // the last batch's first line (position 8) kept, 9..10 and its commit record gone
      await expectRefused(
        open,
        'missing-decisions',
        `${logFile()}:line 11: corrupt event log: a batch cut inside: position 8 is kept without the rest of its batch and its commit record (an input kept without its decisions?), but HEAD records position 10 committed: positions 9..10 missing (the log was truncated)`,
      );
    });

    it('a deleted snapshot (listed in HEAD): corrupt-snapshot', async () => {
      fs.rmSync(path.join(dir, SNAPSHOTS_DIR, '0000000000000007.json'));
      await expectRefused(open, 'corrupt-snapshot', `${path.join(dir, SNAPSHOTS_DIR)}: corrupt snapshot: the snapshot at position 7, listed in HEAD, is missing (deleted?)`);
    });

    it('a damaged snapshot header: corrupt-snapshot on open; a damaged state: corrupt-snapshot when it is loaded', async () => {
      const file = path.join(dir, SNAPSHOTS_DIR, '0000000000000007.json');
      const original = fs.readFileSync(file, 'utf8');
      fs.writeFileSync(file, original.replace('"position":7', '"position":8'));
      await expectRefused(open, 'corrupt-snapshot', `${file}: corrupt snapshot: it holds position 8, but its name says 7`);

      fs.writeFileSync(file, original.replace(',"state":at 7}', ',"state":at 9}'));
      const store = await open();
      await expect(store.latestSnapshot()).rejects.toThrow(`${file}: corrupt snapshot: the state does not match its SHA-256: the file is damaged`);
      await store.close();
    });

    it('a log of the previous format (no header, no commit records): old-format, not upgraded', async () => {
      fs.rmSync(path.join(dir, HEAD_FILE));
      fs.rmSync(path.join(dir, SNAPSHOTS_DIR), { recursive: true });
      writeLines(sampleEvents(2).map((e, i) => `{"position":${i + 1},${encodeEvent(e).slice(1)}`));
      await expectRefused(open, 'old-format', `${logFile()}:line 1: corrupt event log: this log was written by an older clearsim (event lines without a format header, checksums or commit records)`);
    });
  });

  describe('read-only opens', () => {
    it('change no byte of the store, take no lock, read as of their open, and refuse writes', async () => {
      const writer = await open();
      await writer.append(sampleEvents(5), 0);
      await writer.saveSnapshot({ position: 5, state: 'five' });
      const before = directoryHashes(dir);

      const reader = await openReadOnly(); // while the writer holds the lock
      expect(directoryHashes(dir)).toEqual(before);
      await writer.append(sampleEvents(2, 5), 5);

      expect(await reader.head()).toBe(5);
      expect((await readAll(reader)).map((s) => s.position)).toEqual([1, 2, 3, 4, 5]);
      expect(await reader.latestSnapshot()).toEqual({ position: 5, state: 'five' });
      await expect(reader.append(sampleEvents(1, 7), 5)).rejects.toThrow(new ReadOnlyStoreError(`file:${dir}`, 'append'));
      await expect(reader.beginAppend(5)).rejects.toBeInstanceOf(ReadOnlyStoreError);
      await expect(reader.saveSnapshot({ position: 5, state: 'x' })).rejects.toBeInstanceOf(ReadOnlyStoreError);
      await reader.close();
      await writer.close();
      expect(warnings).toEqual([]);
    });

    it('of a missing directory, a directory without a log or a log without events: StoreNotFoundError, nothing created', async () => {
      const missing = path.join(dir, 'nope');
      await expect(FileEventStore.open(missing, { readOnly: true, url: 'file:./nope' })).rejects.toThrow(
        new StoreNotFoundError('file:./nope', 'no such directory'),
      );
      expect(fs.existsSync(missing)).toBe(false);
      expect(new StoreNotFoundError('file:./nope', 'no such directory').message).toBe(
        'no clearsim store at file:./nope (no such directory); check --store, or create one with clearsim run',
      );

      await expect(openReadOnly()).rejects.toThrow(`no ${EVENTS_FILE} in ${dir}`);
      expect(fs.readdirSync(dir)).toEqual([]);

      await (await open()).close();
      const before = directoryHashes(dir);
      await expect(openReadOnly()).rejects.toThrow(`(${EVENTS_FILE} holds no event)`);
      expect(directoryHashes(dir)).toEqual(before);
    });

    it('at a path that is a file (or under one): a writer says so (StoreUrlError), a reader finds no store; the file is untouched', async () => {
      const file = path.join(dir, 'a-file');
      fs.writeFileSync(file, 'x');
      await expect(FileEventStore.open(file, { url: 'file:./a-file' })).rejects.toThrow(new StoreUrlError(`file:./a-file: ${file} is a file, not a directory: a file store is a directory`));
      await expect(FileEventStore.open(path.join(file, 'sub'), { url: 'file:./a-file/sub' })).rejects.toBeInstanceOf(StoreUrlError);
      await expect(FileEventStore.open(file, { readOnly: true, url: 'file:./a-file' })).rejects.toThrow(
        new StoreNotFoundError('file:./a-file', `${file} or a path above it is a file, not a directory`),
      );
      await expect(FileEventStore.open(path.join(file, 'sub'), { readOnly: true })).rejects.toBeInstanceOf(StoreNotFoundError);
      expect(fs.readFileSync(file, 'utf8')).toBe('x');
      expect(fs.readdirSync(dir)).toEqual(['a-file']);
    });

    it('where the file system makes no folder (/proc): a writer fails at once with the system error naming the folder', async () => {
      // Node's recursive mkdir loops forever there (ENOENT for the folder, EEXIST for /proc, and again)
      await expect(FileEventStore.open('/proc/clearsim-test/x')).rejects.toMatchObject({ code: 'ENOENT', syscall: 'mkdir', path: '/proc/clearsim-test' });
      expect(fs.existsSync('/proc/clearsim-test')).toBe(false);
    }, 10_000);
  });

  describe('transactions', () => {
    it('write chunks after the head that no reader sees until commit; commit adds one commit record', async () => {
      const store = await open();
      await store.append(sampleEvents(2), 0);
      const tx = await store.beginAppend(2);
      expect(await tx.append(sampleEvents(3, 2))).toBe(5);
      expect(await tx.append(sampleEvents(2, 5))).toBe(7);

      const reader = await openReadOnly();
      expect(await reader.head()).toBe(2);
      expect(warnings).toEqual([expect.stringContaining('skipping, after the last commit (position 2), an incomplete final batch (positions 3..7, no commit record)')]);
      await reader.close();

      expect(await tx.commit()).toBe(7);
      expect(lines().filter((l) => l.startsWith('\t{"commit":'))).toEqual([expect.stringMatching(/^\t\{"commit":2,"events":2,/), expect.stringMatching(/^\t\{"commit":7,"events":5,/)]);
      expect((await readAll(store)).map((s) => encodeEvent(s.event))).toEqual(sampleEvents(7).map(encodeEvent));
      await store.close();
    });

    it('detached: the lines another writer wrote (DetachedBatchWriter) are the bytes append writes, committed by commitDetached; abort cuts them back', async () => {
      const store = await open();
      await store.append(sampleEvents(2), 0);
      await store.close();
      // the same store twice: one transaction appends its events itself, the other's are written by a detached writer
      const copy = tempDir();
      for (const name of [EVENTS_FILE, HEAD_FILE]) fs.copyFileSync(path.join(dir, name), path.join(copy, name));
      const events = sampleEvents(9, 2);
      const own = await open();
      const ownTx = await own.beginAppend(2);
      await ownTx.append(events.slice(0, 4));
      await ownTx.append(events.slice(4));
      expect(await ownTx.commit()).toBe(11);
      await own.close();

      const other = await FileEventStore.open(copy, { warn: unexpectedWarning });
      const tx = await other.beginAppend(2);
      if (!isDetachable(tx)) throw new Error('the file store\'s transaction is detachable');
      const start = await tx.detach();
      await expect(tx.append(events)).rejects.toThrow(/written by another writer/);
      const writer = new DetachedBatchWriter(start);
      const encoder = new MarkJsonEncoder();
      const json = new Uint8Array(4096);
      let encodedMarks = 0;
      let others = 0;
      for (const event of events) {
        // a plain price update as the decode thread encodes it (JSON and CRC), anything else as its JSON's bytes
        // or (the events the main thread sends it) its JSON's text
        const end = encoder.encode(event, json, 0);
        if (end >= 0) {
          writer.addEncoded(json, 0, end, encoder.crc);
          encodedMarks++;
        } else if (others++ % 2 === 0) {
          const bytes = Buffer.from(encodeEvent(event), 'utf8');
          writer.addJsonBytes(bytes, 0, bytes.length);
        } else writer.addJson(encodeEvent(event));
      }
      expect(others).toBeGreaterThan(1);
      expect(encodedMarks).toBeGreaterThan(0);
      expect(encodedMarks).toBeLessThan(events.length);
      expect(await tx.commitDetached(writer.finish())).toBe(11);
      expect(await other.head()).toBe(11);
      await other.close();
      // byte for byte (the copy has the same header, so the same chain), and it opens (the chain verifies) and reads back
      expect(fs.readFileSync(path.join(copy, EVENTS_FILE)).equals(fs.readFileSync(logFile()))).toBe(true);
      const reopened = await FileEventStore.open(copy, { warn: unexpectedWarning });
      expect((await readAll(reopened)).map((stored) => encodeEvent(stored.event))).toEqual(sampleEvents(11).map(encodeEvent));

      // abort of a detached transaction: what the writer wrote is cut back
      const before = fs.readFileSync(path.join(copy, EVENTS_FILE));
      const aborted = await reopened.beginAppend(11);
      if (!isDetachable(aborted)) throw new Error('the file store\'s transaction is detachable');
      const writer2 = new DetachedBatchWriter(await aborted.detach());
      for (const event of sampleEvents(3, 11)) {
        const bytes = Buffer.from(encodeEvent(event), 'utf8');
        writer2.addJsonBytes(bytes, 0, bytes.length);
      }
      writer2.write();
      expect(fs.statSync(path.join(copy, EVENTS_FILE)).size).toBeGreaterThan(before.length);
      await aborted.abort();
      expect(fs.readFileSync(path.join(copy, EVENTS_FILE)).equals(before)).toBe(true);
      // an end that does not follow the committed log is refused, and the transaction is aborted
      const wrong = await reopened.beginAppend(11);
      if (!isDetachable(wrong)) throw new Error('the file store\'s transaction is detachable');
      const wrongStart = await wrong.detach();
      await expect(wrong.commitDetached({ offset: wrongStart.offset, position: 13, events: 1, chain: '0'.repeat(64) })).rejects.toThrow(/does not follow the committed log/);
      expect(fs.readFileSync(path.join(copy, EVENTS_FILE)).equals(before)).toBe(true);
      expect(await reopened.head()).toBe(11);
      await reopened.close();
    });

    it('detached with background syncs (syncEvery): the same bytes committed; finish waits for settled(); a failed background fdatasync fails the writer and nothing is committed', async () => {
      const store = await open();
      await store.append(sampleEvents(2), 0);
      const before = fs.readFileSync(logFile());
      // the module object itself (`import * as fs` is a copy of its properties under the test transform)
      const syncs = jest.spyOn(jest.requireActual<typeof fs>('node:fs'), 'fdatasync');
      try {
        const tx = await store.beginAppend(2);
        if (!isDetachable(tx)) throw new Error('the file store\'s transaction is detachable');
        // a sync after every write of at least one byte: each write() below starts one unless one is in flight
        const writer = new DetachedBatchWriter(await tx.detach(), 1);
        for (const event of sampleEvents(6, 2)) {
          const bytes = Buffer.from(encodeEvent(event), 'utf8');
          writer.addJsonBytes(bytes, 0, bytes.length);
          writer.write();
        }
        expect(syncs).toHaveBeenCalled();
        expect(() => writer.finish()).toThrow(/await settled\(\) first/);
        await writer.settled();
        expect(await tx.commitDetached(writer.finish())).toBe(8);
        expect((await readAll(store)).map((stored) => encodeEvent(stored.event))).toEqual(sampleEvents(8).map(encodeEvent));

        // the next transaction's background sync fails (as on EIO): settled() and finish() throw it; abort cuts back
        const committed = fs.readFileSync(logFile());
        syncs.mockImplementation(((_fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
          process.nextTick(() => callback(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })));
        }) as typeof fs.fdatasync);
        const failing = await store.beginAppend(8);
        if (!isDetachable(failing)) throw new Error('the file store\'s transaction is detachable');
        const writer2 = new DetachedBatchWriter(await failing.detach(), 1);
        const bytes = Buffer.from(encodeEvent(sampleEvents(1, 8)[0]!), 'utf8');
        writer2.addJsonBytes(bytes, 0, bytes.length);
        writer2.write();
        await expect(writer2.settled()).rejects.toThrow(/EIO/);
        expect(() => writer2.finish()).toThrow(/EIO/);
        await failing.abort();
        expect(fs.readFileSync(logFile()).equals(committed)).toBe(true);
        expect(committed.length).toBeGreaterThan(before.length);
      } finally {
        syncs.mockRestore();
      }
      expect(await store.head()).toBe(8);
      await store.close();
    });

    it('abort truncates back: the log is byte-for-byte as before', async () => {
      const store = await open();
      await store.append(sampleEvents(2), 0);
      const before = fs.readFileSync(logFile());
      const tx = await store.beginAppend(2);
      await tx.append(sampleEvents(3, 2));
      expect(fs.statSync(logFile()).size).toBeGreaterThan(before.length);
      await tx.abort();
      await tx.abort(); // idempotent
      expect(fs.readFileSync(logFile()).equals(before)).toBe(true);
      await expect(tx.append(sampleEvents(1, 2))).rejects.toThrow(/already aborted/);
      expect(await store.append(sampleEvents(1, 2), 2)).toBe(3);
      await store.close();
    });

    it('an incomplete final transaction (a crash before commit) is cut back on a writer open, ignored by a reader', async () => {
      const store = await open();
      await store.append(sampleEvents(2), 0);
      const committed = fs.readFileSync(logFile());
      const tx = await store.beginAppend(2);
      await tx.append(sampleEvents(4, 2));
      const crashed = fs.readFileSync(logFile()); // what a kill -9 before commit leaves
      await tx.abort();
      await store.close();
      fs.writeFileSync(logFile(), crashed);

      const reader = await openReadOnly();
      expect(await reader.head()).toBe(2);
      await reader.close();
      expect(fs.readFileSync(logFile()).equals(crashed)).toBe(true);

      const writer = await open();
      expect(await writer.head()).toBe(2);
      expect(fs.readFileSync(logFile()).equals(committed)).toBe(true);
      expect(warnings[1]).toBe(
        `${logFile()}: dropped, after the last commit (position 2), an incomplete final batch (positions 3..6, no commit record): ${crashed.length - committed.length} byte(s) from byte offset ${committed.length} (a write cut short by a crash)`,
      );
      await writer.close();
    });

    it('a HEAD that cannot be written after a durable commit is a warning, not a failed commit', async () => {
      const first = await open();
      await first.append(sampleEvents(2), 0);
      await first.close();
      // reopened with HEAD up to date, the writer has not written HEAD yet, so its first commit replaces it (a temporary file and a rename)
      const store = await open();
      fs.mkdirSync(path.join(dir, `.${HEAD_FILE}.tmp-${process.pid}`)); // HEAD's temporary file cannot be created
      const tx = await store.beginAppend(2);
      await tx.append(sampleEvents(2));

      expect(await tx.commit()).toBe(4);

      expect(warnings).toEqual([expect.stringMatching(/HEAD: not updated after the commit of position 4 \(.*EISDIR.*\); the commit itself is durable$/)]);
      await store.close();
      fs.rmdirSync(path.join(dir, `.${HEAD_FILE}.tmp-${process.pid}`));
      const reopened = await open(); // HEAD (position 2) is behind the log: fine, and rewritten
      expect(await reopened.head()).toBe(4);
      await reopened.close();
      expect(JSON.parse(fs.readFileSync(path.join(dir, HEAD_FILE), 'utf8'))).toMatchObject({ position: 4 });
    });

    it('an append is one write (its lines and commit record) and one fsync; a transaction commit one write (the record) and one fsync', async () => {
      const store = await open();
      const handle = (store as unknown as { handle: { fd: number; write: (...args: unknown[]) => Promise<unknown>; sync(): Promise<void> } }).handle;
      const calls: string[] = [];
      const write = handle.write.bind(handle);
      const sync = handle.sync.bind(handle);
      handle.write = (...args: unknown[]) => (calls.push('write'), write(...args));
      handle.sync = () => (calls.push('sync'), sync());
      // a small write is a synchronous pwrite on the log's descriptor (HEAD's own writes go to another one)
      const nodeFs = jest.requireActual<typeof fs>('node:fs'); // the module object itself (the namespace import above is a copy)
      const writeSync = nodeFs.writeSync;
      const syncWrites = jest.spyOn(nodeFs, 'writeSync').mockImplementation(((fd: number, ...rest: unknown[]) => {
        if (fd === handle.fd) calls.push('write');
        return (writeSync as (...args: unknown[]) => number)(fd, ...rest);
      }) as typeof fs.writeSync);

      await store.append(sampleEvents(3), 0);
      expect(calls).toEqual(['write', 'sync']);
      calls.length = 0;
      const tx = await store.beginAppend(3);
      await tx.append(sampleEvents(2, 3));
      await tx.commit();
      expect(calls).toEqual(['write', 'write', 'sync']); // the chunk, then the record; one fsync for both
      syncWrites.mockRestore();
      await store.close();
      // and the log is whole: two batches, each closed by its record
      const reopened = await open();
      expect((await readAll(reopened)).map((stored) => encodeEvent(stored.event))).toEqual([...sampleEvents(3), ...sampleEvents(2, 3)].map(encodeEvent));
      await reopened.close();
      expect(warnings).toEqual([]);
    });

    it('HEAD is updated in place after every commit: one fixed-length record with a CRC-32; a torn one is a warning, never trusted', async () => {
      const store = await open();
      const inode = fs.statSync(path.join(dir, HEAD_FILE)).ino;
      await store.append(sampleEvents(2), 0);
      await store.append(sampleEvents(3), 2);
      const text = fs.readFileSync(path.join(dir, HEAD_FILE), 'utf8');
      // the same file (no temporary file renamed over it), 512 bytes whatever the record, and it records the last commit
      expect(fs.statSync(path.join(dir, HEAD_FILE)).ino).toBe(inode);
      expect(Buffer.byteLength(text)).toBe(HEAD_BYTES);
      expect(JSON.parse(text)).toMatchObject({ position: 5, line: 1 + 5 + 2, crc: expect.stringMatching(/^[0-9a-f]{8}$/) });
      await store.close();

      // a digit of the position changed (an update torn half way, or an edit): the CRC no longer matches, so HEAD proves nothing
      fs.writeFileSync(path.join(dir, HEAD_FILE), text.replace('"position":5', '"position":9'));
      const reopened = await open();
      expect(await reopened.head()).toBe(5);
      expect(warnings).toEqual([expect.stringContaining('HEAD: ignored, its CRC-32 does not match its record')]);
      await reopened.close();
    });

    it('close aborts a transaction left open', async () => {
      const store = await open();
      const tx = await store.beginAppend(0);
      await tx.append(sampleEvents(3));
      await store.close();
      const reopened = await open();
      expect(await reopened.head()).toBe(0);
      expect(warnings).toEqual([]);
      await reopened.close();
    });
  });

  it('finds any start position in a large log (bisecting) and reads the right events', async () => {
    const events = sampleEvents(30_000);
    const store = await open();
    await store.append(events, 0);
    expect(fs.statSync(logFile()).size).toBeGreaterThan(4 * 1024 * 1024); // large enough to bisect

    for (const from of [1, 2, 3_333, 14_999, 15_000, 15_001, 22_222, 29_999, 30_000]) {
      const window = await readAll(store, from, from + 1);
      expect(window.map((s) => s.position)).toEqual([from, from + 1].filter((p) => p <= 30_000));
      expect(window.map((s) => encodeEvent(s.event))).toEqual(events.slice(from - 1, from + 1).map(encodeEvent));
    }
    await store.close();
  }, 30_000); // tens of thousands of events: slow on a busy machine

  it('writes a batch larger than one write chunk (8 MB) in one append', async () => {
    const events = sampleEvents(60_000);
    const store = await open();
    expect(await store.append(events, 0)).toBe(60_000);
    expect(fs.statSync(logFile()).size).toBeGreaterThan(8 * 1024 * 1024);
    let count = 0;
    for await (const stored of store.read()) {
      count++;
      if (stored.position !== count) throw new Error(`position ${stored.position} at ${count}`);
    }
    expect(count).toBe(60_000);
    await store.close();
    const reopened = await open();
    expect(await reopened.head()).toBe(60_000);
    await reopened.close();
  }, 30_000); // tens of thousands of events: slow on a busy machine

  it('reads a snapshot: events appended while a read is running are not part of it', async () => {
    const store = await open();
    await store.append(sampleEvents(3), 0);
    const seen: number[] = [];
    for await (const { position } of store.read()) {
      seen.push(position);
      if (position === 1) await store.append(sampleEvents(2, 3), 3);
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(await store.head()).toBe(5);
    await store.close();
  });

  describe('checkpoint records (version 3): a long batch cut every checkpointBytes, so that a long log verifies in two halves', () => {
    const openSmall = (options: { readOnly?: boolean; at?: string } = {}) =>
      FileEventStore.open(options.at ?? dir, { warn: (message) => warnings.push(message), checkpointBytes: 300, readOnly: options.readOnly ?? false });
    /** A store of 2 events, then one transaction of 13 in five chunks (checkpoints after the chunks that pass 300 bytes), then 3 more. */
    async function writeLongBatch(store: FileEventStore): Promise<void> {
      let position = await store.append(sampleEvents(2), 0);
      const tx = await store.beginAppend(position);
      for (const count of [3, 1, 4, 2, 3]) position = await tx.append(sampleEvents(count, position));
      await tx.commit();
      await store.append(sampleEvents(3, position), position);
    }
    const checkpointLines = () => lines().filter((line) => line.startsWith('\t{"checkpoint":'));

    it('are written inside the batch; HEAD counts their lines; a read from any position steps over them; the log reopens', async () => {
      const store = await openSmall();
      await writeLongBatch(store);
      await store.close();
      expect(checkpointLines().length).toBeGreaterThanOrEqual(3);
      expect(lines()[0]).toMatch(/"version":3/);
      // HEAD's line is the file's last line (the header, 18 events, the checkpoints, 3 commit records)
      expect(JSON.parse(fs.readFileSync(path.join(dir, HEAD_FILE), 'utf8'))).toMatchObject({ position: 18, line: lines().length, bytes: fs.statSync(logFile()).size });
      expect(lines().length).toBe(1 + 18 + checkpointLines().length + 3);
      for (const reopen of [() => openSmall(), () => openSmall({ readOnly: true })]) {
        const again = await reopen();
        expect(await again.head()).toBe(18);
        expect((await readAll(again)).map((stored) => encodeEvent(stored.event))).toEqual(sampleEvents(18).map(encodeEvent));
        // every start position (read seeks by bisecting the file's bytes, landing on records too)
        for (let from = 1; from <= 18; from++) expect((await readAll(again, from)).map((stored) => stored.position)).toEqual(Array.from({ length: 19 - from }, (_, i) => from + i));
        await again.close();
      }
      expect(warnings).toEqual([]);
    });

    it('the detached writer (the decode thread of clearsim run) writes the same checkpoints: the same bytes as the store, and the same HEAD', async () => {
      const own = await openSmall();
      await own.append(sampleEvents(2), 0);
      await own.close();
      const copy = tempDir();
      for (const name of [EVENTS_FILE, HEAD_FILE]) fs.copyFileSync(path.join(dir, name), path.join(copy, name));
      const events = sampleEvents(13, 2);
      const mine = await openSmall();
      const ownTx = await mine.beginAppend(2);
      // the store's writer takes a checkpoint after a write of its own; the detached one after each of its writes (write())
      for (const chunk of [events.slice(0, 3), events.slice(3, 7), events.slice(7)]) await ownTx.append(chunk);
      await ownTx.commit();
      await mine.close();

      const other = await openSmall({ at: copy });
      const tx = await other.beginAppend(2);
      if (!isDetachable(tx)) throw new Error("the file store's transaction is detachable");
      const writer = new DetachedBatchWriter(await tx.detach());
      for (const chunk of [events.slice(0, 3), events.slice(3, 7), events.slice(7)]) {
        for (const event of chunk) writer.addJson(encodeEvent(event));
        writer.write();
      }
      expect(await tx.commitDetached(writer.finish())).toBe(15);
      await other.close();
      expect(checkpointLines().length).toBeGreaterThanOrEqual(2);
      expect(fs.readFileSync(path.join(copy, EVENTS_FILE)).equals(fs.readFileSync(logFile()))).toBe(true);
      expect(fs.readFileSync(path.join(copy, HEAD_FILE), 'utf8').replace(/"crc":"[0-9a-f]+"/, '')).toBe(fs.readFileSync(path.join(dir, HEAD_FILE), 'utf8').replace(/"crc":"[0-9a-f]+"/, ''));
      const reopened = await openSmall({ at: copy });
      expect((await readAll(reopened)).map((stored) => encodeEvent(stored.event))).toEqual(sampleEvents(15).map(encodeEvent));
      await reopened.close();
      expect(warnings).toEqual([]);
    });

    it('a log of version 2 is read, and appended to without them', async () => {
      // a version-2 log as an earlier clearsim wrote it: the header, two events, their commit record
      const header = `{"format":"clearsim-log","version":2,"log":"0b9f6c1e-4a52-4c0f-9d2a-6f1e2d3c4b5a"}\n`;
      const body = sampleEvents(2).map((event, i) => eventLine(i + 1, encodeEvent(event))).join('');
      const chain = createHash('sha256').update(createHash('sha256').update(header).digest()).update(body).digest('hex');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(logFile(), header + body + `\t{"commit":2,"events":2,"chain":"${chain}"}\n`);
      const store = await openSmall();
      expect(await store.head()).toBe(2);
      const tx = await store.beginAppend(2);
      let position = 2;
      for (const count of [4, 4, 4]) position = await tx.append(sampleEvents(count, position));
      await tx.commit();
      await store.close();
      expect(lines()[0]).toBe(header.trimEnd());
      expect(checkpointLines()).toEqual([]);
      const again = await openSmall({ readOnly: true });
      expect((await readAll(again)).map((stored) => encodeEvent(stored.event))).toEqual(sampleEvents(14).map(encodeEvent));
      await again.close();
    });

    describe('damage: an error naming the line, the store unchanged', () => {
      beforeEach(async () => {
        const store = await openSmall();
        await writeLongBatch(store);
        await store.close();
      });
      const checkpointLineNo = (k: number) => lines().findIndex((line, i) => line.startsWith('\t{"checkpoint":') && lines().slice(0, i).filter((l) => l.startsWith('\t{"checkpoint":')).length === k) + 1;

      it('a changed amount in a segment between two checkpoints: tampered-line at its line', async () => {
        const all = lines();
        const second = checkpointLineNo(1);
        // the last event line before the second checkpoint
        const line = second - 1;
        const position = JSON.parse(all[line - 1]!).position as number;
        all[line - 1] = all[line - 1]!.replace(/"(amount|price|qty)":"(\d)/, (_m, key: string, d: string) => `"${key}":"${d === '9' ? '8' : '9'}`);
        writeLines(all);
        await expectRefused(openSmall, 'tampered-line', `${logFile()}:line ${line}: corrupt event log: position ${position}: the line's bytes changed since it was written`);
      });

      it("a checkpoint's chain changed: tampered-line at the checkpoint", async () => {
        const all = lines();
        const line = checkpointLineNo(0);
        all[line - 1] = all[line - 1]!.replace(/"chain":"(.)/, (_m, c: string) => `"chain":"${c === '0' ? '1' : '0'}`);
        writeLines(all);
        await expectRefused(openSmall, 'tampered-line', new RegExp(`:line ${line}: corrupt event log: the hash chain does not match the checkpoint record after position \\d+ although every line's CRC does`));
      });

      it("a checkpoint's position changed: tampered-line at the checkpoint (its line is in the next segment's chain)", async () => {
        const all = lines();
        const line = checkpointLineNo(0);
        all[line - 1] = all[line - 1]!.replace(/"checkpoint":(\d+)/, (_m, p: string) => `"checkpoint":${Number(p) + 1}`);
        writeLines(all);
        await expectRefused(openSmall, 'tampered-line', new RegExp(`:line ${line}: corrupt event log: the checkpoint record says position \\d+, but the lines before it end at position \\d+`));
      });

      it('a checkpoint removed: tampered-line at the next record', async () => {
        const all = lines();
        const line = checkpointLineNo(0);
        all.splice(line - 1, 1);
        const next = all.findIndex((l, i) => i >= line - 1 && l.startsWith('\t')) + 1;
        writeLines(all);
        await expectRefused(openSmall, 'tampered-line', new RegExp(`:line ${next}: corrupt event log: the hash chain does not match the (checkpoint|commit) record`));
      });
    });
  });

  describe('snapshots', () => {
    const snapshotDir = () => path.join(dir, SNAPSHOTS_DIR);
    const files = () => fs.readdirSync(snapshotDir()).sort();
    const state = (n: number) => JSON.stringify({ n, text: 'zoë "quoted" \\ \n' });

    it('writes <dir>/snapshots/<position, 16 digits>.json, a JSON document with the state verbatim, and keeps the newest 3', async () => {
      const store = await open();
      await store.append(sampleEvents(12), 0);
      for (const position of [3, 6, 9, 12]) await store.saveSnapshot({ position, state: state(position) });
      await store.close();

      expect(files()).toEqual(['0000000000000006.json', '0000000000000009.json', '0000000000000012.json']);
      const document = JSON.parse(fs.readFileSync(path.join(snapshotDir(), '0000000000000012.json'), 'utf8'));
      expect(document).toEqual({
        format: 'clearsim-snapshot',
        version: 2,
        position: 12,
        log: (store as FileEventStore).id,
        chain: expect.stringMatching(/^[0-9a-f]{64}$/),
        anchor: expect.stringMatching(/^[0-9a-f]{64}$/),
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        state: JSON.parse(state(12)),
      });
      expect(warnings).toEqual([]);
    });

    it('ignores, with a warning, snapshots of another log (the log was reset while the snapshots stayed)', async () => {
      let store = await open();
      await store.append(sampleEvents(6), 0);
      await store.saveSnapshot({ position: 6, state: 'of the first log' });
      await store.close();
      fs.rmSync(logFile()); // what `run --reset` does
      store = await open();
      await store.append(sampleEvents(8, 100), 0);

      expect(await store.latestSnapshot()).toBeUndefined();
      expect(warnings).toEqual([
        expect.stringContaining('HEAD: it belongs to another log'),
        expect.stringContaining('ignoring the snapshot at position 6: it was taken from another log'),
      ]);
      await store.close();
    });

    it('removes a temporary file left by a crash in the middle of a save, and never reads it', async () => {
      const store = await open();
      await store.append(sampleEvents(4), 0);
      await store.saveSnapshot({ position: 2, state: state(2) });
      const stray = path.join(snapshotDir(), '.tmp-0000000000000004.json-99999');
      fs.writeFileSync(stray, '{"format":"clearsim-snapshot","version":2,"posi');

      expect(await store.latestSnapshot()).toEqual({ position: 2, state: state(2) });
      await store.saveSnapshot({ position: 4, state: state(4) });

      expect(files()).toEqual(['0000000000000002.json', '0000000000000004.json']);
      expect(warnings).toEqual([]);
      await store.close();
    });

    it('finishes a snapshot queued before close', async () => {
      const store = await open();
      await store.append(sampleEvents(3), 0);
      const saving = store.saveSnapshot({ position: 3, state: state(3) });
      await store.close();
      await saving;
      await expect(store.saveSnapshot({ position: 3, state: 'late' })).rejects.toThrow(/is closed/);
      const reopened = await open();
      expect(await reopened.latestSnapshot()).toEqual({ position: 3, state: state(3) });
      await reopened.close();
    });
  });

  describe('the writer lock', () => {
    it('refuses a second open of the same directory while the first is open, and allows it after close', async () => {
      const first = await open();

      await expect(FileEventStore.open(dir)).rejects.toThrow(/already open for writing in this process/);
      const other = spawnSync(process.execPath, ['-e', otherProcessScript(dir, 'await FileEventStore.open(dir); console.log("opened");')], { encoding: 'utf8' });
      expect(other.stdout.trim()).toMatch(new RegExp(`locked by another process \\(pid ${process.pid}, lock ${escape(path.join(dir, LOCK_FILE))}\\)`));

      await first.close();
      expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
      const second = await open();
      expect(await second.head()).toBe(0);
      await second.close();
    });

    it('holds the pid of the writer', async () => {
      const store = await open();
      expect(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
      await store.close();
    });

    it('takes over a stale lock left by a process that is gone, with a warning', async () => {
      const gone = spawnSync(process.execPath, ['-e', '']).pid;
      fs.writeFileSync(path.join(dir, LOCK_FILE), `${gone}\n`);

      const store = await open();

      expect(warnings).toEqual([expect.stringMatching(new RegExp(`stale lock .*LOCK left by pid ${gone}`))]);
      expect(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
      await store.close();
    });

    it('takes over a stale lock holding our own pid (a previous process had it, e.g. PID 1 in a restarted container)', async () => {
      fs.writeFileSync(path.join(dir, LOCK_FILE), `${process.pid}\n`);

      const store = await open();

      expect(warnings).toEqual([expect.stringContaining(`left by pid ${process.pid}`)]);
      await expect(FileEventStore.open(dir)).rejects.toThrow(/already open for writing in this process/);
      await store.close();
    });

    it('takes the lock with its pid in one step, and removes the draft a writer killed while taking it left behind', async () => {
      // a pid that is not running: the draft `LOCK.<pid>` of a writer killed between writing its pid and linking it
      const gone = 2 ** 22 + 12345;
      fs.writeFileSync(path.join(dir, `${LOCK_FILE}.${gone}`), `${gone}\n`);
      const store = await open();
      expect(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
      // no draft stays: neither the dead writer's nor this one's
      expect(fs.readdirSync(dir).filter((name) => name.startsWith(`${LOCK_FILE}.`))).toEqual([]);
      await store.close();
      expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    });

    it('refuses a lock file without a pid, telling which file to delete', async () => {
      fs.writeFileSync(path.join(dir, LOCK_FILE), '');
      await expect(open()).rejects.toThrow(`delete ${path.join(dir, LOCK_FILE)}`);
    });
  });

  it('loses no acknowledged event when the writer is killed with SIGKILL mid-append', async () => {
    const writer = spawn(process.execPath, [
      '-e',
      otherProcessScript(
        dir,
        `const store = await FileEventStore.open(dir);
         for (let i = 0, head = 0; ; i++) {
           head = await store.append(sampleEvents(1 + (i % 50), head), head);
           console.log('ack ' + head);
         }`,
      ),
    ]);
    let output = '';
    const lastAck = () => Math.max(0, ...[...output.matchAll(/^ack (\d+)$/gm)].map((m) => Number(m[1])));
    writer.stdout.setEncoding('utf8');
    writer.stdout.on('data', (chunk: string) => {
      output += chunk;
      if (lastAck() >= 2_000) writer.kill('SIGKILL');
    });
    await new Promise((resolve) => writer.on('exit', resolve));
    expect(output).not.toMatch(/error:/);
    const acknowledged = lastAck();
    expect(acknowledged).toBeGreaterThanOrEqual(2_000);

    const store = await open();

    expect(warnings).toContainEqual(expect.stringContaining('stale lock'));
    const head = await store.head();
    expect(head).toBeGreaterThanOrEqual(acknowledged);
    const stored = await readAll(store);
    expect(stored.map((s) => s.position)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(stored.map((s) => encodeEvent(s.event))).toEqual(sampleEvents(head).map(encodeEvent));
    await store.close();
  }, 30_000);

  it('holds exactly a prefix of complete transactions after kill -9 at random moments (4 rounds), and its chain verifies', async () => {
    // The writer streams transactions of 1..6 chunks of 1..400 events each; event N is always sampleEvents(1, N - 1),
    // so whatever survives can be compared with what was written. It prints "begin FROM TO" before committing and
    // "ack TO" after: the log must end exactly at the last ack, or at the TO of the transaction in flight.
    for (let round = 0; round < 4; round++) {
      const writer = spawn(process.execPath, [
        '-e',
        otherProcessScript(
          dir,
          `const store = await FileEventStore.open(dir, { warn: () => undefined });
           let head = await store.head();
           console.log('opened ' + head);
           for (let i = 0; ; i++) {
             const tx = await store.beginAppend(head);
             let to = head;
             for (let c = 0; c < 1 + (i % 6); c++) {
               const n = 1 + ((i * 7919 + c * 104729) % 400);
               to = await tx.append(sampleEvents(n, to));
             }
             console.log('begin ' + head + ' ' + to);
             head = await tx.commit();
             console.log('ack ' + head);
           }`,
        ),
      ]);
      let output = '';
      const killAfterAcks = 2 + Math.floor(Math.random() * 20);
      writer.stdout.setEncoding('utf8');
      writer.stdout.on('data', (chunk: string) => {
        output += chunk;
        if ((output.match(/^ack /gm) ?? []).length >= killAfterAcks) setTimeout(() => writer.kill('SIGKILL'), Math.random() * 15);
      });
      await new Promise((resolve) => writer.on('exit', resolve));
      expect(output).not.toMatch(/error:/);
      const acks = [...output.matchAll(/^ack (\d+)$/gm)].map((m) => Number(m[1]));
      const begins = [...output.matchAll(/^begin (\d+) (\d+)$/gm)].map((m) => Number(m[2]));
      const lastAck = acks.at(-1) ?? Number(/^opened (\d+)$/m.exec(output)![1]);
      const inFlight = begins.length > acks.length ? begins.at(-1) : undefined;

      const reader = await openReadOnly(); // verifies the whole chain, and takes no lock
      const head = await reader.head();
      expect(head === lastAck || head === inFlight).toBe(true);
      const stored = await readAll(reader);
      expect(stored.map((s) => s.position)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
      expect(stored.map((s) => encodeEvent(s.event))).toEqual(sampleEvents(head).map(encodeEvent));
      await reader.close();
      const store = await open(); // a writer open cuts any incomplete transaction back
      expect(await store.head()).toBe(head);
      await store.close();
    }
  }, 60_000);

  it('refuses to append or read once closed', async () => {
    const store = await open();
    await store.close();
    await store.close(); // idempotent
    await expect(store.append(sampleEvents(1), 0)).rejects.toThrow(/is closed/);
    await expect(store.head()).rejects.toThrow(/is closed/);
    await expect(readAll(store)).rejects.toThrow(/is closed/);
  });

  it('finishes an append started before close', async () => {
    const store = await open();
    const appending = store.append(sampleEvents(5), 0);
    await store.close();
    expect(await appending).toBe(5);
    const reopened = await open();
    expect(await reopened.head()).toBe(5);
    await reopened.close();
  });
});

/** SHA-256 of every file under `root`, by relative path (to prove an open changed nothing). */
function directoryHashes(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else out[path.relative(root, full)] = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
    }
  };
  walk(root);
  return out;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const REPO_ROOT = path.resolve(__dirname, '../../../..');

/**
 * Runs `body` (CommonJS, with `FileEventStore`, `sampleEvents` and `dir` in
 * scope) in a separate Node process that loads the TypeScript sources through
 * @swc/core, as jest does.
 */
function otherProcessScript(dir: string, body: string): string {
  return `
const Module = require('module');
const path = require('path');
const { transformSync } = require(require.resolve('@swc/core', { paths: [${JSON.stringify(REPO_ROOT)}] }));
const root = ${JSON.stringify(REPO_ROOT)};
const resolve = Module._resolveFilename;
// the path aliases of tsconfig.json (a package's index, and the light entry points such as @clearsim/events/bytes)
const aliases = require(path.join(root, 'tsconfig.json')).compilerOptions.paths;
Module._resolveFilename = function (request, ...rest) {
  const alias = aliases[request];
  return resolve.call(this, alias ? path.join(root, alias[0]) : request, ...rest);
};
require.extensions['.ts'] = (module, filename) => {
  const source = require('fs').readFileSync(filename, 'utf8');
  const { code } = transformSync(source, { filename, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } });
  module._compile(code, filename);
};
const { FileEventStore } = require(path.join(root, 'libs/store/src/file/file-event-store.ts'));
const { sampleEvents } = require(path.join(root, 'libs/store/src/test-events.ts'));
const dir = ${JSON.stringify(dir)};
(async () => { ${body} })().catch((error) => { console.log('error: ' + error.message); process.exitCode = 1; });
`;
}
