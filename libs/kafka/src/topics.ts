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
