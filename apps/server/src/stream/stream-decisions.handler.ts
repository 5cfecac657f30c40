import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { DecisionsAppendedEvent } from '../clearing/events/decisions-appended.event';
import { LogOpenedEvent } from '../clearing/events/log-opened.event';
import { DecisionStreamHub } from './decision-stream.hub';

/** Feeds the SSE hub from the bus: each append's decisions, and log resets. Synchronous, so the hub sees appends in log order. */
@EventsHandler(DecisionsAppendedEvent, LogOpenedEvent)
export class StreamDecisionsHandler implements IEventHandler<DecisionsAppendedEvent | LogOpenedEvent> {
  constructor(private readonly hub: DecisionStreamHub) {}

  handle(event: DecisionsAppendedEvent | LogOpenedEvent): void {
    if (event instanceof DecisionsAppendedEvent) this.hub.publish(event.decisions);
    else if (event.reset) this.hub.reset();
  }
}
