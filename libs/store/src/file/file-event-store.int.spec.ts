import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeEvent } from '@clearsim/events';
import type { EventStore, StoredEvent } from '../event-store.port';
import { describeEventStoreContract, sampleEvents } from '../testing';
import { CorruptLogError, EVENTS_FILE, FileEventStore, LOCK_FILE } from './file-event-store';
import { SNAPSHOTS_DIR } from './file-snapshots';

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
  const logFile = () => path.join(dir, EVENTS_FILE);
  const lines = () => fs.readFileSync(logFile(), 'utf8').split('\n').slice(0, -1);

  beforeEach(() => {
    dir = tempDir();
    warnings = [];
  });

  it('writes one line per event: the position first, then the canonical event', async () => {
    const store = await open();
    const events = sampleEvents(3);
    await store.append(events, 0);
    await store.close();

    expect(lines()).toEqual(events.map((e, i) => `{"position":${i + 1},${encodeEvent(e).slice(1)}`));
    expect(lines()[1]).toMatch(/^\{"position":2,"type":"PriceUpdated","v":1,"ts":"2026-01-01T00:00:01Z",/);
  });

  it('creates the directory (and its parents) and an empty log', async () => {
    const nested = path.join(dir, 'a', 'b');
    const store = await FileEventStore.open(nested);
    expect(await store.head()).toBe(0);
    expect(fs.readFileSync(path.join(nested, EVENTS_FILE), 'utf8')).toBe('');
    await store.close();
  });

  describe('given a log whose last write was torn by a crash', () => {
    beforeEach(async () => {
      const store = await open();
      await store.append(sampleEvents(3), 0);
      await store.close();
    });

    it('cuts off an unterminated last line with a warning, and the next append continues at the right position', async () => {
      const intact = fs.statSync(logFile()).size;
      fs.appendFileSync(logFile(), '{"position":4,"type":"PriceUpd');

      const store = await open();

      expect(await store.head()).toBe(3);
      expect(fs.statSync(logFile()).size).toBe(intact);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(logFile());
      expect(warnings[0]).toContain(`byte offset ${intact}`);
      expect(warnings[0]).toContain('30 byte(s) dropped');
      expect(await store.append(sampleEvents(2, 3), 3)).toBe(5);
      expect((await readAll(store)).map((s) => s.position)).toEqual([1, 2, 3, 4, 5]);
      await store.close();
    });

    it('cuts off a newline-terminated last line that is not JSON (bytes lost before the newline)', async () => {
      const intact = fs.statSync(logFile()).size;
      fs.appendFileSync(logFile(), '\0\0\0\0\0\n{"position":5');

      const store = await open();

      expect(await store.head()).toBe(3);
      expect(fs.statSync(logFile()).size).toBe(intact);
      expect(warnings).toEqual([expect.stringContaining(`(an unterminated last line and a last line that is not JSON): truncated at byte offset ${intact}, 19 byte(s) dropped`)]);
      expect(await store.append(sampleEvents(1, 3), 3)).toBe(4);
      await store.close();
    });

    it('cuts a log holding only a torn line back to empty', async () => {
      fs.writeFileSync(logFile(), '{"posit');
      const store = await open();
      expect(await store.head()).toBe(0);
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

  describe('given a corrupted line in the middle of the log', () => {
    beforeEach(async () => {
      const store = await open();
      await store.append(sampleEvents(5), 0);
      await store.close();
    });

    function replaceLine(lineNo: number, text: string): void {
      const all = lines();
      all[lineNo - 1] = text;
      fs.writeFileSync(logFile(), all.map((l) => l + '\n').join(''));
    }

    it('does not repair it: read throws naming the file and the line', async () => {
      replaceLine(3, 'this is not json');
      const store = await open();
      expect(warnings).toEqual([]);

      const reading = readAll(store);

      await expect(reading).rejects.toBeInstanceOf(CorruptLogError);
      await expect(reading).rejects.toThrow(`${logFile()}:line 3: corrupt event log: malformed JSON`);
      expect((await readAll(store, 1, 2)).map((s) => s.position)).toEqual([1, 2]); // the lines before it still read
      await store.close();
    });

    it('reports a line holding the wrong position', async () => {
      replaceLine(2, lines()[3]);
      const store = await open();
      await expect(readAll(store)).rejects.toThrow(`${logFile()}:line 2: corrupt event log: holds position 4, but line 2 must hold position 2`);
      await store.close();
    });

    it('reports a line that is not a valid event, naming the field', async () => {
      replaceLine(2, '{"position":2,"type":"PriceUpdated","v":1,"ts":"2026-01-01T00:00:01Z","instrument":"BTC-PERP","price":"-5"}');
      const store = await open();
      await expect(readAll(store)).rejects.toThrow(`${logFile()}:line 2: corrupt event log: field "price": must be greater than 0`);
      await store.close();
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
        version: 1,
        position: 12,
        anchor: expect.stringMatching(/^[0-9a-f]{64}$/),
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        state: JSON.parse(state(12)),
      });
      expect(warnings).toEqual([]);
    });

    it('skips a damaged snapshot with a warning and returns the next older one', async () => {
      const store = await open();
      await store.append(sampleEvents(10), 0);
      await store.saveSnapshot({ position: 5, state: state(5) });
      await store.saveSnapshot({ position: 10, state: state(10) });
      const newest = path.join(snapshotDir(), '0000000000000010.json');
      fs.writeFileSync(newest, fs.readFileSync(newest, 'utf8').replace('"n":10', '"n":11'));

      expect(await store.latestSnapshot()).toEqual({ position: 5, state: state(5) });
      expect(warnings).toEqual([`${newest}: ignoring an unreadable snapshot (the state does not match its SHA-256: the file is damaged)`]);
      await store.close();
    });

    it('skips a snapshot cut short, or one that is not a snapshot file at all', async () => {
      const store = await open();
      await store.append(sampleEvents(10), 0);
      await store.saveSnapshot({ position: 4, state: state(4) });
      fs.writeFileSync(path.join(snapshotDir(), '0000000000000008.json'), '{"format":"clearsim-snapshot","version":1,"position":8,"anch');
      fs.writeFileSync(path.join(snapshotDir(), '0000000000000009.json'), 'hello');

      expect(await store.latestSnapshot()).toEqual({ position: 4, state: state(4) });
      expect(warnings).toEqual([
        expect.stringContaining('0000000000000009.json: ignoring an unreadable snapshot (not a clearsim snapshot file, or cut short)'),
        expect.stringContaining('0000000000000008.json: ignoring an unreadable snapshot (not a clearsim snapshot file, or cut short)'),
      ]);
      await store.close();
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
      expect(warnings).toEqual([expect.stringContaining('ignoring the snapshot at position 6: it was taken from another log')]);
      await store.close();
    });

    it('removes a temporary file left by a crash in the middle of a save, and never reads it', async () => {
      const store = await open();
      await store.append(sampleEvents(4), 0);
      await store.saveSnapshot({ position: 2, state: state(2) });
      const stray = path.join(snapshotDir(), '.tmp-0000000000000004.json-99999');
      fs.writeFileSync(stray, '{"format":"clearsim-snapshot","version":1,"posi');

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
Module._resolveFilename = function (request, ...rest) {
  const alias = /^@clearsim\\/([^/]+)$/.exec(request);
  return resolve.call(this, alias ? path.join(root, 'libs', alias[1], 'src') : request, ...rest);
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
