import { at } from '../../../libs/clearing/src/testing/given';
import { ADMIN, bootServer, SETUP, VENUE_A, type TestServer } from './server-harness';

/** MarketMoved and MultiLegTradeExecuted over HTTP: nested field errors, refusal as a whole, venue scope per leg. */
describe('HTTP: market moves and multi-leg trades', () => {
  let server: TestServer;
  const post = (path: string, body: unknown, key = ADMIN) => server.http.post(path).set('x-api-key', key).send(body as object);
  const head = async (): Promise<number> => (await server.http.get('/v1/log').set('x-api-key', ADMIN)).body.head;
  const leg = (instrument: string, buyer: string, seller: string, qty = '1', price = '10000') => ({ instrument, buyer, seller, qty, price });

  beforeAll(async () => {
    server = await bootServer();
    const setup = [
      ...SETUP,
      { type: 'InstrumentListed', ts: at(0), instrument: 'ETH-PERP', kind: 'perpetual', underlying: 'ETH', settlementAsset: 'USD', multiplier: '1' },
      { type: 'PriceUpdated', ts: at(0), instrument: 'ETH-PERP', price: '500' },
    ];
    expect((await post('/v1/inputs/batch', setup)).status).toBe(200);
  });
  afterAll(() => server?.close());

  it('the OpenAPI document describes both inputs and their elements', async () => {
    const { schemas } = (await server.http.get('/docs-json')).body.components;
    expect(schemas.MarketMovedDto.properties.marks).toMatchObject({ type: 'array', items: { $ref: '#/components/schemas/MarkDto' } });
    expect(schemas.MultiLegTradeExecutedDto.properties.legs).toMatchObject({ type: 'array', items: { $ref: '#/components/schemas/TradeLegDto' } });
    expect(schemas.MultiLegTradeExecutedDto.required).toEqual(expect.arrayContaining(['type', 'ts', 'tradeId', 'legs']));
    expect(Object.keys(schemas.TradeLegDto.properties)).toEqual(['instrument', 'buyer', 'seller', 'qty', 'price', 'buyerFee', 'sellerFee']);
    expect(Object.keys(schemas.VolatilityDto.properties)).toEqual(['underlying', 'volatility', 'strike', 'expiry']);
  });

  it('400 names the element and field of every nested problem, and appends nothing', async () => {
    const before = await head();
    const trade = await post('/v1/inputs', { type: 'MultiLegTradeExecuted', ts: at(60), tradeId: 'p1', legs: [leg('BTC-PERP', 'a-alice', 'a-mm'), { ...leg('ETH-PERP', 'a-mm', 'a-alice', '-2'), fee: '1' }] });
    expect(trade.status).toBe(400);
    expect(trade.body.message).toEqual(expect.arrayContaining(['legs[1].fee: unknown field', 'legs[1].qty: must be greater than 0']));
    expect(trade.body.message).toHaveLength(2);
    const move = await post('/v1/inputs', { type: 'MarketMoved', ts: at(60), marks: [{ instrument: 'BTC-PERP', price: 'ten' }, { instrument: '' }] });
    expect(move.body.message).toEqual(expect.arrayContaining(['marks[0].price: must be a decimal: "ten" is not a decimal number', 'marks[1].instrument: must be a non-empty string', 'marks[1].price: is required']));
    // the codec's own checks after the DTOs: a repeated instrument
    const repeated = await post('/v1/inputs', { type: 'MarketMoved', ts: at(60), marks: [{ instrument: 'BTC-PERP', price: '9900' }, { instrument: 'BTC-PERP', price: '9800' }] });
    expect(repeated.body).toEqual({ statusCode: 400, error: 'Bad Request', message: ['marks.1.instrument: instrument "BTC-PERP" is already moved by marks.0: one input moves it once'] });
    expect(await head()).toBe(before);
  });

  it('422 for a leg the core refuses, naming it; no leg is booked', async () => {
    const before = await head();
    const response = await post('/v1/inputs', { type: 'MultiLegTradeExecuted', ts: at(60), tradeId: 'p1', legs: [leg('BTC-PERP', 'a-alice', 'a-mm'), leg('SOL-PERP', 'a-mm', 'a-alice')] });
    expect(response.body).toMatchObject({ statusCode: 422, code: 'unknown-instrument', field: 'legs.1.instrument', message: [expect.stringMatching(/^legs\.1\.instrument: unknown instrument "SOL-PERP"/)] });
    expect(await head()).toBe(before);
    expect((await server.http.get('/v1/accounts/a-alice').set('x-api-key', ADMIN)).body.positions).toEqual({});
  });

  it("a venue key may post a multi-leg trade of its own accounts, not one with another venue's leg, nor a market move", async () => {
    const foreign = await post('/v1/inputs', { type: 'MultiLegTradeExecuted', ts: at(60), tradeId: 'p2', legs: [leg('BTC-PERP', 'a-alice', 'a-mm'), leg('ETH-PERP', 'b-bob', 'a-alice', '2', '500')] }, VENUE_A);
    expect(foreign.status).toBe(403);
    expect(foreign.body.message).toEqual([expect.stringMatching(/^legs\.1\.buyer: account "b-bob" is outside this key's scope/)]);
    const move = await post('/v1/inputs', { type: 'MarketMoved', ts: at(60), marks: [{ instrument: 'BTC-PERP', price: '9900' }] }, VENUE_A);
    expect(move.status).toBe(403);
    // long 1 BTC-PERP @ 10,000, short 2 ETH-PERP @ 500: IM 10 % × (10,000 + 1,000) = 1,100 > 1,000 of cash, MM 550 ≤ 1,000: no call
    const own = await post('/v1/inputs', { type: 'MultiLegTradeExecuted', ts: at(60), tradeId: 'p3', legs: [leg('BTC-PERP', 'a-alice', 'a-mm'), leg('ETH-PERP', 'a-mm', 'a-alice', '2', '500')] }, VENUE_A);
    expect(own.body).toMatchObject({ accepted: 1, decisions: [] });
    // both marks down 10 % in one move: alice −1,000 + 100 → equity 100 < 0.5 × MM 5 % × (9,000 + 900) = 247.5 → liquidated at once
    const crash = await post('/v1/inputs', { type: 'MarketMoved', ts: at(120), marks: [{ instrument: 'BTC-PERP', price: '9000' }, { instrument: 'ETH-PERP', price: '450' }] });
    expect(crash.body.decisions.map((d: { type: string }) => d.type)).toEqual(expect.arrayContaining(['LiquidationStarted', 'PositionLiquidated']));
  });
});
