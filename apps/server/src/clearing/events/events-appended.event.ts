import type { StoredEvent } from '@clearsim/store';

/**
 * Published on the @nestjs/cqrs EventBus after every durable append (from the
 * ShardRunner's post-append listener), with every event appended — inputs and
 * decisions, in log order. Handlers run side effects only (metrics); they
 * decide nothing, and may run concurrently with the next append. (Kafka out
 * is not a handler: the KafkaModule's shard worker listens to the runner
 * itself, so that it can record how far it has published.)
 */
export class EventsAppendedEvent {
  constructor(
    readonly events: readonly StoredEvent[],
    /** The log head after this append. */
    readonly head: number,
  ) {}
}
