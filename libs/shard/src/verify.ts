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
 * the logged decisions are exactly those (DESIGN §4). Stops collecting after
 * `maxMismatches`.
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
  let expected: ClearingEvent[] = [];
  let lastPosition = 0;
  const mismatch = (position: number, logged: ClearingEvent | undefined, decided: ClearingEvent | undefined) => {
    if (report.mismatches.length < maxMismatches) {
      report.mismatches.push({ position, logged: logged ? encodeEvent(logged) : null, decided: decided ? encodeEvent(decided) : null });
    }
  };
  const flushMissing = (position: number) => {
    for (const decided of expected) mismatch(position, undefined, decided);
    expected = [];
  };
  for await (const { position, event } of store.read(1)) {
    if (snapshot && lastPosition === snapshot.position && report.snapshot === null) compareSnapshot();
    report.events++;
    lastPosition = position;
    if (isInput(event)) {
      flushMissing(position);
      report.inputs++;
      expected = [...engine.handle(event).decisions];
      continue;
    }
    report.decisions++;
    const decided = expected.shift();
    if (!decided || encodeEvent(decided) !== encodeEvent(event)) mismatch(position, event, decided);
  }
  flushMissing(lastPosition + 1);
  if (snapshot && lastPosition === snapshot.position && report.snapshot === null) compareSnapshot();
  report.outputHash = engine.outputHash;
  report.invariantViolations = engine.invariantViolations();
  return report;
}
