import { decodeLine, InputError } from '@clearsim/events';
import { KafkaShardWorker, type InboundMessage } from '@clearsim/kafka';
import { VALIDATION_CORPUS } from '../../../test/fixtures/validation-corpus';
import { ADMIN, bootServer, SETUP, type TestServer } from './server-harness';

/** The top-level field of a path (`rules.instruments.X` → `rules`, `extra[0]` → `extra`; `body` → ''). */
const top = (field: string): string => {
  const name = /^[^.[]*/.exec(field)![0];
  return name === 'body' ? '' : name;
};
const distinct = (fields: string[]): string[] => [...new Set(fields.map(top))].sort();

/** The JSONL codec (`clearsim run`): undefined if valid, else the fields its InputError names. */
function byCodec(text: string): string[] | undefined {
  try {
    decodeLine(text, 'input', 'corpus.jsonl', 1);
    return undefined;
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return distinct(error.issues.map((issue) => issue.field));
  }
}

/** The Kafka worker's own decoder of an inputs-topic message: undefined if valid, else the fields its dead-letter reason names. */
function byKafka(text: string): string[] | undefined {
  const decode = (KafkaShardWorker.prototype as unknown as { decode(message: InboundMessage): { input: unknown } | { reason: string } }).decode;
  const result = decode({ topic: 'clearsim.inputs', partition: 0, offset: '7', key: 'a-alice', value: Buffer.from(text, 'utf8'), headers: {} });
  if ('input' in result) return undefined;
  // InputError.describe: `field "amount": problem; field "x": problem`, or a message with no field (the body)
  const fields = [...result.reason.matchAll(/(?:^|; )field "([^"]*)"/g)].map((m) => m[1]!);
  return distinct(fields.length > 0 ? fields : ['']);
}

describe('one validation corpus: the JSONL codec, the HTTP DTO path and the Kafka decoder give the same verdict and field', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await bootServer();
    expect((await server.http.post('/v1/inputs/batch').set('x-api-key', ADMIN).send(SETUP)).status).toBe(200);
  });
  afterAll(() => server?.close());

  /** POST /v1/inputs: undefined if it passed validation (200, or 422 from the core against the state), else the fields of its 400. */
  async function byHttp(text: string): Promise<string[] | undefined> {
    const response = await server.http.post('/v1/inputs').set('x-api-key', ADMIN).set('content-type', 'application/json').send(text);
    if (response.status === 200 || response.status === 422) return undefined;
    expect(response.status).toBe(400);
    const lines = response.body.message as string[];
    return distinct(lines.map((line) => line.slice(0, line.indexOf(':'))));
  }

  it('has valid and refused cases, each refused one naming a field', () => {
    expect(VALIDATION_CORPUS.filter((c) => c.field === undefined).length).toBeGreaterThan(10);
    expect(VALIDATION_CORPUS.filter((c) => c.field !== undefined).length).toBeGreaterThan(40);
    expect(new Set(VALIDATION_CORPUS.map((c) => c.name)).size).toBe(VALIDATION_CORPUS.length);
  });

  it.each(VALIDATION_CORPUS.map((c) => [c.name, c] as const))('%s', async (_name, corpusCase) => {
    const expected = corpusCase.field === undefined ? undefined : [corpusCase.field];
    expect({ path: 'jsonl', verdict: byCodec(corpusCase.text) }).toEqual({ path: 'jsonl', verdict: expected });
    expect({ path: 'kafka', verdict: byKafka(corpusCase.text) }).toEqual({ path: 'kafka', verdict: expected });
    expect({ path: 'http', verdict: await byHttp(corpusCase.text) }).toEqual({ path: 'http', verdict: expected });
  });
});
