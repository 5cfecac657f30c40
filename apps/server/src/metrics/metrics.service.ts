import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DECISION_SCHEMAS } from '@clearsim/events';
import { SERVER_OPTIONS, type ServerOptions } from '../config/server-options';

/**
 * The Prometheus metrics of one server (its own registry, so several servers
 * can live in one process, as in the tests).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly eventsAppended = new Counter({
    name: 'clearsim_events_appended_total',
    help: 'Events durably appended to the log, by kind (input or decision)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly decisions = new Counter({
    name: 'clearsim_decisions_total',
    help: 'Decisions appended by the margin saga, by decision type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly appendLatency = new Histogram({
    name: 'clearsim_append_latency_seconds',
    help: 'Time to decide and durably append one submission (a single input or a batch), from the shard loop taking it to the append being acknowledged, queueing included',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly logHead = new Gauge({
    name: 'clearsim_log_head',
    help: 'Position of the last event of the log (0: empty)',
    registers: [this.registry],
  });

  readonly consumerLag = new Gauge({
    name: 'clearsim_consumer_lag',
    help: 'Kafka inputs-topic consumer lag in messages, summed over the assigned partitions. Always 0 when the service runs without Kafka (HTTP only); the Kafka module sets it',
    registers: [this.registry],
  });

  readonly inputsRefused = new Counter({
    name: 'clearsim_inputs_refused_total',
    help: 'Submissions refused with nothing appended, by reason (invalid, forbidden, or the core\'s rejection code such as clock-went-backwards)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly streamClients = new Gauge({
    name: 'clearsim_decision_stream_clients',
    help: 'Open server-sent-event connections on /v1/decisions/stream',
    registers: [this.registry],
  });

  constructor(@Inject(SERVER_OPTIONS) options: ServerOptions) {
    // every series exists from the start, so a dashboard's rate() sees its first increment
    for (const kind of ['input', 'decision']) this.eventsAppended.labels(kind).inc(0);
    for (const type of Object.keys(DECISION_SCHEMAS)) this.decisions.labels(type).inc(0);
    this.consumerLag.set(0);
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** The text exposition format (what /metrics answers). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
