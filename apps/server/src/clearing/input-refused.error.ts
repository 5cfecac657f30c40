import type { RejectionCode } from '@clearsim/clearing';

/**
 * The core refused an input against the shard's state (InputRejected: unknown
 * account, ts older than the clock, …): 422 with the reason code, the field
 * and, in a batch, the index of the refused item. Nothing of the submission
 * was appended.
 */
export class InputRefused extends Error {
  constructor(
    readonly code: RejectionCode,
    readonly field: string,
    readonly reason: string,
    readonly index?: number,
  ) {
    super(`${index === undefined ? '' : `[${index}].`}${field}: ${reason}`);
  }
}
