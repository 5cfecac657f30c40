import { ClearingEngine } from '@clearsim/clearing';
import { encodeEvent, isInput, type ClearingEvent } from '@clearsim/events';
import type { EventStore } from '@clearsim/store';

export interface VerifyReport {
  events: number;
  inputs: number;
  decisions: number;
  mismatches: { position: number; logged: string | null; decided: string | null }[];
  outputHash: string;
  invariantViolations: string[];
  /** The latest snapshot, compared with the state re-simulated up to its position (null: no snapshot). */
  snapshot: { position: number; matches: boolean } | null;
}

/**
 * Re-simulation: reads only the inputs of a log, decides again, and proves
 * the logged decisions are exactly those (docs/architecture.md). The decisions logged
 * between two inputs are the rest of the first one's followed by the grace
 * timers the second one's `ts` passed (logged before it): they are compared
 * once the second input is re-decided. Stops collecting after `maxMismatches`.
 */
export async function verifyLog(store: EventStore, maxMismatches = 20): Promise<VerifyReport> {
  const engine = ClearingEngine.create();
  const report: VerifyReport = { events: 0, inputs: 0, decisions: 0, mismatches: [], outputHash: '', invariantViolations: [], snapshot: null };
  const snapshot = await store.latestSnapshot();
  const restored = snapshot && ClearingEngine.fromSnapshot(snapshot.state);
  // the snapshot must hold exactly the state (and running hash) the log's inputs re-decide to at its position
  const compareSnapshot = () => {
    if (snapshot && restored) report.snapshot = { position: snapshot.position, matches: JSON.stringify(restored.summary()) === JSON.stringify(engine.summary()) };
  };
  // the previous input's decisions still expected after it, and the decisions logged since it
  let expected: ClearingEvent[] = [];
  let logged: { position: number; event: ClearingEvent }[] = [];
  let lastPosition = 0;
  const mismatch = (position: number, logged: ClearingEvent | undefined, decided: ClearingEvent | undefined) => {
    if (report.mismatches.length < maxMismatches) {
      report.mismatches.push({ position, logged: logged ? encodeEvent(logged) : null, decided: decided ? encodeEvent(decided) : null });
    }
  };
  /** Compares the decisions logged since the last input with those re-decided for them; a decision missing from the log is named at `missingAt`. */
  const compare = (missingAt: number) => {
    const count = Math.max(expected.length, logged.length);
    for (let i = 0; i < count; i++) {
      const decided = expected[i];
      const event = logged[i];
      if (!event) mismatch(missingAt, undefined, decided);
      else if (!decided || encodeEvent(decided) !== encodeEvent(event.event)) mismatch(event.position, event.event, decided);
    }
    expected = [];
    logged = [];
  };
  for await (const { position, event } of store.read(1)) {
    // the engine has re-decided every input up to here: a snapshot is taken at the end of a committed batch, never
    // between the timers logged before an input and that input
    if (snapshot && lastPosition === snapshot.position && report.snapshot === null) compareSnapshot();
    report.events++;
    lastPosition = position;
    if (isInput(event)) {
      report.inputs++;
      const result = engine.handle(event);
      const decisions = result.decisions;
      // most inputs (a quiet mark) decide nothing, after nothing left to compare: no arrays made for them
      if (decisions.length === 0 && expected.length === 0 && logged.length === 0) continue;
      for (let i = 0; i < result.beforeInput; i++) expected.push(decisions[i]!);
      compare(position);
      expected = decisions.slice(result.beforeInput);
      continue;
    }
    report.decisions++;
    logged.push({ position, event });
  }
  compare(lastPosition + 1);
  if (snapshot && lastPosition === snapshot.position && report.snapshot === null) compareSnapshot();
  report.outputHash = engine.outputHash;
  report.invariantViolations = engine.invariantViolations();
  return report;
}
