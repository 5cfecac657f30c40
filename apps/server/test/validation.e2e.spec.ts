import { at } from '../../../libs/clearing/src/testing/given';
import { ADMIN, bootServer, SETUP, TRADE, type TestServer } from './server-harness';

/** Bad input never corrupts state: refused with every field error, nothing of it appended. */
describe('validation: 400 lists every field error, 422 names the core\'s reason, nothing is appended', () => {
  let server: TestServer;
  const post = (path: string, body: unknown, key = ADMIN) => server.http.post(path).set('x-api-key', key).send(body as object);
  const head = async (): Promise<number> => (await server.http.get('/v1/log').set('x-api-key', ADMIN)).body.head;

  beforeAll(async () => {
    server = await bootServer();
    expect((await post('/v1/inputs/batch', [...SETUP, TRADE])).status).toBe(200);
  });
  afterAll(() => server?.close());

  it('one event: every field problem at once, in Nest\'s error shape', async () => {
    const before = await head();
    const response = await post('/v1/inputs', { type: 'TradeExecuted', ts: '2026-01-01 00:00', instrument: '', buyer: 'a-alice', qty: '-1', price: 'ten', sellerFee: '0.000000001', colour: 'red' });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: expect.arrayContaining([
        'colour: unknown field',
        'ts: must be an ISO-8601 UTC timestamp such as 2026-01-01T00:00:00Z (got "2026-01-01 00:00")',
        'tradeId: is required',
        'instrument: must be a non-empty string',
        'seller: is required',
        'qty: must be greater than 0',
        'price: must be a decimal: "ten" is not a decimal number',
        'sellerFee: must be a decimal: "0.000000001" has more than 8 decimal places',
      ]),
    });
    expect(response.body.message).toHaveLength(8);
    expect(await head()).toBe(before);
  });

  it('an unknown or missing type is named first', async () => {
    expect((await post('/v1/inputs', { type: 'Teleported', ts: at(0) })).body.message).toEqual([expect.stringMatching(/^type: "Teleported" is not an input type; one of RulesActivated, .*ClockAdvanced$/)]);
    expect((await post('/v1/inputs', { ts: at(0) })).body.message).toEqual([expect.stringMatching(/^type: is required; one of /)]);
    // a decision is not an input: the service decides those
    expect((await post('/v1/inputs', { type: 'MarginCallIssued', ts: at(0) })).body.message).toEqual([expect.stringMatching(/^type: "MarginCallIssued" is not an input type/)]);
  });

  it('a malformed or non-object body is a 400 too', async () => {
    const malformed = await server.http.post('/v1/inputs').set('x-api-key', ADMIN).set('content-type', 'application/json').send('{"type": "PriceUpdated",');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ statusCode: 400, error: 'Bad Request', message: [expect.stringMatching(/^body: malformed JSON \(/)] });
    expect((await post('/v1/inputs', [TRADE])).body.message).toEqual(['body: must be a JSON object (an input event)']);
    expect((await post('/v1/inputs/batch', TRADE)).body.message).toEqual(['body: must be a JSON array of input events']);
    expect((await post('/v1/inputs/batch', [])).body.message).toEqual(['body: must hold at least one input event']);
  });

  it('the codec runs after the DTOs: one schema for HTTP, JSONL and Kafka', async () => {
    // buyer = seller passes the DTO field checks; the codec refuses it
    const selfTrade = await post('/v1/inputs', { ...TRADE, tradeId: 't-self', seller: 'a-alice' });
    expect(selfTrade.body).toEqual({ statusCode: 400, error: 'Bad Request', message: ['seller: buyer and seller must be different accounts'] });
    // rules are validated in depth by @clearsim/rules
    const rules = await post('/v1/inputs', { type: 'RulesActivated', ts: at(60), rules: { name: 'x', model: 'sideways' } });
    expect(rules.status).toBe(400);
    expect(rules.body.message.every((m: string) => m.startsWith('rules'))).toBe(true);
  });

  it('an id holding a control character: 400 naming the field, the character and its index, nothing appended', async () => {
    const before = await head();
    // the plain deposit the fast route would take, but for the ESC in its account
    const esc = await post('/v1/inputs', { type: 'Deposited', ts: at(120), account: 'a-\u001b[2J', asset: 'USD', amount: '1' });
    expect(esc.body).toEqual({ statusCode: 400, error: 'Bad Request', message: ['account: must not contain control characters (U+001B at index 2)'] });
    // a C1 CSI, written raw in the body (JSON may hold it so), in a batch's second item
    const c1 = await server.http
      .post('/v1/inputs/batch')
      .set('x-api-key', ADMIN)
      .set('content-type', 'application/json')
      .send(`[{"type":"PriceUpdated","ts":"${at(120)}","instrument":"BTC-PERP","price":"9900"},{"type":"PriceUpdated","ts":"${at(120)}","instrument":"BTC\u009bPERP","price":"9900"}]`);
    expect(c1.body).toEqual({ statusCode: 400, error: 'Bad Request', message: ['[1].instrument: must not contain control characters (U+009B at index 3)'] });
    expect(await head()).toBe(before);
  });

  it('a batch lists the errors of every item by index, and appends none of it', async () => {
    const before = await head();
    const response = await post('/v1/inputs/batch', [
      { type: 'PriceUpdated', ts: at(120), instrument: 'BTC-PERP', price: '9900' },
      { type: 'PriceUpdated', ts: at(120), instrument: 'BTC-PERP', price: '0' },
      { type: 'Deposited', ts: at(120), account: 'a-alice', asset: 'USD' },
    ]);
    expect(response.body.message).toEqual(['[1].price: must be greater than 0', '[2].amount: is required']);
    expect(await head()).toBe(before);
  });

  it('422 when the core refuses an input against the state, with the reason code and field', async () => {
    const before = await head();
    const unknown = await post('/v1/inputs', { type: 'WithdrawalRequested', ts: at(120), requestId: 'w-x', account: 'a-nobody', asset: 'USD', amount: '1' });
    expect(unknown.body).toEqual({ statusCode: 422, error: 'Unprocessable Entity', code: 'unknown-account', field: 'account', message: [expect.stringMatching(/^account: unknown account "a-nobody"/)] });
    const late = await post('/v1/inputs', { type: 'PriceUpdated', ts: at(-60), instrument: 'BTC-PERP', price: '9000' });
    expect(late.body).toMatchObject({ statusCode: 422, code: 'clock-went-backwards', field: 'ts', message: [expect.stringMatching(/^ts: 2025-12-31T23:59:00Z is older than the shard clock 2026-01-01T00:01:00Z/)] });
    expect(await head()).toBe(before);
  });

  it('a batch is atomic: one refused item (index 2) and none of it is appended, state untouched', async () => {
    const before = await head();
    const alice = (await server.http.get('/v1/accounts/a-alice').set('x-api-key', ADMIN)).body;
    const response = await post('/v1/inputs/batch', [
      { type: 'Deposited', ts: at(120), account: 'a-alice', asset: 'USD', amount: '500' },
      { type: 'PriceUpdated', ts: at(120), instrument: 'BTC-PERP', price: '9000' },
      { type: 'TradeExecuted', ts: at(120), tradeId: 't2', instrument: 'BTC-PERP', buyer: 'a-alice', seller: 'a-ghost', qty: '1', price: '9000' },
    ]);
    expect(response.body).toMatchObject({ statusCode: 422, code: 'unknown-account', field: '[2].seller', index: 2, message: [expect.stringMatching(/^\[2\]\.seller: unknown account "a-ghost"/)] });
    expect(await head()).toBe(before);
    expect((await server.http.get('/v1/accounts/a-alice').set('x-api-key', ADMIN)).body).toEqual(alice);
    // and the shard goes on from the log as it was
    const ok = await post('/v1/inputs/batch', [
      { type: 'Deposited', ts: at(120), account: 'a-alice', asset: 'USD', amount: '500' },
      { type: 'PriceUpdated', ts: at(120), instrument: 'BTC-PERP', price: '9000' },
    ]);
    expect(ok.body).toMatchObject({ accepted: 2, appended: { from: before + 1, to: before + 2 } });
  });

  it('a repeated idempotency key is ignored, not applied twice', async () => {
    // the same key (the trade was posted by an admin key: ids are scoped to who posts them)
    const repeat = await post('/v1/inputs', TRADE);
    expect(repeat.body).toMatchObject({ accepted: 0, duplicates: 1, appended: null, decisions: [] });
    const deposit = { type: 'Deposited', ts: at(200), eventId: 'dep-1', account: 'a-alice', asset: 'USD', amount: '5' };
    await post('/v1/inputs', deposit);
    const cash = (await server.http.get('/v1/accounts/a-alice').set('x-api-key', ADMIN)).body.cash;
    expect((await post('/v1/inputs', deposit)).body).toMatchObject({ duplicates: 1 });
    expect((await server.http.get('/v1/accounts/a-alice').set('x-api-key', ADMIN)).body.cash).toBe(cash);
  });

  it('query parameters are validated too', async () => {
    const response = await server.http.get('/v1/accounts?sort=wealth&limit=0&colour=red').set('x-api-key', ADMIN);
    expect(response.body.message).toEqual(['colour: unknown field', 'sort: must be one of "health", "id"', 'limit: must be at least 1']);
    expect((await server.http.get('/v1/log?from=0').set('x-api-key', ADMIN)).body.message).toEqual(['from: must be at least 1']);
  });
});
