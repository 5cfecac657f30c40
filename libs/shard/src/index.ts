export * from './shard-runner';
export * from './verify';
