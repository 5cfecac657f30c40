import { at, rulesFor } from '../../../libs/clearing/src/testing/given';
import { ADMIN, bootServer, VENUE_A, type TestServer } from './server-harness';

/** Leveraged token units over HTTP (docs/rules.md §12.1): created and redeemed by a holder, shown in its account view. */
describe('HTTP: leveraged token units', () => {
  let server: TestServer;
  const post = (path: string, body: unknown, key = ADMIN) => server.http.post(path).set('x-api-key', key).send(body as object);
  const head = async (): Promise<number> => (await server.http.get('/v1/log').set('x-api-key', ADMIN)).body.head;

  beforeAll(async () => {
    server = await bootServer();
    const tokens = { BTCBULL: { instrument: 'BTC-PERP', account: 'bull', counterparty: 'a-mm', targetLeverage: '3', band: { min: '2', max: '4' } } };
    const setup = [
      { type: 'RulesActivated', ts: at(0), rules: rulesFor({ tokens }) },
      { type: 'InstrumentListed', ts: at(0), instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC', settlementAsset: 'USD', multiplier: '1' },
      { type: 'Deposited', ts: at(0), account: 'a-alice', asset: 'USD', amount: '12000' },
      { type: 'Deposited', ts: at(0), account: 'a-mm', asset: 'USD', amount: '1000000' },
      { type: 'PriceUpdated', ts: at(0), instrument: 'BTC-PERP', price: '10000' },
    ];
    expect((await post('/v1/inputs/batch', setup)).status).toBe(200);
  });
  afterAll(() => server?.close());

  it('a venue key creates and redeems units of its account; the account view shows units, NAV per unit and value', async () => {
    // 100 units at the issue price 100: 10,000 paid by a-alice; the fund buys 3 × 10,000 / 10,000 = 3 at once
    const created = await post('/v1/inputs', { type: 'TokenUnitsCreated', ts: at(60), requestId: 'c1', account: 'a-alice', token: 'BTCBULL', units: '100', nav: '100' }, VENUE_A);
    expect(created.status).toBe(200);
    expect(created.body.decisions).toEqual([expect.objectContaining({ type: 'TokenRebalanced', qty: '3', reason: 'creation' })]);
    // 9,000: NAV 10,000 − 3,000 = 7,000 → 70 a unit; 40 units are worth 2,800 after redeeming 60 (60 × 70 = 4,200 paid)
    expect((await post('/v1/inputs', { type: 'PriceUpdated', ts: at(120), instrument: 'BTC-PERP', price: '9000' })).status).toBe(200);
    expect((await post('/v1/inputs', { type: 'TokenUnitsRedeemed', ts: at(180), requestId: 'r1', account: 'a-alice', token: 'BTCBULL', units: '60' }, VENUE_A)).status).toBe(200);
    const view = await server.http.get('/v1/accounts/a-alice').set('x-api-key', VENUE_A);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ cash: '6200', equity: '6200', tokens: { BTCBULL: { units: '40', navPerUnit: '70', value: '2800' } } });
  });

  it('refuses what cannot apply with 422 naming the field, and appends nothing; another venue\'s account is 403', async () => {
    const before = await head();
    const refused = await post('/v1/inputs', { type: 'TokenUnitsRedeemed', ts: at(240), requestId: 'r2', account: 'a-alice', token: 'BTCBULL', units: '41' });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body)).toContain('units');
    expect(JSON.stringify(refused.body)).toContain('holds 40 units of token \\"BTCBULL\\", fewer than 41');
    const foreign = await post('/v1/inputs', { type: 'TokenUnitsCreated', ts: at(240), requestId: 'c2', account: 'b-bob', token: 'BTCBULL', units: '1' }, VENUE_A);
    expect(foreign.status).toBe(403);
    expect(await head()).toBe(before);
  });
});
