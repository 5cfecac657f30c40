/**
 * The file store's line writers that need no schema: what `clearsim run`'s
 * decode thread loads to write the run's log (DetachedBatchWriter) and the
 * mark lines' JSON (MarkJsonEncoder), without the store's index (the stores,
 * the codec's schemas, zod). The same classes as the package's index.
 */
export { DetachedBatchWriter, type DetachedBatchEnd, type DetachedBatchStart } from './detached-batch';
export { MARK_JSON_MAX_BYTES, MarkJsonEncoder } from './log-format';
