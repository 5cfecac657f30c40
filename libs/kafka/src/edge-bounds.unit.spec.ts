import { encodeEvent } from '@clearsim/events';
import { ShardRunner } from '@clearsim/shard';
import { InMemoryEventStore, InMemoryLog } from '@clearsim/store';
import { inputMessages } from './inputs';
import type { OutboundMessage } from './kafka.port';
import { InputRouter } from './sharding';
import { KafkaShardWorker } from './shard-worker';
import { singleProcess } from './testing/compare';
import { InMemoryKafka } from './testing/in-memory-kafka';
import { ccpMarginCallInputs } from './testing/scenarios';
import { waitFor } from './testing/wait';

const IN = 'inputs';
const DLQ = 'inputs.dlq';

/**
 * The edge bounds over Kafka: a message that once stalled the worker (a 30-million exponent), was booked
 * changed (a 20-digit JSON number, February 30th) or ran it out of stack (5,000-deep rules) goes to the
 * dead-letter topic with the reason naming the field, and the worker goes on with the next message.
 */
describe('KafkaShardWorker: unbounded inputs are dead letters, decided from the text', () => {
  it('dead-letters each with its field and applies every good message around them', async () => {
    const kafka = new InMemoryKafka();
    const inputs = ccpMarginCallInputs();
    kafka.createTopic(IN, 1);
    const good = inputMessages(inputs, new InputRouter(1));
    const ts = '2026-01-05T09:05:00Z';
    const poison: OutboundMessage[] = [
      { key: 'alice', value: `{"type":"Deposited","ts":"${ts}","account":"alice","asset":"USD","amount":"1e30000000"}`, headers: {} },
      { key: 'alice', value: `{"type":"Deposited","ts":"${ts}","account":"alice","asset":"USD","amount":12345678901234567890}`, headers: {} },
      { key: 'alice', value: `{"type":"Deposited","ts":"2026-02-30T00:00:00Z","account":"alice","asset":"USD","amount":"1"}`, headers: {} },
      { key: 'x', value: `{"type":"RulesActivated","ts":"${ts}","rules":{"x":${'['.repeat(5000)}${']'.repeat(5000)}}}`, headers: {} },
    ];
    // after the first trade (message 8), before the withdrawal
    kafka.produce(IN, [...good.slice(0, 8), ...poison, ...good.slice(8)]);
    const runner = await ShardRunner.open(new InMemoryEventStore(new InMemoryLog()));
    const worker = await KafkaShardWorker.start({ runner, ports: kafka.ports({ group: 'g.shard-0', inputs: IN, partitions: [0], decisions: 'decisions', deadLetters: DLQ }), shards: 1, shard: 0, log: () => undefined });
    await waitFor('the worker to catch up', () => worker.committedOffset === String(good.length + poison.length));
    await worker.stop();

    expect(kafka.messages(DLQ).map((letter) => [letter.headers.error, letter.headers['source-offset'], letter.headers.reason])).toEqual([
      ['malformed', '8', 'field "amount": "1e30000000" has an exponent beyond ±30'],
      ['malformed', '9', 'field "amount": the JSON number 12345678901234567890 cannot be represented exactly: send it as a decimal string ("12345678901234567890")'],
      ['malformed', '10', 'field "ts": "2026-02-30T00:00:00Z" is not a calendar date (2026-02 has 28 days)'],
      ['malformed', '11', expect.stringMatching(/^field "rules\.x(\[0\]){30}": nested deeper than 32 levels$/)],
    ]);
    // the good messages decide exactly what they decide without the poison
    const expected = singleProcess(inputs);
    expect(kafka.messages('decisions').map((m) => m.value!.toString())).toEqual(expected.decisions.map(encodeEvent));
    expect(runner.engine.outputHash).toBe(expected.engine.outputHash);
  });
});
