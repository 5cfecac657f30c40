import { at } from '../../../libs/clearing/src/testing/given';
import { ADMIN, bootServer, freshStore, SETUP, VENUE_A, VENUE_B, type TestServer } from './server-harness';

describe('access: API keys, venue scopes, admin-only routes', () => {
  let server: TestServer;
  const head = async (): Promise<number> => (await server.http.get('/v1/log').set('x-api-key', ADMIN)).body.head;

  beforeAll(async () => {
    server = await bootServer();
    expect((await server.http.post('/v1/inputs/batch').set('x-api-key', ADMIN).send(SETUP)).status).toBe(200);
  });
  afterAll(() => server?.close());

  it('401 without a key or with an unknown one; Bearer works as well as x-api-key', async () => {
    const none = await server.http.get('/v1/accounts/a-alice');
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: ['x-api-key: an API key is required (x-api-key header, or Authorization: Bearer)'] });
    expect((await server.http.get('/v1/accounts/a-alice').set('x-api-key', 'guess-guess')).body.message).toEqual(['x-api-key: unknown API key']);
    expect((await server.http.post('/v1/inputs').send({ type: 'ClockAdvanced', ts: at(1) })).status).toBe(401);
    expect((await server.http.get('/v1/decisions/stream')).status).toBe(401);
    expect((await server.http.get('/v1/accounts/a-alice').set('authorization', `Bearer ${VENUE_A}`)).status).toBe(200);
  });

  it('health, readiness and the OpenAPI document are public; /metrics needs an admin key (Bearer, as Prometheus sends it)', async () => {
    expect((await server.http.get('/healthz')).body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
    expect((await server.http.get('/readyz')).body).toMatchObject({ status: 'ready', head: 7 });
    expect((await server.http.get('/metrics')).status).toBe(401);
    const venue = await server.http.get('/metrics').set('x-api-key', VENUE_A);
    expect(venue.status).toBe(403);
    expect(venue.body.message).toEqual([expect.stringMatching(/venue key; this route needs an admin key/)]);
    const scrape = await server.http.get('/metrics').set('authorization', `Bearer ${ADMIN}`);
    expect(scrape.status).toBe(200);
    expect(scrape.text).toContain('clearsim_log_head 7');
    const docs = await server.http.get('/docs-json');
    expect(docs.status).toBe(200);
    expect(Object.keys(docs.body.paths)).toEqual(
      expect.arrayContaining(['/v1/inputs', '/v1/inputs/batch', '/v1/accounts', '/v1/accounts/{id}', '/v1/log', '/v1/decisions/stream', '/v1/what-if/trade', '/v1/admin/rules', '/v1/admin/clock', '/v1/admin/reset', '/healthz', '/readyz']),
    );
    expect(docs.body.components.schemas.TradeExecutedDto.properties.qty.example).toBe('1');
    expect((await server.http.get('/docs')).status).toBe(200);
  });

  it('a venue key reads its own accounts, and gets 403 on another venue\'s', async () => {
    expect((await server.http.get('/v1/accounts/a-alice').set('x-api-key', VENUE_A)).status).toBe(200);
    const other = await server.http.get('/v1/accounts/b-bob').set('x-api-key', VENUE_A);
    expect(other.status).toBe(403);
    expect(other.body).toEqual({ statusCode: 403, error: 'Forbidden', message: ['id: account "b-bob" is outside this key\'s scope (a-*)'] });
    // the list shows only its own
    const list = await server.http.get('/v1/accounts?sort=id').set('x-api-key', VENUE_B);
    expect(list.body.accounts.map((a: { account: string }) => a.account)).toEqual(['b-bob']);
  });

  it('a venue key may not post a price (market-wide), nor touch another venue\'s account; nothing is appended', async () => {
    const before = await head();
    const price = await server.http.post('/v1/inputs').set('x-api-key', VENUE_A).send({ type: 'PriceUpdated', ts: at(60), instrument: 'BTC-PERP', price: '1' });
    expect(price.status).toBe(403);
    expect(price.body.message).toEqual(['type: PriceUpdated is market-wide; only an admin key may post it']);
    const trade = await server.http
      .post('/v1/inputs/batch')
      .set('x-api-key', VENUE_A)
      .send([
        { type: 'Deposited', ts: at(60), account: 'a-alice', asset: 'USD', amount: '1' },
        { type: 'TradeExecuted', ts: at(60), tradeId: 'x1', instrument: 'BTC-PERP', buyer: 'a-alice', seller: 'b-bob', qty: '1', price: '10000' },
      ]);
    expect(trade.status).toBe(403);
    expect(trade.body.message).toEqual(['[1].seller: account "b-bob" is outside this key\'s scope (a-*)']);
    expect(await head()).toBe(before);
    // the same trade by an admin key goes through
    expect((await server.http.post('/v1/inputs/batch').set('x-api-key', ADMIN).send([{ type: 'TradeExecuted', ts: at(60), tradeId: 'x1', instrument: 'BTC-PERP', buyer: 'a-alice', seller: 'b-bob', qty: '0.01', price: '10000' }])).status).toBe(200);
  });

  it('rules, clock and reset are admin-only', async () => {
    for (const [path, body] of [
      ['/v1/admin/rules', { preset: 'crypto-cross' }],
      ['/v1/admin/clock', { ts: at(3600) }],
      ['/v1/admin/reset', {}],
    ] as const) {
      const response = await server.http.post(path).set('x-api-key', VENUE_A).send(body);
      expect(response.status).toBe(403);
      expect(response.body.message).toEqual([expect.stringMatching(/venue key; this route needs an admin key/)]);
    }
  });

  it('admin: rules by preset (clock defaults to the log\'s), the clock, and bad admin bodies', async () => {
    const rules = await server.http.post('/v1/admin/rules').set('x-api-key', ADMIN).send({ preset: 'crypto-cross' });
    expect(rules.status).toBe(200);
    const log = await server.http.get(`/v1/log?from=${rules.body.appended.from}&limit=1`).set('x-api-key', ADMIN);
    expect(log.body.events[0]).toMatchObject({ type: 'RulesActivated', ts: at(60), rules: { name: 'crypto-cross' } });
    expect((await server.http.post('/v1/admin/rules').set('x-api-key', ADMIN).send({ preset: 'nope' })).body.message).toEqual([expect.stringMatching(/^preset: unknown preset "nope" \(presets: .*crypto-cross/)]);
    expect((await server.http.post('/v1/admin/rules').set('x-api-key', ADMIN).send({})).body.message).toEqual(['body: give exactly one of preset and rules']);
    expect((await server.http.post('/v1/admin/clock').set('x-api-key', ADMIN).send({})).body.message).toEqual(['ts: is required']);
    expect((await server.http.post('/v1/admin/clock').set('x-api-key', ADMIN).send({ ts: at(0) })).body).toMatchObject({ statusCode: 422, code: 'clock-went-backwards' });
  });
});

describe('admin reset', () => {
  it('starts a fresh log (file store), and the stream says so', async () => {
    const { openStream } = await import('./server-harness');
    const server = await bootServer({ store: freshStore() });
    try {
      await server.http.post('/v1/inputs/batch').set('x-api-key', ADMIN).send(SETUP);
      const stream = await openStream(server.url, ADMIN);
      const reset = await server.http.post('/v1/admin/reset').set('x-api-key', ADMIN);
      expect(reset.body).toEqual({ store: server.store, head: 0 });
      expect((await stream.waitFor(1))[0]).toMatchObject({ event: 'reset', id: '0' });
      stream.close();
      expect((await server.http.get('/v1/log').set('x-api-key', ADMIN)).body).toMatchObject({ head: 0, events: [] });
      expect((await server.http.get('/v1/accounts/a-alice').set('x-api-key', ADMIN)).status).toBe(404);
      expect((await server.http.post('/v1/inputs/batch').set('x-api-key', ADMIN).send(SETUP)).body).toMatchObject({ appended: { from: 1, to: 7 } });
    } finally {
      await server.close();
    }
  });

  it('starts a fresh log on an in-memory store too', async () => {
    const server = await bootServer({ store: 'memory:server-reset-test' });
    try {
      await server.http.post('/v1/inputs/batch').set('x-api-key', ADMIN).send(SETUP);
      expect((await server.http.post('/v1/admin/reset').set('x-api-key', ADMIN)).body).toEqual({ store: 'memory:server-reset-test', head: 0 });
      expect((await server.http.get('/v1/log').set('x-api-key', ADMIN)).body).toMatchObject({ head: 0, events: [] });
    } finally {
      await server.close();
    }
  });
});
