import { ClearingEngine } from '@clearsim/clearing';
import { decodeEvent, isInputType, type InputEvent } from '@clearsim/events';
import { at } from '../../../libs/clearing/src/testing/given';
import { ADMIN, bootServer, DROP, SETUP, TRADE, type TestServer } from './server-harness';

/**
 * Concurrent single-input posts share appends (group commit) but are decided
 * one by one, in log order, and answered one by one: a refused one is refused
 * alone, a repeat is a duplicate, the rest are appended — and the log decides
 * exactly what the core decides when fed the log's inputs in order.
 */
describe('group commit: concurrent posts', () => {
  let server: TestServer;
  const post = (body: unknown) => server.http.post('/v1/inputs').set('x-api-key', ADMIN).send(body as object);

  beforeAll(async () => {
    server = await bootServer();
    await server.http.post('/v1/inputs/batch').set('x-api-key', ADMIN).send([...SETUP, TRADE]);
  });
  afterAll(() => server?.close());

  it('answers each post on its own, and the log is what the core decides in that order', async () => {
    const bodies: unknown[] = [];
    for (let i = 0; i < 60; i++) bodies.push({ type: 'PriceUpdated', ts: at(120), instrument: 'BTC-PERP', price: String(9400 + ((i * 37) % 200)) });
    bodies.push({ type: 'TradeExecuted', ts: at(120), tradeId: 't-ghost', instrument: 'BTC-PERP', buyer: 'a-ghost', seller: 'a-mm', qty: '1', price: '9500' });
    bodies.push(TRADE);
    bodies.push({ type: 'Deposited', ts: at(120), eventId: 'top-up', account: 'a-alice', asset: 'USD', amount: '100' });
    bodies.push({ type: 'Deposited', ts: at(120), eventId: 'top-up', account: 'a-alice', asset: 'USD', amount: '100' });
    const answers = await Promise.all(bodies.map(post));

    const refused = answers.filter((a) => a.status === 422);
    expect(refused.map((a) => a.body)).toEqual([expect.objectContaining({ code: 'unknown-account', field: 'buyer' })]);
    expect(answers.filter((a) => a.status !== 200 && a.status !== 422)).toEqual([]);
    const ok = answers.filter((a) => a.status === 200);
    expect(ok.filter((a) => a.body.duplicates === 1)).toHaveLength(2);

    const log = (await server.http.get('/v1/log?limit=1000').set('x-api-key', ADMIN)).body.events as Record<string, unknown>[];
    // every answer's positions are its own: its input (after any grace timers its ts passed), then its decisions
    for (const answer of ok.filter((a) => a.body.appended)) {
      const own = log.filter((e) => (e.position as number) >= answer.body.appended.from && (e.position as number) <= answer.body.appended.to);
      expect(own.filter((e) => isInputType(e.type as string))).toHaveLength(1);
      expect(own.filter((e) => !isInputType(e.type as string)).map((e) => e.position)).toEqual(answer.body.decisions.map((d: { position: number }) => d.position));
    }
    const engine = ClearingEngine.create();
    for (const { position: _p, ...raw } of log.filter((e) => isInputType(e.type as string))) engine.handle(decodeEvent(raw, 'input') as InputEvent);
    const summary = (await server.http.get('/v1/summary').set('x-api-key', ADMIN)).body;
    expect(summary.outputHash).toBe(engine.outputHash);
    expect(summary.position).toBe(log.length);
  });
});

describe('group commit: a grace timer revealed inside a group', () => {
  let server: TestServer;
  const post = (body: unknown) => server.http.post('/v1/inputs').set('x-api-key', ADMIN).send(body as object);

  beforeAll(async () => {
    server = await bootServer();
    // a-alice is called at 120 s (mark 9,450: equity 450 < MM 472.5), deadline 3,720 s
    await server.http.post('/v1/inputs/batch').set('x-api-key', ADMIN).send([...SETUP, TRADE, DROP]);
  });
  afterAll(() => server?.close());

  it('answers the timer decisions to the post whose input revealed them, logged before that input', async () => {
    // concurrent deposits at 5,000 s: whichever is logged first passes the deadline
    const bodies = Array.from({ length: 20 }, (_, i) => ({ type: 'Deposited', ts: at(5000), eventId: `d${i}`, account: 'b-bob', asset: 'USD', amount: '1' }));
    const answers = await Promise.all(bodies.map(post));
    expect(answers.map((a) => a.status)).toEqual(bodies.map(() => 200));
    const withTimers = answers.filter((a) => a.body.decisions.length > 0);
    expect(withTimers).toHaveLength(1);
    const { appended, decisions } = withTimers[0]!.body;
    // GracePeriodExpired, LiquidationStarted, PositionLiquidated at the deadline, then the deposit that revealed them
    expect(decisions.map((d: { type: string; ts: string; position: number }) => [d.type, d.ts, d.position])).toEqual([
      ['GracePeriodExpired', at(3720), appended.from],
      ['LiquidationStarted', at(3720), appended.from + 1],
      ['PositionLiquidated', at(3720), appended.from + 2],
    ]);
    expect(appended.to).toBe(appended.from + 3);
    const log = (await server.http.get(`/v1/log?from=${appended.to}&limit=1`).set('x-api-key', ADMIN)).body.events as Record<string, unknown>[];
    expect(log[0]).toMatchObject({ type: 'Deposited', ts: at(5000), account: 'b-bob' });
    // every other answer is its deposit alone
    for (const answer of answers.filter((a) => a !== withTimers[0])) expect(answer.body.appended.to).toBe(answer.body.appended.from);
  });
});
