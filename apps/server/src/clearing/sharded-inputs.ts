import { accountFields, type InputEvent } from '@clearsim/events';
import { shardOf } from '@clearsim/kafka';
import { DEFAULT_INPUTS_TOPIC, type KafkaServerOptions } from '../config/server-options';

/**
 * 409: this server is one shard of several (`serve --shards N`), and inputs
 * come through the Kafka inputs topic only. Over HTTP a price or a clock tick
 * would reach this shard alone, and an account of another shard would be
 * decided here; the Kafka producer's router sends each input to every shard
 * that needs it (and clock ticks to the others).
 */
export class ShardedInputsRefused extends Error {
  constructor(readonly reasons: string[]) {
    super(reasons.join('; '));
  }
}

/** Refuses HTTP inputs in sharded mode (N > 1), naming the owner shard of every account of another shard. */
export function assertHttpInputsAccepted(kafka: KafkaServerOptions | undefined, inputs: readonly InputEvent[], batch: boolean): void {
  const shards = kafka?.shards ?? 1;
  if (!kafka || shards <= 1) return;
  const shard = kafka.shard ?? 0;
  const topic = kafka.inputsTopic ?? DEFAULT_INPUTS_TOPIC;
  const reasons = [
    `inputs: this server is shard ${shard} of ${shards}; in sharded mode inputs come through the Kafka topic "${topic}" only ` +
      '(partition i is shard i; prices, clock, rules and listings go to every partition), not over HTTP',
  ];
  inputs.forEach((input, i) => {
    const prefix = batch ? `[${i}].` : '';
    for (const { field, account } of accountFields(input)) {
      const owner = shardOf(account, shards);
      if (owner !== shard) reasons.push(`${prefix}${field}: account "${account}" belongs to shard ${owner} of ${shards}, not to this one (${shard})`);
    }
  });
  throw new ShardedInputsRefused(reasons);
}
