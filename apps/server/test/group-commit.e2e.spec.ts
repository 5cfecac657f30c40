import { ClearingEngine } from '@clearsim/clearing';
import { decodeEvent, isInputType, type InputEvent } from '@clearsim/events';
import { at } from '../../../libs/clearing/src/testing/given';
import { ADMIN, bootServer, SETUP, TRADE, type TestServer } from './server-harness';

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
    // every answer's positions are its own: its input, then its decisions
    for (const answer of ok.filter((a) => a.body.appended)) {
      const own = log.filter((e) => (e.position as number) >= answer.body.appended.from && (e.position as number) <= answer.body.appended.to);
      expect(isInputType(own[0]!.type as string)).toBe(true);
      expect(own.slice(1).map((e) => e.position)).toEqual(answer.body.decisions.map((d: { position: number }) => d.position));
    }
    const engine = ClearingEngine.create();
    for (const { position: _p, ...raw } of log.filter((e) => isInputType(e.type as string))) engine.handle(decodeEvent(raw, 'input') as InputEvent);
    const summary = (await server.http.get('/v1/summary').set('x-api-key', ADMIN)).body;
    expect(summary.outputHash).toBe(engine.outputHash);
    expect(summary.position).toBe(log.length);
  });
});
