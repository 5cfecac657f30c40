import { ClearingEngine } from '@clearsim/clearing';
import { encodeEvent, type ClearingEvent, type DecisionEvent, type InputEvent } from '@clearsim/events';
import { InputRouter, localizeInput, type InputRouterOptions } from '../sharding';

/** Decisions grouped by account, each account's in log order, as canonical JSON lines. */
export function decisionsByAccount(decisions: Iterable<ClearingEvent>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const d of decisions) (out['account' in d ? d.account : (d as DecisionEvent & { instrument: string }).instrument] ??= []).push(encodeEvent(d));
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** One engine over all inputs (the single-process reference). */
export function singleProcess(inputs: readonly InputEvent[]): { engine: ClearingEngine; decisions: DecisionEvent[] } {
  const engine = ClearingEngine.create();
  const decisions = inputs.flatMap((i) => engine.handle(i).decisions);
  return { engine, decisions };
}

/** N engines fed as the Kafka path feeds them (routeInput + clock ticks → localizeInput), in memory. */
export function shardedInMemory(inputs: readonly InputEvent[], shards: number, options: InputRouterOptions = {}): { engines: ClearingEngine[]; decisions: DecisionEvent[][] } {
  const router = new InputRouter(shards, options);
  const engines = Array.from({ length: shards }, () => ClearingEngine.create());
  const decisions: DecisionEvent[][] = engines.map(() => []);
  for (const input of inputs) {
    for (const { partition, event } of router.route(input)) {
      const engine = engines[partition]!;
      const local = localizeInput(event, { shards, shard: partition, accounts: engine.state.rules?.accounts });
      if (local.action === 'apply') decisions[partition]!.push(...engine.handle(local.input).decisions);
    }
  }
  return { engines, decisions };
}
