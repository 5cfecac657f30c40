import type { StoredEvent } from '@clearsim/store';

/**
 * The decisions of one durable append (published right after its
 * EventsAppendedEvent, only when there are some), in log order. The SSE
 * stream feeds on it; so will the Kafka producer of the decisions topic
 * (keyed by account). The decisions were made by the core's shard loop before
 * the append; nothing on the bus decides anything.
 */
export class DecisionsAppendedEvent {
  constructor(readonly decisions: readonly StoredEvent[]) {}
}
