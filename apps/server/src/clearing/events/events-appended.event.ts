import type { StoredEvent } from '@clearsim/store';

/**
 * Published on the @nestjs/cqrs EventBus after every durable append (from the
 * ShardRunner's post-append listener), with every event appended — inputs and
 * decisions, in log order. Handlers run side effects only (metrics, and the
 * Kafka producer's seam: a KafkaModule adds an @EventsHandler for this event
 * or for DecisionsAppendedEvent); they decide nothing, and may run
 * concurrently with the next append.
 */
export class EventsAppendedEvent {
  constructor(
    readonly events: readonly StoredEvent[],
    /** The log head after this append. */
    readonly head: number,
  ) {}
}
