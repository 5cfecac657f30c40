/**
 * What line `i` of a MarkColumns batch is (shard-runner.ts). A module of its
 * own, with no import: `clearsim run`'s decode thread writes these without
 * loading the runner and the clearing core behind it.
 */
export const LINE_MARK = 0;
export const LINE_INPUT = 1;
export const LINE_BLANK = 2;
