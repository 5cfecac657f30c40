import { connect } from 'node:net';
import { HttpStatus } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { at } from '../../../libs/clearing/src/testing/given';
import { DomainErrorsFilter } from '../src/common/domain-errors.filter';
import { ADMIN, bootServer, SETUP, TRADE, VENUE_A, VENUE_B, type TestServer } from './server-harness';

/**
 * The repros of the service's edges: each input here once stalled the single writer, answered 500, or was
 * accepted and changed. Each is now a 4xx naming the field, decided before anything is built from it, and
 * nothing is appended.
 */
describe('edges: bounded parsing of every body', () => {
  let server: TestServer;
  const MAX_BODY = 256 * 1024;
  const post = (path: string, body: unknown, key = ADMIN) => server.http.post(path).set('x-api-key', key).send(body as object);
  const postText = (path: string, text: string, key = ADMIN) => server.http.post(path).set('x-api-key', key).set('content-type', 'application/json').send(text);
  const head = async (): Promise<number> => (await server.http.get('/v1/log').set('x-api-key', ADMIN)).body.head;
  const deposit = (amount: unknown) => ({ type: 'Deposited', ts: at(60), account: 'a-alice', asset: 'USD', amount });

  beforeAll(async () => {
    server = await bootServer({ maxBodyBytes: MAX_BODY });
    expect((await post('/v1/inputs/batch', [...SETUP, TRADE])).status).toBe(200);
  });
  afterAll(() => server?.close());

  describe('decimals beyond their bounds: 400 naming the field, for any key that may post', () => {
    it.each([
      // "1e30000000" blocked the event loop 9.5 s; "1e999999999" answered 500 RangeError
      ['1e30000000', 'amount: must be a decimal: "1e30000000" has an exponent beyond ±30'],
      ['1e999999999', 'amount: must be a decimal: "1e999999999" has an exponent beyond ±30'],
      // accepted as a 401-digit deposit
      ['1e400', 'amount: must be a decimal: "1e400" has an exponent beyond ±30'],
      ['1' + '0'.repeat(30), `amount: must be a decimal: "1${'0'.repeat(30)}" is out of range: a decimal has at most 30 digits before the point`],
    ])('Deposited amount %s', async (amount, message) => {
      const before = await head();
      for (const key of [ADMIN, VENUE_A, VENUE_B]) {
        const response = await post('/v1/inputs', deposit(amount), key);
        expect(response.status).toBe(400);
        expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: [message] });
      }
      expect(await head()).toBe(before);
    });

    it('a what-if fee with a 246-million exponent (the fuzzer\'s find: > 61 s, 1.1 GB) is a 400', async () => {
      const response = await post('/v1/what-if/trade', { account: 'a-alice', instrument: 'BTC-PERP', side: 'buy', qty: '1', price: '10000', fee: '635280.9688E246055307' });
      expect(response.status).toBe(400);
      expect(response.body.message).toEqual(['fee: must be a decimal: "635280.9688E246055307" has an exponent beyond ±30']);
    });

    it('rules with such a decimal are refused by the rules schema (RulesActivated and /v1/admin/rules)', async () => {
      const before = await head();
      const rules = { ...(SETUP[0]!.rules as Record<string, unknown>), instruments: { 'BTC-PERP': { tiers: [{ initialRate: '1e999999999', maintenanceRate: '0.05' }] } } };
      const viaInput = await post('/v1/inputs', { type: 'RulesActivated', ts: at(60), rules });
      expect(viaInput.status).toBe(400);
      expect(viaInput.body.message).toEqual([expect.stringMatching(/^rules\.instruments\.BTC-PERP\.tiers\.0\.initialRate: "1e999999999" has an exponent beyond ±30/)]);
      const viaAdmin = await post('/v1/admin/rules', { rules, ts: at(60) });
      expect(viaAdmin.status).toBe(400);
      expect(await head()).toBe(before);
    });
  });

  it('the OpenAPI document states the decimal bounds, so a schema-driven client or fuzzer knows them', async () => {
    const amount = (await server.http.get('/docs-json')).body.components.schemas.DepositedDto.properties.amount;
    const text = amount.oneOf[0];
    expect(text).toMatchObject({ type: 'string', maxLength: 64 });
    const pattern = new RegExp(text.pattern);
    expect(['1000', '-0.5', '1.5e3', '1e-8'].map((t) => pattern.test(t))).toEqual([true, true, true, true]);
    expect(['1e400', '1e30000000', 'NaN', ' 1'].map((t) => pattern.test(t))).toEqual([false, false, false, false]);
    expect(amount.description).toContain('at most 30 digits before the point and 8 after');
  });

  it('the OpenAPI document states the id bounds: 1 to 128 characters, none a control character', async () => {
    const account = (await server.http.get('/docs-json')).body.components.schemas.DepositedDto.properties.account;
    expect(account).toMatchObject({ type: 'string', minLength: 1, maxLength: 128 });
    const pattern = new RegExp(account.pattern);
    expect(['a-alice', 'ünï 😀', 'a\u00a0b', 'a\u202eb'].map((t) => pattern.test(t))).toEqual([true, true, true, true]);
    expect(['a\u0000', 'a\tb', 'a\u001b[2J', '\u007f', 'a\u0085', '\u009b'].map((t) => pattern.test(t))).toEqual([false, false, false, false, false, false]);
  });

  it('a JSON number a float64 cannot hold exactly is a 400 asking for a decimal string (it was booked as 12345678901234567000)', async () => {
    const before = await head();
    const response = await postText('/v1/inputs', `{"type":"Deposited","ts":"${at(60)}","account":"a-alice","asset":"USD","amount":12345678901234567890}`);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: ['amount: the JSON number 12345678901234567890 cannot be represented exactly: send it as a decimal string ("12345678901234567890")'],
    });
    // in a batch, the item is named by its index
    const batch = await postText('/v1/inputs/batch', `[${JSON.stringify(deposit('1'))},{"type":"PriceUpdated","ts":"${at(60)}","instrument":"BTC-PERP","price":10000.0000000000001}]`);
    expect(batch.body.message).toEqual([expect.stringMatching(/^\[1\]\.price: the JSON number 10000\.0000000000001 cannot be represented exactly/)]);
    expect(await head()).toBe(before);
    // a number with 15 significant digits or fewer means what it says
    expect((await postText('/v1/inputs', `{"type":"PriceUpdated","ts":"${at(60)}","instrument":"BTC-PERP","price":10000.5}`)).status).toBe(200);
  });

  describe('a body that is not JSON: 415 naming its media type (it was a 400 "ts: is required", the wrong fault)', () => {
    const deposited = JSON.stringify(deposit('5'));
    it.each([
      ['text/plain', `got "text/plain"`],
      ['application/x-www-form-urlencoded', `got "application/x-www-form-urlencoded"`],
      ['application/xml; charset=utf-8', `got "application/xml; charset=utf-8"`],
    ])('content-type %s', async (contentType, named) => {
      const before = await head();
      for (const path of ['/v1/inputs', '/v1/inputs/batch', '/v1/admin/rules']) {
        const response = await server.http.post(path).set('x-api-key', ADMIN).set('content-type', contentType).send(deposited);
        expect(response.status).toBe(415);
        expect(response.body).toEqual({ statusCode: 415, error: 'Unsupported Media Type', message: [`content-type: the body must be application/json (${named})`] });
      }
      expect(await head()).toBe(before);
    });

    it('a body with no content-type at all', async () => {
      const before = await head();
      // a raw request: an HTTP client library names a type for a string body by itself
      const { hostname, port } = new URL(server.url);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname);
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk));
        socket.on('error', reject);
        socket.on('close', () => resolve(text));
        socket.end(`POST /v1/inputs HTTP/1.1\r\nHost: x\r\nConnection: close\r\nx-api-key: ${ADMIN}\r\ncontent-length: ${deposited.length}\r\n\r\n${deposited}`);
      });
      const [status, json] = answer.split('\r\n\r\n');
      expect(status).toMatch(/^HTTP\/1\.1 415 /);
      expect(JSON.parse(json!).message).toEqual(['content-type: the body must be application/json (no content-type given)']);
      expect(await head()).toBe(before);
    });

    it('the same deposit as application/json is taken (the refusal is the media type, not the body)', async () => {
      const response = await server.http.post('/v1/inputs').set('x-api-key', ADMIN).set('content-type', 'application/json').send(deposited);
      expect(response.status).toBe(200);
    });
  });

  describe('nesting deeper than 32 levels: 400, never "Maximum call stack size exceeded"', () => {
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

    it.each([
      ['/v1/inputs', (d: string) => `{"type":"RulesActivated","ts":"${at(60)}","rules":{"x":${d}}}`, /^rules\.x(\[0\]){30}: nested deeper than 32 levels$/],
      ['/v1/admin/rules', (d: string) => `{"rules":{"x":${d}}}`, /^rules\.x(\[0\]){30}: nested deeper than 32 levels$/],
      ['/v1/inputs', (d: string) => `{"type":"ClockAdvanced","ts":"${at(60)}","extra":${d}}`, /^extra(\[0\]){31}: nested deeper than 32 levels$/],
      ['/v1/inputs/batch', (d: string) => `[{"type":"ClockAdvanced","ts":"${at(60)}","extra":${d}}]`, /^\[0\]\.extra(\[0\]){30}: nested deeper than 32 levels$/],
    ])('%s', async (path, body, message) => {
      const before = await head();
      for (const depth of [5_000, 10_000]) {
        const response = await postText(path, body(nested(depth)));
        expect(response.status).toBe(400);
        expect(response.body.message).toEqual([expect.stringMatching(message)]);
      }
      expect(await head()).toBe(before);
    });
  });

  describe('calendar-invalid timestamps: 400 naming ts (2026-02-30 was logged as 2026-03-02 and moved the clock two months)', () => {
    it.each([
      ['2026-02-30T00:00:00Z', 'is not a calendar date (2026-02 has 28 days)'],
      ['2026-01-01T24:00:00Z', 'has no hour 24 (00–23)'],
      ['2026-13-01T00:00:00Z', 'has no month 13 (01–12)'],
      ['2016-12-31T23:59:60Z', 'has no second 60 (00–59; leap seconds are not represented)'],
    ])('%s', async (ts, problem) => {
      const before = await head();
      const response = await post('/v1/inputs', { type: 'PriceUpdated', ts, instrument: 'BTC-PERP', price: '10000' });
      expect(response.status).toBe(400);
      expect(response.body.message).toEqual([`ts: must be an ISO-8601 UTC timestamp such as 2026-01-01T00:00:00Z (got "${ts}": ${problem})`]);
      const clock = await post('/v1/admin/clock', { ts });
      expect(clock.status).toBe(400);
      expect(await head()).toBe(before);
    });
  });

  it('"fee": null in a what-if body is a 400 (it was a 500), as null is for every optional field', async () => {
    const response = await post('/v1/what-if/trade', { account: 'a-alice', instrument: 'BTC-PERP', side: 'buy', qty: '1', price: '10000', fee: null });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: ['fee: must not be null (leave an optional field out instead)'] });
    const input = await post('/v1/inputs', { ...TRADE, tradeId: 't-null', buyerFee: null, eventId: null });
    expect(input.body.message).toEqual(['buyerFee: must not be null (leave an optional field out instead)', 'eventId: must not be null (leave an optional field out instead)']);
    // absent is still fine
    expect((await post('/v1/what-if/trade', { account: 'a-alice', instrument: 'BTC-PERP', side: 'buy', qty: '1', price: '10000' })).status).toBe(200);
  });

  it('a body over the limit is a 413 with a clear body, on every route; the server goes on', async () => {
    const before = await head();
    const big = 'x'.repeat(MAX_BODY + 1);
    for (const path of ['/v1/inputs', '/v1/inputs/batch', '/v1/what-if/trade', '/v1/admin/rules', '/v1/admin/clock']) {
      const response = await postText(path, JSON.stringify({ type: 'ClockAdvanced', ts: at(60), pad: big }));
      expect(response.status).toBe(413);
      expect(response.body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: [`body: larger than the limit of ${MAX_BODY} bytes (serve --max-body-bytes)`] });
    }
    expect(await head()).toBe(before);
    expect((await server.http.get('/healthz')).status).toBe(200);
  });

  it('every response carries a request id (x-request-id), the caller\'s own if it sent a sane one', async () => {
    const mine = await server.http.get('/v1/log').set('x-api-key', ADMIN).set('x-request-id', 'venue-a:req-7');
    expect(mine.headers['x-request-id']).toBe('venue-a:req-7');
    const refused = await post('/v1/inputs', deposit('1e400'));
    expect(refused.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('edges: whole-number query parameters are plain decimal digits within their bounds', () => {
  let server: TestServer;
  const get = (path: string) => server.http.get(path).set('x-api-key', ADMIN);
  const MAX = Number.MAX_SAFE_INTEGER;

  beforeAll(async () => {
    server = await bootServer();
    expect((await server.http.post('/v1/inputs/batch').set('x-api-key', ADMIN).send([...SETUP, TRADE])).status).toBe(200);
  });
  afterAll(() => server?.close());

  // each was taken by Number(): 0x10 as 16, 1e2 as 100, " 10" and "+10" as 10, 10.0 as 10, 0b11 as 3; "" was 0
  const SPELLINGS: [string, string][] = [
    ['0x10', '"0x10"'],
    ['1e2', '"1e2"'],
    ['%2010', '" 10"'],
    ['10%20', '"10 "'],
    ['%2B10', '"+10"'],
    ['10.0', '"10.0"'],
    ['0b11', '"0b11"'],
    ['0o7', '"0o7"'],
    ['-1', '"-1"'],
    ['', '""'],
    ['Infinity', '"Infinity"'],
    ['%EF%BC%91', '"１"'],
  ];
  const PARAMETERS: [string, string, number, number][] = [
    ['/v1/log', 'limit', 1, 1000],
    ['/v1/log', 'from', 1, MAX],
    ['/v1/accounts', 'limit', 1, 10_000],
    ['/v1/decisions/stream', 'from', 1, MAX],
  ];

  describe.each(PARAMETERS)('%s?%s=', (path, name, min, max) => {
    it.each(SPELLINGS)(`${name}=%s: 400 naming the parameter`, async (text, quoted) => {
      const response = await get(`${path}?${name}=${text}`);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: [`${name}: must be a whole number from ${min} to ${max} in decimal digits (got ${quoted})`] });
    });

    it('out of bounds, repeated: 400 naming the parameter', async () => {
      expect((await get(`${path}?${name}=0`)).body.message).toEqual([`${name}: must be at least ${min}`]);
      expect((await get(`${path}?${name}=${max + 1}`)).body.message).toEqual([`${name}: must be at most ${max}`]);
      expect((await get(`${path}?${name}=${'9'.repeat(400)}`)).body.message).toEqual([`${name}: must be at most ${max}`]);
      expect((await get(`${path}?${name}=1&${name}=2`)).body.message).toEqual([`${name}: must be given once`]);
    });
  });

  it('digits within the bounds are read as the number they spell', async () => {
    const page = await get('/v1/log?from=02&limit=3');
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ from: 2, next: 5 });
    expect(page.body.events.map((event: { position: number }) => event.position)).toEqual([2, 3, 4]);
    const accounts = await get('/v1/accounts?limit=1');
    expect(accounts.status).toBe(200);
    expect(accounts.body.accounts).toHaveLength(1);
    expect((await get(`/v1/log?from=${MAX}&limit=1000`)).body).toMatchObject({ from: MAX, events: [] });
  });

  it('the OpenAPI document declares them as bounded integers', async () => {
    const parameters = (await server.http.get('/docs-json')).body.paths['/v1/log'].get.parameters;
    const limit = parameters.find((parameter: { name: string }) => parameter.name === 'limit');
    expect(limit).toMatchObject({ in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } });
  });
});

describe('an unexpected exception at the edge: 500 "internal error" with the request id, the stack only in the log', () => {
  it('answers no stack and no message of the error, and logs both under the request id', () => {
    let replied: { body: Record<string, unknown>; status: number } | undefined;
    const headers: Record<string, string> = {};
    const adapter = { reply: (_response: unknown, body: Record<string, unknown>, status: number) => (replied = { body, status }), setHeader: () => undefined };
    const filter = new DomainErrorsFilter({ httpAdapter: adapter } as unknown as HttpAdapterHost);
    const logged: string[] = [];
    (filter as unknown as { logger: { error(message: string): void } }).logger = { error: (message: string) => logged.push(message) };
    const response = { getHeader: (name: string) => headers[name], setHeader: (name: string, value: string) => (headers[name] = value) };
    const host = { switchToHttp: () => ({ getResponse: () => response, getRequest: () => ({ id: 'req-42' }) }) };
    filter.catch(new TypeError("Cannot read properties of undefined (reading 'secret')"), host as never);
    expect(replied).toEqual({ status: HttpStatus.INTERNAL_SERVER_ERROR, body: { statusCode: 500, error: 'Internal Server Error', message: ['internal error (request id req-42; see the server log)'], requestId: 'req-42' } });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^request req-42: TypeError: Cannot read properties of undefined \(reading 'secret'\)\n\s+at /);
  });
});
