import { at, rulesFor } from '../../../libs/clearing/src/testing/given';
import { ADMIN, bootServer, openStream, SETUP, VENUE_A, VENUE_B, type TestServer } from './server-harness';

/** Venue V of the issue: a third venue key, accounts v-*. */
const VENUE_V = 'venue-v-secret';
const KEYS = { [ADMIN]: 'admin', [VENUE_A]: 'venue:a-', [VENUE_B]: 'venue:b-', [VENUE_V]: 'venue:v-' };

const boot = (options: Parameters<typeof bootServer>[0] = {}) =>
  bootServer({
    apiKeys: Object.entries(KEYS).map(([secret, scope]) => ({
      secret,
      principal: scope === 'admin' ? { name: 'admin#test', role: 'admin' as const } : { name: `${scope}#test`, role: 'venue' as const, prefix: scope.slice('venue:'.length) },
    })),
    ...options,
  });

describe('idempotency over HTTP: natural ids, scoped to the posting key, conflicts are 409', () => {
  let server: TestServer;
  const post = (path: string, body: unknown, key = ADMIN) => server.http.post(path).set('x-api-key', key).send(body as object);
  const head = async (): Promise<number> => (await server.http.get('/v1/log').set('x-api-key', ADMIN)).body.head;
  const account = async (id: string) => (await server.http.get(`/v1/accounts/${id}`).set('x-api-key', ADMIN)).body;
  const TRADE = { type: 'TradeExecuted', ts: at(60), tradeId: 't-1', instrument: 'BTC-PERP', buyer: 'a-alice', seller: 'a-mm', qty: '1', price: '10000' };

  beforeAll(async () => {
    server = await boot();
    expect((await post('/v1/inputs/batch', [...SETUP, { type: 'Deposited', ts: at(0), eventId: 'seed-v', account: 'v-x', asset: 'USD', amount: '100' }])).status).toBe(200);
  });
  afterAll(() => server?.close());

  it('trade t-1 posted with eventId e1 and again with e2 is booked once (the key is tradeId, not eventId)', async () => {
    expect((await post('/v1/inputs', { ...TRADE, eventId: 'e1' }, VENUE_A)).body).toMatchObject({ accepted: 1, duplicates: 0 });
    const before = await head();
    expect((await post('/v1/inputs', { ...TRADE, eventId: 'e2' }, VENUE_A)).body).toMatchObject({ accepted: 0, duplicates: 1, appended: null });
    expect(await head()).toBe(before);
    expect((await account('a-alice')).positions['BTC-PERP'].qty).toBe('1');
  });

  it('the same tradeId with another price: 409 naming tradeId, with the first version\'s position and the differing fields; nothing appended', async () => {
    const before = await head();
    const conflict = await post('/v1/inputs', { ...TRADE, price: '10001', qty: '2' }, VENUE_A);
    expect(conflict.status).toBe(409);
    expect(conflict.body).toEqual({
      statusCode: 409,
      error: 'Conflict',
      code: 'id-conflict',
      field: 'tradeId',
      message: ['tradeId: tradeId "t-1" was already used with different content; the first version stands (send the same content to retry, or a new id)'],
      conflict: {
        position: 9, // SETUP (7) + v-x's deposit (8) + the trade (9)
        differences: [
          { field: 'price', first: '10000', repeat: '10001' },
          { field: 'qty', first: '1', repeat: '2' },
        ],
      },
    });
    expect(await head()).toBe(before);
    // in a batch, against an earlier item of the same batch: refused whole, the first version named by index
    const batch = await post('/v1/inputs/batch', [
      { type: 'Deposited', ts: at(60), eventId: 'd-x', account: 'a-alice', asset: 'USD', amount: '1' },
      { type: 'Deposited', ts: at(60), eventId: 'd-x', account: 'a-alice', asset: 'USD', amount: '2' },
    ], VENUE_A);
    expect(batch.status).toBe(409);
    expect(batch.body).toMatchObject({ code: 'id-conflict', field: '[1].eventId', index: 1, conflict: { index: 0, differences: [{ field: 'amount', first: '1', repeat: '2' }] } });
    expect(await head()).toBe(before);
  });

  it('a deposit with no id, retried, is credited once (keyed by account, asset, amount and ts); a different amount is another deposit', async () => {
    const deposit = { type: 'Deposited', ts: at(60), account: 'a-alice', asset: 'USD', amount: '10' };
    const cash = Number((await account('a-alice')).cash);
    expect((await post('/v1/inputs', deposit, VENUE_A)).body).toMatchObject({ accepted: 1 });
    expect((await post('/v1/inputs', deposit, VENUE_A)).body).toMatchObject({ accepted: 0, duplicates: 1 });
    expect((await post('/v1/inputs', { ...deposit, amount: '10.000' }, VENUE_A)).body).toMatchObject({ duplicates: 1 });
    expect((await post('/v1/inputs', { ...deposit, amount: '11' }, VENUE_A)).body).toMatchObject({ accepted: 1 });
    expect(Number((await account('a-alice')).cash)).toBe(cash + 21);
  });

  it('venue V\'s deposit "B-dep-42" does not erase venue B\'s; nor do its requestIds and tradeIds; and V learns nothing of B\'s ids', async () => {
    const dep = { type: 'Deposited', ts: at(60), eventId: 'B-dep-42', asset: 'USD', amount: '5' };
    expect((await post('/v1/inputs', { ...dep, account: 'v-x' }, VENUE_V)).body).toMatchObject({ accepted: 1, duplicates: 0 });
    expect((await post('/v1/inputs', { ...dep, account: 'b-bob' }, VENUE_B)).body).toMatchObject({ accepted: 1, duplicates: 0 });
    expect((await account('b-bob')).cash).toBe('5005');
    const withdrawal = { type: 'WithdrawalRequested', ts: at(60), requestId: 'B-w-1', asset: 'USD', amount: '1' };
    expect((await post('/v1/inputs', { ...withdrawal, account: 'v-x' }, VENUE_V)).body).toMatchObject({ accepted: 1 });
    expect((await post('/v1/inputs', { ...withdrawal, account: 'b-bob' }, VENUE_B)).body).toMatchObject({ accepted: 1, decisions: [{ type: 'WithdrawalApproved', requestId: 'B-w-1', account: 'b-bob' }] });
    // B's tradeId t-1 is not venue A's t-1
    expect((await post('/v1/inputs', { type: 'Deposited', ts: at(60), eventId: 'carol-1', account: 'b-carol', asset: 'USD', amount: '5000' }, VENUE_B)).body).toMatchObject({ accepted: 1 });
    expect((await post('/v1/inputs', { ...TRADE, buyer: 'b-bob', seller: 'b-carol', qty: '0.01' }, VENUE_B)).body).toMatchObject({ accepted: 1, duplicates: 0 });
    // probing: V re-posting B's ids (with any content) answers only about V's own inputs
    expect((await post('/v1/inputs', { ...dep, account: 'v-x' }, VENUE_V)).body).toMatchObject({ duplicates: 1 }); // its own
    expect((await post('/v1/inputs', { ...withdrawal, account: 'v-x', amount: '2' }, VENUE_V)).status).toBe(409); // its own first version, not B's
    const conflict = await post('/v1/inputs', { ...withdrawal, account: 'v-x', amount: '2' }, VENUE_V);
    expect(JSON.stringify(conflict.body)).not.toContain('b-bob');
  });

  it('the scope is logged with the input (postedBy), set by the server: a client that sends postedBy gets 400 and nothing is appended', async () => {
    const before = await head();
    const sent = await post('/v1/inputs', { type: 'Deposited', ts: at(60), eventId: 'spoof', account: 'a-alice', asset: 'USD', amount: '1', postedBy: 'venue:b-' }, VENUE_A);
    expect(sent.status).toBe(400);
    expect(sent.body.message).toEqual([expect.stringMatching(/^postedBy: /)]);
    expect(await head()).toBe(before);
    const log = (await server.http.get('/v1/log?from=8&limit=2').set('x-api-key', ADMIN)).body.events;
    expect(log.map((e: Record<string, unknown>) => [e.type, e.postedBy])).toEqual([
      ['Deposited', 'admin'],
      ['TradeExecuted', 'venue:a-'],
    ]);
    // a venue reads its own inputs' scope and eventId; those of inputs another principal posted are left out
    // (from 7: SETUP's last input, a market-wide price the admin posted; 8, v-x's deposit, is not A's to read)
    const own = (await server.http.get('/v1/log?from=7&limit=2').set('x-api-key', VENUE_A)).body.events;
    expect(own).toEqual([expect.objectContaining({ position: 7, type: 'PriceUpdated' }), expect.objectContaining({ position: 9, postedBy: 'venue:a-', eventId: 'e1' })]);
    expect(own[0]).not.toHaveProperty('postedBy');
  });

  it('after a restart (replay of the log) repeats are still recognised, by scope', async () => {
    const store = server.store;
    await server.close();
    server = await boot({ store });
    expect((await post('/v1/inputs', { ...TRADE, eventId: 'e3' }, VENUE_A)).body).toMatchObject({ duplicates: 1 });
    expect((await post('/v1/inputs', { ...TRADE, price: '9999' }, VENUE_A)).status).toBe(409);
    expect((await post('/v1/inputs', { type: 'Deposited', ts: at(60), eventId: 'B-dep-42', account: 'b-bob', asset: 'USD', amount: '5' }, VENUE_B)).body).toMatchObject({ duplicates: 1 });
  });
});

describe('retries of every input type over HTTP leave the outputHash of a clean run', () => {
  /** A day with a margin call, a liquidation, funding, withdrawals; market-wide inputs carry an eventId (docs/idempotency.md). */
  const day: { key: string; body: Record<string, unknown> }[] = [
    // a leveraged token (docs/rules.md §12.1) so its units' creation and redemption are retried too
    { key: ADMIN, body: { type: 'RulesActivated', ts: at(0), eventId: 'rules-1', rules: rulesFor({ tokens: { BULL: { instrument: 'BTC-PERP', account: 'bull', counterparty: 'b-mm', targetLeverage: '3', band: { max: '4' } } } }) } },
    { key: ADMIN, body: { type: 'InstrumentListed', ts: at(0), eventId: 'list-1', instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC', settlementAsset: 'USD', multiplier: '1' } },
    { key: ADMIN, body: { type: 'PriceUpdated', ts: at(0), eventId: 'p-0', instrument: 'BTC-PERP', price: '10000' } },
    { key: ADMIN, body: { type: 'Deposited', ts: at(0), account: 'insurance', asset: 'USD', amount: '1000' } },
    { key: VENUE_A, body: { type: 'Deposited', ts: at(0), account: 'a-alice', asset: 'USD', amount: '1000' } },
    { key: VENUE_B, body: { type: 'Deposited', ts: at(0), eventId: 'dep-mm', account: 'b-mm', asset: 'USD', amount: '1000000' } },
    { key: ADMIN, body: { type: 'TradeExecuted', ts: at(60), tradeId: 'x-1', instrument: 'BTC-PERP', buyer: 'a-alice', seller: 'b-mm', qty: '1', price: '10000' } },
    { key: VENUE_A, body: { type: 'WithdrawalRequested', ts: at(90), requestId: 'w-1', account: 'a-alice', asset: 'USD', amount: '10' } },
    { key: VENUE_B, body: { type: 'TokenUnitsCreated', ts: at(95), requestId: 'c-1', account: 'b-mm', token: 'BULL', units: '10', nav: '100' } },
    { key: ADMIN, body: { type: 'FundingRateApplied', ts: at(100), eventId: 'f-1', instrument: 'BTC-PERP', rate: '0.001' } },
    { key: VENUE_B, body: { type: 'TokenUnitsRedeemed', ts: at(110), requestId: 'r-1', account: 'b-mm', token: 'BULL', units: '4' } },
    { key: ADMIN, body: { type: 'PriceUpdated', ts: at(120), eventId: 'p-1', instrument: 'BTC-PERP', price: '9450' } },
    { key: ADMIN, body: { type: 'VolatilityUpdated', ts: at(130), eventId: 'vol-1', underlying: 'BTC', volatility: '0.6' } },
    { key: ADMIN, body: { type: 'ClockAdvanced', ts: at(7200), eventId: 'clock-1' } },
    { key: ADMIN, body: { type: 'InstrumentSettled', ts: at(7300), eventId: 'settle-1', instrument: 'BTC-PERP', price: '9400' } },
  ];

  it('each input posted twice (the retry after the next input; a trade retried with a new eventId) gives the clean run\'s log and outputHash', async () => {
    const clean = await boot();
    const retried = await boot();
    try {
      for (const { key, body } of day) expect((await clean.http.post('/v1/inputs').set('x-api-key', key).send(body)).status).toBe(200);
      let previous: (typeof day)[number] | undefined;
      for (const input of [...day, undefined]) {
        if (input) expect((await retried.http.post('/v1/inputs').set('x-api-key', input.key).send(input.body)).status).toBe(200);
        if (previous) {
          const again = previous.body.type === 'TradeExecuted' ? { ...previous.body, eventId: 'retry' } : previous.body;
          const response = await retried.http.post('/v1/inputs').set('x-api-key', previous.key).send(again);
          expect([response.status, response.body.duplicates]).toEqual([200, 1]);
        }
        previous = input;
      }
      const summary = async (s: TestServer) => (await s.http.get('/v1/summary').set('x-api-key', ADMIN)).body;
      const [a, b] = [await summary(clean), await summary(retried)];
      expect(a.decisions).toBeGreaterThan(3); // the day decides something: a withdrawal, funding, a call, a liquidation
      expect(b.outputHash).toBe(a.outputHash);
      expect(b.position).toBe(a.position);
      const log = async (s: TestServer) => (await s.http.get('/v1/log?limit=1000').set('x-api-key', ADMIN)).body.events;
      expect(await log(retried)).toEqual(await log(clean));
    } finally {
      await clean.close();
      await retried.close();
    }
  });
});

describe('tenant isolation on reads: a venue sees its own accounts only', () => {
  let server: TestServer;
  const post = (path: string, body: unknown, key = ADMIN) => server.http.post(path).set('x-api-key', key).send(body as object);
  const B_ACCOUNTS = ['b-bob', 'b-carol'];
  const A_ACCOUNTS = ['a-alice', 'a-mm'];

  afterEach(() => server?.close());

  /**
   * Cross-venue trades, then a crash: a-alice goes bankrupt and the fund is
   * short (margin-saga.unit.spec.ts's bankruptcy story with venue prefixes):
   * under adl b-bob is deleveraged against a-alice; under socialize the loss
   * is shared by b-bob and b-carol.
   */
  async function crash(bankruptcy: 'adl' | 'socialize'): Promise<void> {
    server = await boot();
    const setup = [
      { type: 'RulesActivated', ts: at(0), rules: rulesFor({ marginCall: { graceSeconds: 0 }, bankruptcy }) },
      { type: 'InstrumentListed', ts: at(0), instrument: 'BTC-PERP', kind: 'perpetual', underlying: 'BTC', settlementAsset: 'USD', multiplier: '1' },
      { type: 'Deposited', ts: at(0), account: 'a-alice', asset: 'USD', amount: '1000' },
      { type: 'Deposited', ts: at(0), account: 'b-bob', asset: 'USD', amount: '2000' },
      { type: 'Deposited', ts: at(0), account: 'b-carol', asset: 'USD', amount: '10000' },
      { type: 'Deposited', ts: at(0), account: 'a-mm', asset: 'USD', amount: '1000000' },
      { type: 'Deposited', ts: at(0), account: 'insurance', asset: 'USD', amount: '50' },
      { type: 'PriceUpdated', ts: at(0), instrument: 'BTC-PERP', price: '10000' },
      { type: 'TradeExecuted', ts: at(0), tradeId: 'x-1', instrument: 'BTC-PERP', buyer: 'a-alice', seller: 'b-bob', qty: '1', price: '10000' },
      { type: 'TradeExecuted', ts: at(0), tradeId: 'x-2', instrument: 'BTC-PERP', buyer: 'a-mm', seller: 'b-carol', qty: '2', price: '10000' },
    ];
    expect((await post('/v1/inputs/batch', setup)).status).toBe(200);
  }

  async function readsOf(key: string) {
    const stream = await openStream(server.url, key, { 'last-event-id': '0' });
    return stream;
  }

  it('after cross-venue trades and an ADL across venues, no other venue\'s account id is in a venue\'s log page, SSE frames or summary', async () => {
    await crash('adl');
    const [a, b] = [await readsOf(VENUE_A), await readsOf(VENUE_B)];
    const crashed = await post('/v1/inputs', { type: 'PriceUpdated', ts: at(60), instrument: 'BTC-PERP', price: '8800' });
    expect(crashed.body.decisions.map((d: { type: string }) => d.type)).toEqual(['LiquidationStarted', 'AccountBankrupted', 'InsuranceFundDrawn', 'PositionAutoDeleveraged']);
    // A sees its account's four decisions, B sees the ADL of its b-bob
    const [framesA, framesB] = [await a.waitFor(4), await b.waitFor(1)];
    a.close();
    b.close();
    expect(framesA.map((f) => f.data!.type)).toEqual(['LiquidationStarted', 'AccountBankrupted', 'InsuranceFundDrawn', 'PositionAutoDeleveraged']);
    expect(framesA[3]!.data).toMatchObject({ account: '*redacted*', counterparty: 'a-alice', qty: '1', price: '8950' });
    expect(framesB.map((f) => f.data)).toEqual([expect.objectContaining({ type: 'PositionAutoDeleveraged', account: 'b-bob', counterparty: '*redacted*' })]);

    const log = async (key: string) => (await server.http.get('/v1/log?limit=1000').set('x-api-key', key)).body;
    const [logA, logB] = [await log(VENUE_A), await log(VENUE_B)];
    expect(logA.events.find((e: { tradeId?: string }) => e.tradeId === 'x-1')).toMatchObject({ buyer: 'a-alice', seller: '*redacted*' });
    expect(logA.events.find((e: { tradeId?: string }) => e.tradeId === 'x-1')).not.toHaveProperty('postedBy'); // posted by the admin
    expect(logB.events.find((e: { tradeId?: string }) => e.tradeId === 'x-1')).toMatchObject({ buyer: '*redacted*', seller: 'b-bob' });
    const summary = async (key: string) => (await server.http.get('/v1/summary').set('x-api-key', key)).body;
    const summaryA = await summary(VENUE_A);
    expect(summaryA).toMatchObject({ scope: 'a-*', accounts: 2, byStatus: { bankrupt: 1, healthy: 1 } });
    expect(summaryA.outputHash).toBeUndefined();
    for (const [text, others] of [
      [JSON.stringify([framesA, logA, summaryA]), [...B_ACCOUNTS, 'venue:b-']],
      [JSON.stringify([framesB, logB, await summary(VENUE_B)]), [...A_ACCOUNTS, 'venue:a-']],
    ] as const) {
      for (const other of others) expect(text).not.toContain(other);
    }
    // the admin reads everything, whole
    expect(JSON.stringify((await log(ADMIN)).events)).toContain('b-bob');
  });

  it('a socialized loss shows a venue only its own accounts\' shares', async () => {
    await crash('socialize');
    const a = await readsOf(VENUE_A);
    const b = await readsOf(VENUE_B);
    const crashed = await post('/v1/inputs', { type: 'PriceUpdated', ts: at(60), instrument: 'BTC-PERP', price: '8800' });
    const decisions: Record<string, unknown>[] = crashed.body.decisions;
    const naming = (prefix: string) => decisions.filter((d) => JSON.stringify(d).includes(`"${prefix}`)).length;
    // bob pays 150 × 1,200 / 3,600 = 50, carol 150 × 2,400 / 3,600 = 100 (margin-saga.unit.spec.ts)
    const loss = (frames: { data?: Record<string, unknown> }[]) => frames.map((f) => f.data!).find((d) => d.type === 'LossSocialized');
    const [framesA, framesB] = [await a.waitFor(naming('a-')), await b.waitFor(naming('b-'))];
    a.close();
    b.close();
    expect(loss(framesA)).toMatchObject({ account: 'a-alice', amount: '150', shares: [] });
    expect(loss(framesB)).toMatchObject({ account: '*redacted*', amount: '150', shares: [{ account: 'b-bob', amount: '50' }, { account: 'b-carol', amount: '100' }] });
    const logA = JSON.stringify((await server.http.get('/v1/log?limit=1000').set('x-api-key', VENUE_A)).body);
    for (const other of B_ACCOUNTS) expect(logA).not.toContain(other);
  });

  it('/metrics is public only with publicMetrics (serve --public-metrics)', async () => {
    server = await boot({ publicMetrics: true });
    expect((await server.http.get('/metrics')).status).toBe(200);
  });
});
