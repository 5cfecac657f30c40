/**
 * The store's errors and its default URL, without the stores: what the CLI's entry point needs to name a failure
 * (`@clearsim/store/errors`), so that a command loads the stores only when it opens one.
 */
export { ConcurrencyError } from './event-store.port';
export { CorruptLogError, StoreLockedError, StoreNotFoundError, StoreUnavailableError, StoreUrlError } from './errors';
export { DEFAULT_STORE_URL } from './store-url';
