import { at } from '../../../libs/clearing/src/testing/given';
import { ADMIN, bootServer, SETUP, TRADE, VENUE_A, type TestServer } from './server-harness';

/**
 * The served OpenAPI document describes every answer (test/schemathesis.sh
 * fuzzes the server against it; this checks its shape without Python), and
 * the 5xx the fuzzer found are 400s.
 */

interface Operation {
  security?: Record<string, string[]>[];
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { required?: string[]; properties?: Record<string, unknown> }>; securitySchemes: Record<string, Record<string, unknown>> };
}

const ERROR_REF = '#/components/schemas/ErrorResponse';

describe('the OpenAPI document', () => {
  let server: TestServer;
  let document: Document;
  const operations = (): [string, Operation][] =>
    Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]): [string, Operation] => [`${method.toUpperCase()} ${path}`, operation]));

  beforeAll(async () => {
    server = await bootServer();
    document = (await server.http.get('/docs-json')).body as Document;
  });
  afterAll(() => server?.close());

  it('is OpenAPI 3 and declares both ways to send the API key', () => {
    expect(document.openapi).toMatch(/^3\.0\.\d+$/);
    expect(document.components.securitySchemes).toEqual({
      'api-key': expect.objectContaining({ type: 'apiKey', in: 'header', name: 'x-api-key' }),
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
  });

  it('documents every route, /metrics included', () => {
    expect(operations().map(([name]) => name).sort()).toEqual(
      [
        'GET /healthz',
        'GET /metrics',
        'GET /readyz',
        'GET /v1/accounts',
        'GET /v1/accounts/{id}',
        'GET /v1/decisions/stream',
        'GET /v1/log',
        'GET /v1/summary',
        'POST /v1/admin/clock',
        'POST /v1/admin/reset',
        'POST /v1/admin/rules',
        'POST /v1/inputs',
        'POST /v1/inputs/batch',
        'POST /v1/what-if/trade',
      ].sort(),
    );
  });

  it('gives every 200 a typed body: a schema class for JSON, a string for the event stream and the metrics', () => {
    for (const [name, operation] of operations()) {
      const content = operation.responses['200']?.content;
      expect([name, content && Object.keys(content)]).toEqual([name, [expect.stringMatching(/^(application\/json|text\/event-stream|text\/plain)$/)]]);
      const [[mediaType, { schema }]] = Object.entries(content!);
      if (mediaType === 'application/json') expect([name, schema]).toEqual([name, { $ref: expect.stringMatching(/^#\/components\/schemas\/\w+Response$/) }]);
      else expect([name, schema]).toEqual([name, expect.objectContaining({ type: 'string' })]);
    }
  });

  it('gives every error status the one ErrorResponse body; guarded routes 401/500/503, routes with a body 400/408/413', () => {
    for (const [name, operation] of operations()) {
      const errors = Object.keys(operation.responses).filter((status) => Number(status) >= 400 && status !== '503');
      expect([name, errors.length]).not.toEqual([name, 0]);
      for (const status of errors) expect([name, status, operation.responses[status]!.content]).toEqual([name, status, { 'application/json': { schema: { $ref: ERROR_REF } } }]);
      const statuses = Object.keys(operation.responses);
      if (operation.security) {
        expect([name, operation.security]).toEqual([name, [{ 'api-key': [] }, { bearer: [] }]]);
        // /metrics answers even while the shard is not ready: no 503 there
        expect([name, statuses]).toEqual([name, expect.arrayContaining(name.includes('/metrics') ? ['401', '500'] : ['401', '500', '503'])]);
      }
      if (operation.requestBody) expect([name, statuses]).toEqual([name, expect.arrayContaining(['400', '408', '413'])]);
    }
    expect(document.components.schemas.ErrorResponse!.required).toEqual(['statusCode', 'error', 'message']);
  });

  it('answers 401, 403, 404, 400 and 422 with the documented error body', async () => {
    expect((await server.http.post('/v1/inputs/batch').set('x-api-key', ADMIN).send(SETUP)).status).toBe(200);
    const required = document.components.schemas.ErrorResponse!.required!;
    const answers = [
      await server.http.get('/v1/summary'),
      await server.http.get('/v1/accounts/b-bob').set('x-api-key', VENUE_A),
      await server.http.get('/v1/accounts/a-nobody').set('x-api-key', ADMIN),
      await server.http.post('/v1/inputs').set('x-api-key', ADMIN).set('content-type', 'application/json').send('{"type":'),
      await server.http.post('/v1/inputs').set('x-api-key', ADMIN).send({ ...TRADE, ts: at(-60) }),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([401, 403, 404, 400, 422]);
    for (const answer of answers) {
      expect(Object.keys(answer.body)).toEqual(expect.arrayContaining(required));
      expect(answer.body.message).toEqual(expect.arrayContaining([expect.any(String)]));
    }
  });
});

describe('the 5xx schemathesis found are 400s naming the field', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await bootServer();
    expect((await server.http.post('/v1/inputs/batch').set('x-api-key', ADMIN).send(SETUP)).status).toBe(200);
  });
  afterAll(() => server?.close());

  it('a decimal exponent too large to write out (a RangeError, or seconds of a blocked event loop) is refused before parsing', async () => {
    // the bound is the ledger's (docs/rules.md §1: an exponent within ±30), checked on the text before any digit is built
    for (const price of ['501601.266308e5832834840', '-.1801592947217e+79704030', '1e1001', '1e-1001', '1e400']) {
      const answer = await server.http.post('/v1/what-if/trade').set('x-api-key', ADMIN).send({ account: 'a-alice', instrument: 'BTC-PERP', side: 'buy', qty: '1', price });
      expect([price, answer.status, answer.body.message]).toEqual([price, 400, [expect.stringMatching(/^price: must be a decimal: .* has an exponent beyond ±30$/)]]);
    }
    const batch = await server.http.post('/v1/inputs/batch').set('x-api-key', ADMIN).send([{ type: 'InstrumentListed', ts: at(0), instrument: 'X', kind: 'future', multiplier: '.21482606664E62587451462' }]);
    expect(batch.status).toBe(400);
    expect(batch.body.message).toEqual([expect.stringMatching(/^\[0\]\.multiplier: must be a decimal: .* has an exponent beyond ±30$/)]);
  });

  it('null in an optional field is refused, not passed on (what-if fee: null was a 500)', async () => {
    const answer = await server.http.post('/v1/what-if/trade').set('x-api-key', ADMIN).send({ account: 'a-alice', instrument: 'BTC-PERP', side: 'buy', qty: '1', price: '10000', fee: null });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toEqual(['fee: must not be null (leave an optional field out instead)']);
  });

  it('a log position beyond 2^53 - 1 is refused (it came back as 9.3e+307, not an integer)', async () => {
    const answer = await server.http.get('/v1/log?from=9.307762101796839e%2B307').set('x-api-key', ADMIN);
    expect(answer.status).toBe(400);
    expect(answer.body.message).toEqual(['from: must be a whole number from 1 to 9007199254740991 in decimal digits (got "9.307762101796839e+307")']);
    expect((await server.http.get('/v1/log?from=9007199254740992').set('x-api-key', ADMIN)).body.message).toEqual(['from: must be at most 9007199254740991']);
    expect((await server.http.get(`/v1/log?from=${Number.MAX_SAFE_INTEGER}`).set('x-api-key', ADMIN)).body).toEqual({ from: Number.MAX_SAFE_INTEGER, head: 7, next: Number.MAX_SAFE_INTEGER, events: [] });
  });
});
