import { ClearingEngine } from '@clearsim/clearing';
import { decodeEvent, isDecisionType, toCanonicalJson, type InputEvent } from '@clearsim/events';
import { at } from '../../../libs/clearing/src/testing/given';
import { ADMIN, bootServer, DROP, openStream, SETUP, TRADE, VENUE_A, VENUE_B, type SseClient, type TestServer } from './server-harness';

/**
 * The story of a margin call, over HTTP, on a booted service: a trade, a
 * price drop → a call (visible on the account and on the SSE stream), the
 * clock advanced past the grace period → a liquidation (visible both ways).
 * Test rules: IM 10%, MM 5%, grace 3,600 s, immediate below 0.5 × MM, fee 1%.
 */
describe('a trade → margin call → clock advance → liquidation, over HTTP and SSE', () => {
  let server: TestServer;
  let admin: SseClient;
  let venueA: SseClient;
  let venueB: SseClient;
  const CLOCK = { type: 'ClockAdvanced', ts: at(7200) };
  const DEPOSIT = { type: 'Deposited', ts: at(7300), account: 'a-alice', asset: 'USD', amount: '1' };
  const WITHDRAWAL = { type: 'WithdrawalRequested', ts: at(7300), requestId: 'w1', account: 'a-alice', asset: 'USD', amount: '10' };
  const post = (path: string, body: unknown, key = ADMIN) => server.http.post(path).set('x-api-key', key).send(body as object);
  const get = (path: string, key = ADMIN) => server.http.get(path).set('x-api-key', key);

  beforeAll(async () => {
    server = await bootServer();
    expect((await post('/v1/inputs/batch', SETUP)).status).toBe(200);
    admin = await openStream(server.url, ADMIN);
    venueA = await openStream(server.url, VENUE_A);
    venueB = await openStream(server.url, VENUE_B);
  });

  afterAll(async () => {
    for (const client of [admin, venueA, venueB]) client?.close();
    await server?.close();
  });

  it('the stream answers text/event-stream at once', () => {
    expect(admin.response.statusCode).toBe(200);
    expect(admin.response.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(admin.comments[0]).toMatch(/decisions after position 7/);
  });

  it('a trade at the mark decides nothing; the account carries the position', async () => {
    const trade = await post('/v1/inputs', TRADE, VENUE_A);
    expect(trade.status).toBe(200);
    expect(trade.body).toEqual({ accepted: 1, duplicates: 0, appended: { from: 8, to: 8 }, head: 8, decisions: [] });
    const alice = await get('/v1/accounts/a-alice', VENUE_A);
    // IM = 10% × 10,000; MM = 5%; liquidation price: 1,000 + (m − 10,000) = 0.05 m → m = 9,473.68421053
    expect(alice.body).toMatchObject({
      account: 'a-alice',
      position: 8,
      cash: '1000',
      equity: '1000',
      initialMargin: '1000',
      maintenanceMargin: '500',
      freeCollateral: '0',
      health: '2',
      status: 'healthy',
      positions: { 'BTC-PERP': { qty: '1', entryPrice: '10000', liquidationPrice: '9473.68421053' } },
    });
  });

  it('a drop to 9,450 issues a margin call, returned, visible on the account, and streamed', async () => {
    // equity = 1,000 − 550 = 450 < MM = 472.5 (but ≥ 0.5 × MM) → call for IM − equity = 945 − 450 = 495, deadline 120 s + 3,600 s
    const drop = await post('/v1/inputs', DROP);
    const call = { type: 'MarginCallIssued', v: 1, ts: at(120), account: 'a-alice', amount: '495', deadline: at(3720), equity: '450', initialMargin: '945', maintenanceMargin: '472.5' };
    expect(drop.body).toEqual({ accepted: 1, duplicates: 0, appended: { from: 9, to: 10 }, head: 10, decisions: [{ position: 10, ...call }] });
    expect((await get('/v1/accounts/a-alice')).body).toMatchObject({ status: 'margin-call', equity: '450', freeCollateral: '-495', health: '0.95238095' });
    expect(await admin.waitFor(1)).toEqual([{ id: '10', data: call }]);
    expect(await venueA.waitFor(1)).toEqual([{ id: '10', data: call }]);
  });

  it('the accounts list ranks the called account first', async () => {
    const list = await get('/v1/accounts?sort=health&limit=2');
    expect(list.body.accounts.map((a: { account: string }) => a.account)).toEqual(['a-alice', 'a-mm']);
    expect((await get('/v1/accounts?status=margin-call')).body).toMatchObject({ total: 1, accounts: [{ account: 'a-alice', status: 'margin-call', health: '0.95238095' }] });
  });

  it('advancing the clock past the deadline liquidates, over HTTP and on the stream', async () => {
    const clock = await post('/v1/admin/clock', { ts: CLOCK.ts });
    expect(clock.status).toBe(200);
    // grace expired at its deadline (3,720 s) → close all (step 1) at 9,450 to the backstop; fee 1% × 9,450 = 94.5 to
    // the insurance fund; stamped with the deadline and logged before the clock input that revealed it
    const expected = [
      { type: 'GracePeriodExpired', v: 1, ts: at(3720), account: 'a-alice', deadline: at(3720) },
      { type: 'LiquidationStarted', v: 1, ts: at(3720), account: 'a-alice', equity: '450', maintenanceMargin: '472.5', reason: 'grace-period-expired' },
      { type: 'PositionLiquidated', v: 1, ts: at(3720), account: 'a-alice', instrument: 'BTC-PERP', qty: '-1', price: '9450', counterparty: 'backstop', fee: '94.5' },
    ];
    expect(clock.body.decisions).toEqual(expected.map((d, i) => ({ position: 11 + i, ...d })));
    expect(clock.body.appended).toEqual({ from: 11, to: 14 });
    // alice: 1,000 − 550 realized − 94.5 fee = 355.5, flat
    expect((await get('/v1/accounts/a-alice', VENUE_A)).body).toMatchObject({ status: 'liquidated', cash: '355.5', positions: {} });
    expect((await get('/v1/accounts/insurance')).body).toMatchObject({ cash: '1094.5', status: 'system' });
    // the backstop now holds the position with no equity, but system accounts are never called: ranked last
    const ranked = (await get('/v1/accounts')).body.accounts.map((a: { account: string }) => a.account);
    expect(ranked).toEqual(['a-mm', 'a-alice', 'b-bob', 'backstop', 'fees', 'insurance']);
    const streamed = await admin.waitFor(4);
    expect(streamed.slice(1)).toEqual(expected.map((data, i) => ({ id: String(11 + i), data })));
    expect((await venueA.waitFor(4)).map((e) => e.id)).toEqual(['10', '11', '12', '13']);
  });

  it('a venue sees on the stream only the decisions about its accounts', () => {
    expect(venueB.events).toEqual([]);
  });

  it('?at= reads the account as it was', async () => {
    const then = await get(`/v1/accounts/a-alice?at=${at(120)}`);
    expect(then.body).toMatchObject({ at: at(120), position: 10, status: 'margin-call', equity: '450', positions: { 'BTC-PERP': { qty: '1' } } });
    const before = await get(`/v1/accounts/a-alice?at=${at(30)}`);
    expect(before.body).toMatchObject({ position: 7, status: 'healthy', cash: '1000', positions: {} });
    expect((await get('/v1/accounts/a-alice?at=yesterday')).body.message).toEqual(['at: must be an ISO-8601 UTC timestamp such as 2026-01-01T00:00:00Z (got "yesterday")']);
    expect((await get(`/v1/accounts/a-alice?at=1999-01-01T00:00:00Z`)).status).toBe(404);
  });

  it('a stream resumed with Last-Event-ID replays the logged decisions after it, then goes live', async () => {
    const resumed = await openStream(server.url, ADMIN, { 'Last-Event-ID': '10' });
    try {
      expect((await resumed.waitFor(3)).map((e) => e.id)).toEqual(['11', '12', '13']);
      await post('/v1/inputs', DEPOSIT);
      await post('/v1/inputs', WITHDRAWAL, VENUE_A);
      const [, , , approved] = await resumed.waitFor(4);
      expect(approved).toMatchObject({ id: '17', data: { type: 'WithdrawalApproved', account: 'a-alice', amount: '10' } });
    } finally {
      resumed.close();
    }
  });

  it('the log holds inputs and decisions in order, as the store does', async () => {
    const log = await get('/v1/log?from=9&limit=6');
    expect(log.body).toMatchObject({ from: 9, head: 17, next: 15 });
    // the expired timer's decisions come before the input whose ts passed its deadline
    expect(log.body.events.map((e: { position: number; type: string }) => [e.position, e.type])).toEqual([
      [9, 'PriceUpdated'],
      [10, 'MarginCallIssued'],
      [11, 'GracePeriodExpired'],
      [12, 'LiquidationStarted'],
      [13, 'PositionLiquidated'],
      [14, 'ClockAdvanced'],
    ]);
    // a venue sees market-wide events and its own, not b-bob's deposit
    const venueLog = await get('/v1/log?limit=1000', VENUE_A);
    expect(venueLog.body.events.map((e: { position: number }) => e.position)).not.toContain(5);
    expect(venueLog.body.events.map((e: { position: number }) => e.position)).toContain(7);
  });

  it('gives the same decisions and outputHash as the core fed the same inputs directly', async () => {
    const engine = ClearingEngine.create();
    const inputs = [...SETUP, TRADE, DROP, CLOCK, DEPOSIT, WITHDRAWAL];
    const decided = inputs.flatMap((raw) => engine.handle(decodeEvent(raw, 'input') as InputEvent).decisions);
    const logged = (await get('/v1/log?limit=1000')).body.events.filter((e: { type: string }) => isDecisionType(e.type));
    expect(logged.map(({ position: _p, ...e }: Record<string, unknown>) => e)).toEqual(decided.map((d) => toCanonicalJson(d)));
    const summary = (await get('/v1/summary')).body;
    expect(summary).toMatchObject({ position: 17, eventsIn: 12, decisions: 5, marginCalls: 1, liquidations: 1, insuranceFund: '1094.5' });
    expect(summary.outputHash).toBe(engine.outputHash);
  });

  it('/metrics counts what was appended and decided', async () => {
    const metrics = await server.http.get('/metrics').set('authorization', `Bearer ${ADMIN}`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.text).toContain('clearsim_events_appended_total{kind="input"} 12');
    expect(metrics.text).toContain('clearsim_events_appended_total{kind="decision"} 5');
    expect(metrics.text).toContain('clearsim_decisions_total{type="MarginCallIssued"} 1');
    expect(metrics.text).toContain('clearsim_decisions_total{type="PositionLiquidated"} 1');
    expect(metrics.text).toContain('clearsim_log_head 17');
    expect(metrics.text).toContain('clearsim_consumer_lag 0');
    expect(metrics.text).toMatch(/clearsim_append_latency_seconds_count \d+/);
    expect(metrics.text).toContain('clearsim_decision_stream_clients 3');
  });

  it('a restart on the same store rebuilds the same state', async () => {
    const before = (await get('/v1/summary')).body;
    const alice = (await get('/v1/accounts/a-alice')).body;
    for (const client of [admin, venueA, venueB]) client.close();
    await server.close();
    server = await bootServer({ store: server.store });
    expect((await get('/v1/summary')).body).toEqual(before);
    expect((await get('/v1/accounts/a-alice')).body).toEqual(alice);
  });
});

describe('what-if', () => {
  let server: TestServer;
  const whatIf = (body: object, key = ADMIN) => server.http.post('/v1/what-if/trade').set('x-api-key', key).send(body);

  beforeAll(async () => {
    server = await bootServer();
    await server.http.post('/v1/inputs/batch').set('x-api-key', ADMIN).send(SETUP);
  });
  afterAll(() => server?.close());

  it('answers how a trade would change the margin, appending nothing', async () => {
    const answer = await whatIf({ account: 'a-alice', instrument: 'BTC-PERP', side: 'buy', qty: '2', price: '10000' }, VENUE_A);
    expect(answer.status).toBe(200);
    // long 2 @ 10,000: IM = 10% × 20,000 = 2,000 > equity 1,000 → free −1,000; MM 1,000 = equity → still meets MM;
    // liquidation price: 1,000 + 2 (m − 10,000) = 0.05 × 2 m → m = 19,000 / 1.9 = 10,000
    expect(answer.body).toMatchObject({
      account: 'a-alice',
      position: 7,
      mark: '10000',
      before: { equity: '1000', initialMargin: '0', freeCollateral: '1000', position: null },
      after: { equity: '1000', initialMargin: '2000', maintenanceMargin: '1000', freeCollateral: '-1000', meetsInitialMargin: false, meetsMaintenanceMargin: true, position: { qty: '2', liquidationPrice: '10000' } },
      change: { initialMargin: '2000', freeCollateral: '-2000' },
    });
    expect((await server.http.get('/v1/summary').set('x-api-key', ADMIN)).body.position).toBe(7);
  });

  it('validates the proposal (400), its scope (403) and its account (422)', async () => {
    expect((await whatIf({ account: 'a-alice', instrument: 'BTC-PERP', side: 'hold', qty: '0' })).body.message).toEqual(['side: must be one of "buy", "sell"', 'qty: must be greater than 0', 'price: is required']);
    expect((await whatIf({ account: 'b-bob', instrument: 'BTC-PERP', side: 'buy', qty: '1', price: '1' }, VENUE_A)).status).toBe(403);
    expect((await whatIf({ account: 'a-nobody', instrument: 'BTC-PERP', side: 'buy', qty: '1', price: '1' })).body).toMatchObject({ statusCode: 422, code: 'unknown-account', field: 'account' });
  });
});
