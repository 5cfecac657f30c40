import { ShardRunner } from '@clearsim/shard';
import { FileEventStore } from '@clearsim/store';
import { KafkaShardWorker } from '../shard-worker';
import { shardPorts, type TestTopics } from './broker';

/**
 * A shard worker in a process of its own, for the crash tests: a test can
 * SIGKILL it at any moment, or SIGTERM it (graceful stop). Configured by one
 * JSON argument; prints `ready`, then `appended <head> <committed>` after
 * every append, and `stopped` on a graceful exit.
 */
interface Config {
  brokers: string[];
  topics: TestTopics;
  storeDir: string;
  shards: number;
  shard: number;
  maxInputsPerAppend: number;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]!) as Config;
  const store = await FileEventStore.open(config.storeDir);
  const runner = await ShardRunner.open(store, { snapshotEvery: 1000 });
  const ports = shardPorts(config.brokers, config.topics, config.shards, config.shard, (line) => process.stderr.write(`${line}\n`));
  const worker = await KafkaShardWorker.start({ runner, ports, shards: config.shards, shard: config.shard, maxInputsPerAppend: config.maxInputsPerAppend });
  runner.onAppended(() => process.stdout.write(`appended ${runner.head} ${worker.committedOffset ?? '-'}\n`));
  process.once('SIGTERM', () => {
    void worker
      .stop()
      .then(() => store.close())
      .then(() => {
        process.stdout.write(`stopped ${runner.head} ${worker.committedOffset ?? '-'}\n`);
        process.exit(0);
      });
  });
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`worker-process: ${(error as Error).stack}\n`);
  process.exit(1);
});
