import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EVENTS_FILE, FileEventStore } from './file/file-event-store';
import { ReadOnlyStoreError, StoreNotFoundError } from './errors';
import { InMemoryEventStore } from './memory/in-memory-event-store';
import { openStore, parseStoreUrl } from './open-store';
import { sampleEvents } from './testing';

describe('openStore', () => {
  it('opens a file: URL (absolute path) as a FileEventStore named by that URL', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearsim-open-store-'));
    try {
      const store = await openStore(`file:${dir}`);
      expect(store).toBeInstanceOf(FileEventStore);
      expect(store.url).toBe(`file:${dir}`);
      await store.append(sampleEvents(2), 0);
      await store.close();
      // the header, two events, their commit record, and the empty string after the last newline
      expect(fs.readFileSync(path.join(dir, EVENTS_FILE), 'utf8').split('\n')).toHaveLength(5);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes readOnly on: a missing file store is a StoreNotFoundError naming the URL, and nothing is created', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearsim-open-store-'));
    try {
      const url = `file:${path.join(dir, 'dtaa')}`;
      await expect(openStore(url, { readOnly: true })).rejects.toThrow(
        `no clearsim store at ${url} (no such directory); check --store, or create one with clearsim run`,
      );
      expect(fs.readdirSync(dir)).toEqual([]);
      const writer = await openStore(url);
      await writer.append(sampleEvents(1), 0);
      const reader = await openStore(url, { readOnly: true }); // while the writer holds the lock
      expect(await reader.head()).toBe(1);
      await expect(reader.append(sampleEvents(1, 1), 1)).rejects.toBeInstanceOf(ReadOnlyStoreError);
      await reader.close();
      await writer.close();
      await expect(openStore('memory:', { readOnly: true })).rejects.toBeInstanceOf(StoreNotFoundError);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses relative, absolute, file:// and default URLs', () => {
    expect(parseStoreUrl(undefined)).toEqual({ kind: 'file', path: './data' });
    expect(parseStoreUrl('file:./data')).toEqual({ kind: 'file', path: './data' });
    expect(parseStoreUrl('file:logs/shard-1')).toEqual({ kind: 'file', path: 'logs/shard-1' });
    expect(parseStoreUrl('file:/var/lib/clearsim')).toEqual({ kind: 'file', path: '/var/lib/clearsim' });
    expect(parseStoreUrl('file:///var/lib/clearsim')).toEqual({ kind: 'file', path: '/var/lib/clearsim' });
    expect(parseStoreUrl('FILE:x')).toEqual({ kind: 'file', path: 'x' });
    expect(() => parseStoreUrl('file:')).toThrow('has no path');
  });

  it('parses postgres, esdb, kurrentdb and memory URLs', () => {
    expect(parseStoreUrl('postgres://u:p@db/clearsim?stream=shard-1')).toEqual({ kind: 'postgres', url: 'postgres://u:p@db/clearsim?stream=shard-1' });
    expect(parseStoreUrl('postgresql://db/clearsim')).toEqual({ kind: 'postgres', url: 'postgresql://db/clearsim' });
    expect(parseStoreUrl('esdb://localhost:2113?tls=false')).toEqual({ kind: 'kurrentdb', url: 'esdb://localhost:2113?tls=false' });
    expect(parseStoreUrl('kurrentdb://localhost:2113')).toEqual({ kind: 'kurrentdb', url: 'kurrentdb://localhost:2113' });
    expect(parseStoreUrl('memory:')).toEqual({ kind: 'memory', name: '' });
    expect(parseStoreUrl('memory:run-1')).toEqual({ kind: 'memory', name: 'run-1' });
  });

  it('opens memory: as a new empty log every time, and memory:NAME as one shared log', async () => {
    const anonymous = await openStore('memory:');
    expect(anonymous).toBeInstanceOf(InMemoryEventStore);
    await anonymous.append(sampleEvents(2), 0);
    expect(await (await openStore('memory:')).head()).toBe(0);

    const first = await openStore('memory:open-store-spec');
    await first.append(sampleEvents(3), 0);
    await first.close();
    const second = await openStore('memory:open-store-spec');
    expect(await second.head()).toBe(3);
    InMemoryEventStore.drop('open-store-spec');
    expect(await (await openStore('memory:open-store-spec')).head()).toBe(0);
  });

  it('names an unreachable PostgreSQL server without the password', async () => {
    const opening = openStore('postgres://clearsim:secret@127.0.0.1:1/clearsim');
    await expect(opening).rejects.toThrow('postgres://clearsim:***@127.0.0.1:1/clearsim: cannot open the PostgreSQL event store: connect ECONNREFUSED');
    await expect(opening).rejects.not.toThrow(/secret/);
  });

  it('says when no KurrentDB server answers', async () => {
    await expect(openStore('kurrentdb://127.0.0.1:1?tls=false')).rejects.toThrow(
      'kurrentdb://127.0.0.1:1?tls=false: cannot open the KurrentDB event store: no server answers at that address',
    );
  }, 30_000);

  it('refuses an unknown scheme, listing the accepted ones', async () => {
    await expect(openStore('mysql://db')).rejects.toThrow(
      'unknown store scheme "mysql:" in "mysql://db"; accepted: file:PATH (e.g. file:./data), postgres://…, postgresql://…, esdb://…, kurrentdb://…, memory:[NAME]',
    );
    await expect(openStore('./data')).rejects.toThrow(/has no scheme; accepted: file:PATH/);
  });
});
