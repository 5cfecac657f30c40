/** The shard's log was opened (snapshot + tail replayed) — at start, or as a fresh log after an admin reset. */
export class LogOpenedEvent {
  constructor(
    readonly head: number,
    /** Position of the snapshot the state was restored from (0: full replay). */
    readonly restoredFrom: number,
    /** True when the log was reset to empty (positions start again at 1). */
    readonly reset: boolean,
  ) {}
}
