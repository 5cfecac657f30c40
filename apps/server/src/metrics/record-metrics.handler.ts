import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { isDecision } from '@clearsim/events';
import { EventsAppendedEvent } from '../clearing/events/events-appended.event';
import { LogOpenedEvent } from '../clearing/events/log-opened.event';
import { MetricsService } from './metrics.service';

/** Counts appended events and decisions, and follows the log head. */
@EventsHandler(EventsAppendedEvent, LogOpenedEvent)
export class RecordMetricsHandler implements IEventHandler<EventsAppendedEvent | LogOpenedEvent> {
  constructor(private readonly metrics: MetricsService) {}

  handle(event: EventsAppendedEvent | LogOpenedEvent): void {
    this.metrics.logHead.set(event.head);
    if (event instanceof LogOpenedEvent) return;
    let decisions = 0;
    for (const { event: appended } of event.events) {
      if (!isDecision(appended)) continue;
      decisions++;
      this.metrics.decisions.labels(appended.type).inc();
    }
    this.metrics.eventsAppended.labels('input').inc(event.events.length - decisions);
    if (decisions > 0) this.metrics.eventsAppended.labels('decision').inc(decisions);
  }
}
