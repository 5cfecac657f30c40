export * from './event-store.port';
export {
  AppendInProgressError,
  CorruptLogError,
  ReadOnlyStoreError,
  StoreLockedError,
  StoreNotFoundError,
  StoreUnavailableError,
  StoreUrlError,
  TransactionFinishedError,
  type CorruptionKind,
} from './errors';
export { EVENTS_FILE, FileEventStore, LOCK_FILE, type FileEventStoreOptions } from './file/file-event-store';
export { HEAD_FILE } from './file/head-file';
export { MarkJsonEncoder, MARK_JSON_MAX_BYTES } from './file/log-format';
export { DetachedBatchWriter, isDetachable, type DetachableTransaction, type DetachedBatchEnd, type DetachedBatchStart } from './file/detached-batch';
export { resetFileStore } from './file/reset-file-store';
export { SNAPSHOTS_DIR } from './file/file-snapshots';
export { makeDirectories, makeDirectoriesSync } from './file/make-directories';
export { InMemoryEventStore, InMemoryLog, type InMemoryEventStoreOptions } from './memory/in-memory-event-store';
export { SNAPSHOTS_KEPT } from './adapter-support';
// Type-only: the PostgreSQL and KurrentDB drivers load only when openStore / openPostgresStore / openKurrentDBStore needs them.
export type { PostgresEventStore, PostgresEventStoreOptions } from './postgres/postgres-event-store';
export type { KurrentDBEventStore, KurrentDBEventStoreOptions, KurrentDBSubscription, SubscribeOptions } from './kurrentdb/kurrentdb-event-store';
export {
  DEFAULT_STORE_URL,
  openKurrentDBStore,
  openPostgresStore,
  openStore,
  parseStoreUrl,
  redactUrl,
  type OpenStoreOptions,
  type StoreLocation,
} from './open-store';
