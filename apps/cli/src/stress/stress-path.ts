import { ClearingEngine, initialMarginHeld, insuranceFundCash } from '@clearsim/clearing';
import { decodeEvent, InputError, type InputEvent } from '@clearsim/events';
import type { Fixed } from '@clearsim/money';
import { stressedInputs, type Scenario } from '@clearsim/scenario';

/** What every path is replayed against: the scenario, the rule sets (raw objects, as loaded), the stress seed. */
export interface StressJob {
  scenario: Scenario;
  ruleSets: { label: string; rules: Record<string, unknown> }[];
  seed: bigint;
}

/** One path's outcome under one rule set. */
export interface PathFigures {
  bankruptcies: number;
  /** Count of PositionAutoDeleveraged decisions. */
  autoDeleverages: number;
  /** Σ amount of the LossSocialized decisions. */
  socializedLoss: Fixed;
  /** The insurance fund's lowest cash balance from the end of the opening block (every input at `start`) to the end. */
  insuranceFundLow: Fixed;
  /** Σ initial margin of the non-system accounts at the end of the opening block. */
  marginHeld: Fixed;
}

/**
 * Stress path `pathIndex` of the job through each rule set, in memory (a fresh
 * ClearingEngine, no store). Depends on (job, pathIndex) only: whichever worker
 * runs it, it gives the same figures.
 */
export function runStressPath(job: StressJob, pathIndex: number): PathFigures[] {
  return job.ruleSets.map(({ label, rules }) => {
    const engine = ClearingEngine.create();
    const fund = () => insuranceFundCash(engine.state) ?? 0n;
    let opened = false;
    let marginHeld = 0n;
    let insuranceFundLow = 0n;
    let socializedLoss = 0n;
    const endOfOpening = () => {
      opened = true;
      marginHeld = initialMarginHeld(engine.state);
      insuranceFundLow = fund();
    };
    const events = stressedInputs(job.scenario, rules, job.seed, pathIndex);
    events.forEach((raw, i) => {
      try {
        const input = decodeEvent(raw, 'input') as InputEvent;
        if (!opened && input.ts > job.scenario.start) endOfOpening();
        for (const decision of engine.handle(input).decisions) {
          if (decision.type === 'LossSocialized') socializedLoss += decision.amount;
        }
      } catch (error) {
        if (error instanceof InputError) throw error.withLocation(`stress path ${pathIndex} under ${label} [generated event]`, i + 1);
        throw error;
      }
      if (opened) {
        const cash = fund();
        if (cash < insuranceFundLow) insuranceFundLow = cash;
      }
    });
    if (!opened) endOfOpening();
    const { bankruptcies, autoDeleverages } = engine.state.stats;
    return { bankruptcies, autoDeleverages, socializedLoss, insuranceFundLow, marginHeld };
  });
}

