import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import type { ClearingEngine } from '@clearsim/clearing';
import { isDecision, type InputEvent, type Timestamp } from '@clearsim/events';
import { ShardRunner } from '@clearsim/shard';
import { EVENTS_FILE, InMemoryEventStore, openStore, parseStoreUrl, redactUrl, type EventStore, type StoredEvent } from '@clearsim/store';
import { DEFAULT_SNAPSHOT_EVERY, SERVER_OPTIONS, type ServerOptions } from '../config/server-options';
import { DecisionsAppendedEvent } from './events/decisions-appended.event';
import { EventsAppendedEvent } from './events/events-appended.event';
import { LogOpenedEvent } from './events/log-opened.event';
import { DEFAULT_COMMIT_DELAY_MICROS, GroupCommitQueue, type Committed } from './group-commit.queue';

/** The shard is not open (still replaying, being reset, failed, or shutting down): 503. */
export class NotReadyError extends Error {}

/** Admin reset asked of a store that cannot be reset from here: 409. */
export class ResetNotSupported extends Error {}

export type ShardStatus = 'opening' | 'ready' | 'failed' | 'closing' | 'closed';

/**
 * Owns the one ShardRunner of this server (one writer per shard) and its
 * store. It opens the shard when the module starts (latest snapshot + tail),
 * publishes what the runner appends on the EventBus — only after it is
 * durable, and only side effects hang off it — and drains the runner's queue
 * on shutdown. It decides nothing: `runner.run` (the core's shard loop) does.
 */
@Injectable()
export class ShardService implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(ShardService.name);
  private shard?: { store: EventStore; runner: ShardRunner; queue: GroupCommitQueue; unsubscribe: () => void };
  private state: ShardStatus = 'opening';
  private failure?: Error;
  private opened: Promise<void> = Promise.resolve();

  constructor(
    @Inject(SERVER_OPTIONS) private readonly options: ServerOptions,
    private readonly eventBus: EventBus,
  ) {}

  onModuleInit(): void {
    this.opened = this.open(false);
    // whenReady() reports the failure; this only keeps it from being unhandled
    this.opened.catch(() => undefined);
  }

  /** Resolves once the log is replayed and the shard takes inputs; rejects if opening failed. */
  whenReady(): Promise<void> {
    return this.opened;
  }

  get status(): ShardStatus {
    return this.state;
  }

  get error(): Error | undefined {
    return this.failure;
  }

  /** The store URL, password hidden. */
  get storeUrl(): string {
    return redactUrl(this.options.store);
  }

  /** The runner, or NotReadyError (503) while the shard is not open. */
  get runner(): ShardRunner {
    if (this.state !== 'ready' || !this.shard) throw new NotReadyError(this.notReadyMessage());
    return this.shard.runner;
  }

  /** The runner while its store is open, including while shutting down (the Kafka worker's last step); undefined otherwise. */
  get runnerIfOpen(): ShardRunner | undefined {
    return this.shard?.runner;
  }

  get store(): EventStore {
    return this.runner.store;
  }

  /** Durable head of the log (0 while not open). */
  get head(): number {
    return this.shard?.runner.head ?? 0;
  }

  get restoredFrom(): number {
    return this.shard?.runner.restoredFrom ?? 0;
  }

  /**
   * Decides and durably appends a submission — all of it, or nothing — in
   * turn with every other (group commit: see GroupCommitQueue). Rejects with
   * InputRefused when the core refuses one of its inputs, NotReadyError when
   * the shard is not open.
   */
  submit(inputs: readonly InputEvent[], indexed: boolean): Promise<Committed> {
    if (this.state !== 'ready' || !this.shard) return Promise.reject(new NotReadyError(this.notReadyMessage()));
    return this.shard.queue.submit(inputs, indexed);
  }

  /**
   * Reads the live state between two writes (after every earlier submission
   * is appended), so a read never sees inputs that are not durable yet.
   */
  read<T>(fn: (engine: ClearingEngine, head: number) => T): Promise<T> {
    const runner = this.runner;
    return runner.exclusive(async () => fn(runner.engine, runner.head));
  }

  /** The state as it was at `at` (time travel): the log folded up to the last event with ts <= at, deciding nothing. */
  async readAt<T>(at: Timestamp, fn: (engine: ClearingEngine, head: number) => T): Promise<T> {
    const past = await ShardRunner.open(this.store, { at });
    return fn(past.engine, past.head);
  }

  /**
   * Starts a fresh, empty log (admin only). Supported for the embedded file
   * store, whose log file is deleted (its snapshots no longer match the log and
   * are ignored), and for in-memory stores (`memory:NAME` is dropped; `memory:`
   * is new at every open); other stores are refused (409). Waits for every
   * submission queued before it; later ones get 503 until the log is open.
   */
  async reset(): Promise<void> {
    if (this.options.kafka) {
      // Kafka's committed offsets and published positions point into this log; a fresh one would contradict them
      throw new ResetNotSupported('reset is not supported with Kafka enabled (the consumer group\'s offsets refer to this log): use a fresh store, topics and --group instead');
    }
    const location = parseStoreUrl(this.options.store);
    if (location.kind !== 'file' && location.kind !== 'memory') {
      throw new ResetNotSupported(`reset is only supported for file: and memory: stores, not ${this.storeUrl}`);
    }
    const shard = this.shard;
    const runner = this.runner;
    this.state = 'opening';
    await shard?.queue.idle();
    await runner.exclusive(async () => {
      shard?.unsubscribe();
      await runner.store.close();
      if (location.kind === 'file') await rm(join(location.path, EVENTS_FILE), { force: true });
      else InMemoryEventStore.drop(location.name);
    });
    this.shard = undefined;
    this.opened = this.open(true);
    await this.opened;
  }

  /** Stops taking submissions and waits for the queued ones to be answered (Nest calls it before the HTTP server closes). */
  beforeApplicationShutdown(): Promise<void> {
    return this.drain();
  }

  /**
   * Stops taking submissions (503 from now on) and resolves once every queued
   * one is answered and the runner is idle. Idempotent; the Kafka module calls
   * it before stopping its worker, so no HTTP append follows the worker's last commit.
   */
  async drain(): Promise<void> {
    if (this.state === 'ready') this.state = 'closing';
    await this.opened.catch(() => undefined);
    await this.shard?.queue.idle();
    await this.shard?.runner.exclusive(async () => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    const shard = this.shard;
    this.state = 'closed';
    this.shard = undefined;
    if (!shard) return;
    await shard.queue.idle();
    await shard.runner.exclusive(async () => undefined);
    shard.unsubscribe();
    await shard.store.close();
    this.logger.log(`closed ${this.storeUrl} at position ${shard.runner.head}`);
  }

  private async open(reset: boolean): Promise<void> {
    this.state = 'opening';
    this.failure = undefined;
    try {
      const store = await openStore(this.options.store, { warn: (message) => this.logger.warn(message) });
      let runner: ShardRunner;
      try {
        runner = await ShardRunner.open(store, { snapshotEvery: this.options.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY });
      } catch (error) {
        await store.close();
        throw error;
      }
      const unsubscribe = runner.onAppended((events) => this.publish(events, runner.head));
      this.shard = { store, runner, queue: new GroupCommitQueue(runner, { commitDelayMicros: this.options.commitDelayMicros ?? DEFAULT_COMMIT_DELAY_MICROS }), unsubscribe };
      this.state = 'ready';
      this.logger.log(`${reset ? 'reset' : 'opened'} ${this.storeUrl}: head ${runner.head}, restored from snapshot at ${runner.restoredFrom}`);
      this.eventBus.publish(new LogOpenedEvent(runner.head, runner.restoredFrom, reset));
    } catch (error) {
      this.state = 'failed';
      this.failure = error as Error;
      this.logger.error(`cannot open ${this.storeUrl}: ${(error as Error).message}`);
      throw error;
    }
  }

  /** Runs inside the runner's append, after the fsync: it must not throw into it. */
  private publish(events: readonly StoredEvent[], head: number): void {
    try {
      this.eventBus.publish(new EventsAppendedEvent(events, head));
      const decisions = events.filter((stored) => isDecision(stored.event));
      if (decisions.length > 0) this.eventBus.publish(new DecisionsAppendedEvent(decisions));
    } catch (error) {
      this.logger.error(`publishing appended events failed: ${(error as Error).message}`);
    }
  }

  private notReadyMessage(): string {
    switch (this.state) {
      case 'opening':
        return `the shard is opening ${this.storeUrl} (replaying the log); retry shortly`;
      case 'failed':
        return `the shard could not open ${this.storeUrl}: ${this.failure?.message ?? 'unknown error'}`;
      default:
        return 'the server is shutting down';
    }
  }
}
