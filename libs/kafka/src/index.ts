export * from './kafka.port';
export * from './sharding';
export * from './topics';
export * from './inputs';
export * from './shard-worker';
export * from './kafkajs/kafkajs-ports';
export * from './kafkajs/fixed-partitions-assigner';
