import type { DeadLetter, OutboundMessage } from './kafka.port';

/** The dead-letter topic of an inputs topic. */
export const deadLetterTopicOf = (inputsTopic: string): string => `${inputsTopic}.dlq`;

/** The consumer group of one shard: a group per shard, so each commits only its own partition. */
export const shardGroupId = (group: string, shard: number, shards: number): string => `${group}.shard-${shard}-of-${shards}`;

/** Header names on the decisions and inputs topics. */
export const HEADER = {
  type: 'type',
  schemaVersion: 'schema-version',
  shard: 'shard',
  position: 'position',
  error: 'error',
  reason: 'reason',
} as const;

/** A refused input as it goes to the dead-letter topic: its key and value as they came, headers saying why and where from. */
export function deadLetterMessage({ message, error, reason, headers }: DeadLetter): OutboundMessage {
  return {
    key: message.key,
    value: message.value ?? '',
    headers: {
      ...message.headers,
      ...headers,
      [HEADER.error]: error,
      [HEADER.reason]: reason,
      'source-topic': message.topic,
      'source-partition': String(message.partition),
      'source-offset': message.offset,
    },
  };
}
