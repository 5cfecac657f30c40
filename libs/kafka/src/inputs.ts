import { encodeEvent, SCHEMA_VERSION, type InputEvent } from '@clearsim/events';
import type { OutboundMessage } from './kafka.port';
import { InputRouter } from './sharding';
import { HEADER } from './topics';

/**
 * The messages that put `events` on an inputs topic of `router.shards`
 * partitions: canonical JSON values, explicit partitions (routeInput), keys
 * by account, headers `type` and `schema-version`. What a venue's producer
 * (or a test, or the bench) sends.
 */
export function inputMessages(events: Iterable<InputEvent>, router: InputRouter): OutboundMessage[] {
  const out: OutboundMessage[] = [];
  for (const event of events) {
    for (const routed of router.route(event)) {
      out.push({
        partition: routed.partition,
        key: routed.key,
        value: encodeEvent(routed.event),
        headers: { [HEADER.type]: routed.event.type, [HEADER.schemaVersion]: String(SCHEMA_VERSION) },
      });
    }
  }
  return out;
}
