import type { StoredEvent } from '@clearsim/store';

/**
 * The decisions of one durable append (published right after its
 * EventsAppendedEvent, only when there are some), in log order. The SSE
 * stream feeds on it (the decisions topic does not: see kafka/kafka.service.ts).
 * The decisions were made by the core's shard loop before the append;
 * nothing on the bus decides anything.
 */
export class DecisionsAppendedEvent {
  constructor(readonly decisions: readonly StoredEvent[]) {}
}
