import { decodeEvent, type ClearingEvent, type InputEvent } from '@clearsim/events';
import { ClearingEngine } from '../clearing-engine';
import { InputRejected } from '../validate';

/**
 * Runs raw inputs live through a new engine, as the property tests draw them. Refused inputs (e.g. a trade by an
 * account that never deposited) are skipped, as a venue would see them refused. `log` is in the log's order: the
 * grace timers an input's ts passed (at their deadlines), the input, its own decisions.
 */
export function runLive(inputs: Record<string, unknown>[], { afterEach, fastPaths = true }: { afterEach?: (engine: ClearingEngine) => void; fastPaths?: boolean } = {}) {
  const engine = ClearingEngine.create();
  engine.state.fastPaths = fastPaths;
  const log: ClearingEvent[] = [];
  const accepted: InputEvent[] = [];
  for (const raw of inputs) {
    const input = decodeEvent(raw, 'input') as InputEvent;
    let result;
    try {
      result = engine.handle(input);
    } catch (error) {
      if (error instanceof InputRejected) continue;
      throw error;
    }
    accepted.push(input);
    log.push(...result.decisions.slice(0, result.beforeInput), input, ...result.decisions.slice(result.beforeInput));
    afterEach?.(engine);
  }
  return { engine, log, accepted };
}

export type LiveRun = ReturnType<typeof runLive>;

/*
 * The checks every family of clearing properties makes of a live run (clearing-properties, venue-margin-properties,
 * inverse-properties): each throws (a failed expectation) where it does not hold.
 */

/** Replay (the log folded: inputs and decisions, nothing decided) ends in the live engine's state; returns the replay. */
export function expectReplayEqualsLive(live: LiveRun): ClearingEngine {
  const replay = ClearingEngine.create();
  for (const event of live.log) replay.apply(event);
  expect(replay.summary()).toEqual(live.engine.summary());
  return replay;
}

/** The accepted inputs decided without the fast paths (price bands, float screens) give the same decisions and state. */
export function expectFastPathsChangeNothing(live: LiveRun): void {
  const exact = ClearingEngine.create();
  exact.state.fastPaths = false;
  for (const input of live.accepted) exact.handle(input);
  expect(exact.outputHash).toBe(live.engine.outputHash);
  expect(exact.summary()).toEqual(live.engine.summary());
}

/** A snapshot taken after `cutAt` (modulo the accepted inputs + 1) and restored decides the rest exactly as the live run. */
export function expectSnapshotResumesLive(live: LiveRun, cutAt: number): void {
  const cut = cutAt % (live.accepted.length + 1);
  const first = ClearingEngine.create();
  live.accepted.slice(0, cut).forEach((input) => first.handle(input));
  const restored = ClearingEngine.fromSnapshot(first.snapshot())!;
  live.accepted.slice(cut).forEach((input) => restored.handle(input));
  expect(restored.outputHash).toBe(live.engine.outputHash);
  expect(restored.summary()).toEqual(live.engine.summary());
}
