export * from './event-store.port';
export { CorruptLogError, EVENTS_FILE, FileEventStore, LOCK_FILE, type FileEventStoreOptions } from './file/file-event-store';
export { DEFAULT_STORE_URL, openStore, parseStoreUrl, redactUrl, type OpenStoreOptions, type StoreLocation } from './open-store';
