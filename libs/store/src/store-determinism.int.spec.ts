import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClearingEngine } from '@clearsim/clearing';
import { decodeLine, type InputEvent } from '@clearsim/events';
import { ShardRunner, verifyLog, type LocatedInput } from '@clearsim/shard';
import type { EventStore } from './event-store.port';
import { FakeKurrentDB } from './kurrentdb/fake-kurrentdb-client';
import { KurrentDBEventStore } from './kurrentdb/kurrentdb-event-store';
import { InMemoryEventStore } from './memory/in-memory-event-store';
import { openStore } from './open-store';
import { describeWithService, POSTGRES, testSchema } from './test-services';

// Determinism on every store: the bundled example through the shard loop gives
// the same decisions (outputHash) whatever holds the log; verify re-decides
// and agrees; and a restart from the latest snapshot plus the tail rebuilds
// exactly the state a full replay does.

const EXAMPLE = path.resolve(__dirname, '../../../examples/ccp-margin-call.jsonl');

function exampleInputs(): LocatedInput[] {
  return fs
    .readFileSync(EXAMPLE, 'utf8')
    .split('\n')
    .map((line, i) => ({ line, lineNo: i + 1 }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, lineNo }) => ({ input: decodeLine(line, 'input', EXAMPLE, lineNo) as InputEvent, source: EXAMPLE, line: lineNo }));
}

/** What the core alone decides on the example: the reference every store must reproduce. */
function referenceHash(): string {
  const engine = ClearingEngine.create();
  for (const { input } of exampleInputs()) engine.handle(input);
  return engine.outputHash;
}

/**
 * Runs the example into the store at `url` (which must be empty) as a shard
 * would: first one input per batch with a snapshot every 5 events, then,
 * after a restart, the rest in one batch without snapshots (so the last
 * snapshot is followed by a tail). Then checks hash, verify, and restart.
 */
async function checkStore(url: string, open: (url: string) => Promise<EventStore> = openStore): Promise<void> {
  const inputs = exampleInputs();
  const split = inputs.length - 5;

  let store = await open(url);
  let runner = await ShardRunner.open(store, { snapshotEvery: 5 });
  for (const input of inputs.slice(0, split)) await runner.run([input]);
  await store.close();

  store = await open(url);
  runner = await ShardRunner.open(store);
  expect(runner.restoredFrom).toBeGreaterThan(0);
  await runner.run(inputs.slice(split));
  const head = runner.head;
  expect(runner.engine.outputHash).toBe(referenceHash());

  const report = await verifyLog(store);
  expect(report.mismatches).toEqual([]);
  expect(report.invariantViolations).toEqual([]);
  expect(report.outputHash).toBe(referenceHash());
  expect(report.events).toBe(head);
  await store.close();

  store = await open(url);
  try {
    const restarted = await ShardRunner.open(store);
    const replayed = await ShardRunner.open(store, { fullReplay: true });
    expect(restarted.restoredFrom).toBeGreaterThan(0);
    expect(restarted.restoredFrom).toBeLessThan(head); // a snapshot and a tail
    expect(replayed.restoredFrom).toBe(0);
    expect(restarted.head).toBe(head);
    expect(restarted.engine.summary()).toEqual(replayed.engine.summary());
    expect(restarted.engine.outputHash).toBe(referenceHash());
    // The whole state, compared as data: a snapshot's text keeps the key order of objects as they
    // came in (the rules as read from the input file), while a replay sees them in canonical order.
    expect(JSON.parse(restarted.engine.snapshot())).toEqual(JSON.parse(replayed.engine.snapshot()));

    // Idempotent delivery after the restart: inputs carrying ids come again, nothing is appended.
    const withIds = inputs.filter(({ input }) => 'tradeId' in input || 'requestId' in input || input.eventId !== undefined);
    expect(withIds.length).toBeGreaterThan(0);
    const repeat = await restarted.run(withIds);
    expect(repeat).toMatchObject({ inputsAccepted: 0, duplicates: withIds.length, head });
    expect(await store.head()).toBe(head);
    expect(restarted.engine.outputHash).toBe(referenceHash());
  } finally {
    await store.close();
  }
}

describe('determinism across stores: examples/ccp-margin-call.jsonl', () => {
  it('the example decides something (margin calls, a liquidation): the hash is not of an empty run', () => {
    const engine = ClearingEngine.create();
    const decisions = exampleInputs().flatMap(({ input }) => engine.handle(input).decisions);
    expect(decisions.map((d) => d.type)).toEqual(expect.arrayContaining(['MarginCallIssued']));
  });

  it('in memory', async () => {
    const name = `determinism-${process.pid}`;
    try {
      await checkStore(`memory:${name}`);
    } finally {
      InMemoryEventStore.drop(name);
    }
  });

  it('in the file store', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearsim-determinism-'));
    try {
      await checkStore(`file:${dir}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in the KurrentDB adapter, on a fake server (a real one below when KURRENTDB_URL is set)', async () => {
    const server = new FakeKurrentDB();
    await checkStore('kurrentdb://fake:2113?tls=false', (url) => {
      server.disposed = false;
      return KurrentDBEventStore.open(url, { client: server.client() });
    });
  });

  describeWithService('on PostgreSQL', POSTGRES, (databaseUrl) => {
    const { url } = testSchema(databaseUrl, 'clearsim_determinism');

    it('gives the same outputHash, verifies, and restarts from snapshot + tail to the replayed state', async () => {
      await checkStore(`${url}&stream=ccp-margin-call`);
    });
  });

  describeWithService(
    'on KurrentDB',
    {
      variable: 'KURRENTDB_URL',
      service: 'KurrentDB',
      howTo: 'the KurrentDB server cannot be installed here; set KURRENTDB_URL (e.g. kurrentdb://localhost:2113?tls=false) to run it',
      requiredInCi: false,
    },
    (kurrentUrl) => {
      it('gives the same outputHash, verifies, and restarts from snapshot + tail to the replayed state', async () => {
        await checkStore(`${kurrentUrl}${kurrentUrl.includes('?') ? '&' : '?'}stream=determinism-${process.pid}-${Date.now().toString(36)}`);
      }, 60_000);
    },
  );
});
