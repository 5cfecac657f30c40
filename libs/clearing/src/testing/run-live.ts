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
