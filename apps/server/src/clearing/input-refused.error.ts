import type { RejectionCode } from '@clearsim/clearing';
import type { InputEvent } from '@clearsim/events';

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

/** One field in which the repeat of an id differs from its first version (canonical texts; null: absent). */
export interface ContentDifference {
  field: string;
  first: string | null;
  repeat: string | null;
}

/**
 * 409: the input repeats an idempotency key already used with other content
 * (the core's IdConflictRejected). The first version stands; nothing of the
 * submission was appended. `first` is where the first version is (its log
 * position, or its index in the same batch) once the handler has looked it
 * up, with the fields that differ.
 */
export class IdConflict extends InputRefused {
  constructor(
    field: string,
    reason: string,
    index: number | undefined,
    /** The scoped key (never shown: it names the scope). */
    readonly key: string,
    readonly repeat: InputEvent,
    readonly first?: { position?: number; index?: number; differences: ContentDifference[] },
  ) {
    super('id-conflict', field, reason, index);
  }

  withFirst(first: { position?: number; index?: number; differences: ContentDifference[] }): IdConflict {
    return new IdConflict(this.field, this.reason, this.index, this.key, this.repeat, first);
  }
}
