import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeEvent } from '@clearsim/events';
import { ShardRunner } from '@clearsim/shard';
import { FileEventStore } from '@clearsim/store';
import { inputMessages } from './inputs';
import { InputRouter } from './sharding';
import { shardGroupId } from './topics';
import { brokersFromEnv, testTopics, TestKafka, type TestTopics } from './testing/broker';
import { singleProcess } from './testing/compare';
import { longDayInputs } from './testing/scenarios';
import { waitFor } from './testing/wait';

const brokers = brokersFromEnv('libs/kafka crash integration tests');
const describeKafka = brokers ? describe : describe.skip;
jest.setTimeout(45_000);

const ROOT = path.resolve(__dirname, '../../..');

/** A shard worker in a child process (testing/worker-process.ts), with its stdout lines. */
class WorkerProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(config: { brokers: string[]; topics: TestTopics; storeDir: string; shards: number; shard: number; maxInputsPerAppend: number }) {
    this.child = spawn(process.execPath, ['-r', path.join(__dirname, 'testing/register.cjs'), path.join(__dirname, 'testing/worker-process.ts'), JSON.stringify(config)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffer = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      this.lines.push(...parts);
    });
    this.child.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** The log head the child reported last. */
  get head(): number {
    const last = [...this.lines].reverse().find((l) => l.startsWith('appended '));
    return last ? Number(last.split(' ')[1]) : 0;
  }
}

describeKafka('a shard worker killed at any moment (SIGKILL of its process)', () => {
  let kafka: TestKafka;
  let dir: string;
  const children: WorkerProcess[] = [];

  beforeAll(() => {
    kafka = new TestKafka(brokers!);
  });
  afterAll(() => kafka.close());
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'clearsim-kafka-crash-'));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('restarted, loses nothing and duplicates nothing: the same log and outputHash as one uninterrupted process', async () => {
    const topics = testTopics('clearsim-k');
    const inputs = longDayInputs(5000);
    await kafka.createTopic(topics.inputs, 1);
    await kafka.publish(topics.inputs, inputMessages(inputs, new InputRouter(1)));
    const end = String(inputs.length);
    const config = { brokers: brokers!, topics, storeDir: path.join(dir, 'shard-0'), shards: 1, shard: 0, maxInputsPerAppend: 50 };

    const first = new WorkerProcess(config);
    children.push(first);
    await waitFor('the first process to append', () => first.head >= 1500 || first.child.exitCode !== null);
    first.child.kill('SIGKILL'); // mid-stream: between, or during, append, publish and commit
    await first.exited;
    const committedAtKill = (await kafka.committed(shardGroupId(topics.group, 0, 1), topics.inputs, 0)) ?? '0';
    expect(Number(committedAtKill)).toBeLessThan(inputs.length);

    const second = new WorkerProcess(config);
    children.push(second);
    await waitFor('the restarted process to finish the day', async () => (await kafka.committed(shardGroupId(topics.group, 0, 1), topics.inputs, 0)) === end, 35_000, 200);
    second.child.kill('SIGTERM'); // graceful: drain, commit, disconnect, exit 0
    expect(await second.exited).toBe(0);
    expect(second.lines.at(-1)).toMatch(/^stopped \d+ 5000$/);

    // the store: exactly the uninterrupted run's log (same decisions, same hash), no input twice
    const store = await FileEventStore.open(config.storeDir);
    try {
      const runner = await ShardRunner.open(store, { fullReplay: true });
      const expected = singleProcess(inputs);
      expect(runner.engine.outputHash).toBe(expected.engine.outputHash);
      expect(runner.engine.state.stats.eventsIn).toBe(inputs.length);
      // the decisions topic: at least once; exactly once per (shard, position)
      const published = await kafka.readAll(topics.decisions);
      const byPosition = new Map(published.map((d) => [d.headers.position, d.value]));
      const logged = [...byPosition].sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => v);
      expect(logged).toEqual(expected.decisions.map(encodeEvent));
    } finally {
      await store.close();
    }
  });
});
