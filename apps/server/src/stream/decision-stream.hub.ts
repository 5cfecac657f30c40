import { Injectable, type BeforeApplicationShutdown, type MessageEvent } from '@nestjs/common';
import { Observable, Subject, type Subscriber } from 'rxjs';
import { isDecision } from '@clearsim/events';
import type { EventStore, StoredEvent } from '@clearsim/store';
import { visibleEvent } from '../auth/access-policy';
import type { Principal } from '../auth/api-keys';
import { ShardService } from '../clearing/shard.service';
import { MetricsService } from '../metrics/metrics.service';

/** Milliseconds between keep-alive comments on an idle stream. */
const KEEP_ALIVE_MS = 15_000;

/**
 * Fans the decisions of each durable append out to the open SSE connections.
 * A connection can resume after a position (Last-Event-ID): it subscribes to
 * the live feed first (buffering), reads the log up to the head it saw when it
 * subscribed, then drains the buffer — de-duplicated by position, so nothing
 * is lost or sent twice across the switch.
 */
@Injectable()
export class DecisionStreamHub implements BeforeApplicationShutdown {
  private readonly live$ = new Subject<readonly StoredEvent[]>();
  private readonly reset$ = new Subject<void>();
  private readonly closing$ = new Subject<void>();

  constructor(
    private readonly shard: ShardService,
    private readonly metrics: MetricsService,
  ) {}

  publish(decisions: readonly StoredEvent[]): void {
    this.live$.next(decisions);
  }

  /** The log was reset: every connection gets a `reset` event and continues from position 1. */
  reset(): void {
    this.reset$.next();
  }

  /**
   * One connection's events: each decision the principal may read, as
   * `id: <position>` and `data: <canonical JSON>` (a venue's with other venues' accounts redacted: visibleEvent); those after `resumeAfter`
   * (caught up from the log first), or only new ones when it is undefined.
   */
  stream(principal: Principal, resumeAfter?: number): Observable<MessageEvent> {
    const store = this.shard.store;
    const head = this.shard.head;
    return new Observable<MessageEvent>((subscriber) => {
      const connection = new Connection(principal, subscriber, Math.min(resumeAfter ?? head, head));
      // the first write commits the headers, so a client sees the stream open at once
      subscriber.next({ comment: `clearsim decisions after position ${Math.min(resumeAfter ?? head, head)}` });
      const subscriptions = [
        this.live$.subscribe((batch) => connection.deliver(batch)),
        this.reset$.subscribe(() => connection.restart()),
        this.closing$.subscribe(() => subscriber.complete()),
      ];
      const keepAlive = setInterval(() => subscriber.next({ comment: 'keep-alive' }), KEEP_ALIVE_MS);
      keepAlive.unref();
      this.metrics.streamClients.inc();
      if (resumeAfter !== undefined && resumeAfter > head) {
        // a position this log never reached: it was reset since the client last read
        connection.restart();
        void connection.catchUp(store, 1, head);
      } else if (resumeAfter !== undefined && resumeAfter < head) {
        void connection.catchUp(store, resumeAfter + 1, head);
      }
      return () => {
        for (const subscription of subscriptions) subscription.unsubscribe();
        clearInterval(keepAlive);
        this.metrics.streamClients.dec();
      };
    });
  }

  /** Ends every stream, so the HTTP server can close. */
  beforeApplicationShutdown(): void {
    this.closing$.next();
  }
}

/** One SSE connection: what it has sent, and the live events held back while it catches up from the log. */
class Connection {
  private backlog?: StoredEvent[];

  constructor(
    private readonly principal: Principal,
    private readonly subscriber: Subscriber<MessageEvent>,
    private lastSent: number,
  ) {}

  deliver(batch: readonly StoredEvent[]): void {
    if (this.backlog) this.backlog.push(...batch);
    else for (const stored of batch) this.send(stored);
  }

  /** Sends the logged decisions in [from, to], then what arrived live meanwhile. */
  async catchUp(store: EventStore, from: number, to: number): Promise<void> {
    this.backlog = [];
    try {
      for await (const stored of store.read(from, { toPosition: to })) {
        if (this.subscriber.closed) return;
        this.send(stored);
      }
      const pending = this.backlog ?? [];
      this.backlog = undefined;
      for (const stored of pending) this.send(stored);
    } catch (error) {
      this.subscriber.error(error);
    }
  }

  restart(): void {
    this.backlog = undefined;
    this.lastSent = 0;
    this.subscriber.next({ type: 'reset', id: '0', data: { position: 0, message: 'the log was reset; positions start again at 1' } });
  }

  private send(stored: StoredEvent): void {
    if (stored.position <= this.lastSent) return;
    this.lastSent = stored.position;
    const visible = isDecision(stored.event) ? visibleEvent(this.principal, stored.event) : undefined;
    if (visible) this.subscriber.next({ id: String(stored.position), data: visible });
  }
}
