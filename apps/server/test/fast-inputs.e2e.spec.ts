import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENTS_FILE } from '@clearsim/store';
import { SubmitInputsHandler } from '../src/clearing/commands/submit-inputs.handler';
import { ShardService } from '../src/clearing/shard.service';
import { at } from '../../../libs/clearing/src/testing/given';
import { ADMIN, bootServer, DROP, SETUP, TRADE, VENUE_A, VENUE_B, type TestServer } from './server-harness';

/** One request of the script: a POST /v1/inputs body (raw text or a value) with a key. */
interface Step {
  name: string;
  key?: string;
  bearer?: boolean;
  body: unknown;
  path?: string;
  /** Whether the fast route answers it (else Nest's route: the guard, the pipe, SubmitInputsHandler.execute). */
  fast: boolean;
}

const price = (minute: number, value: string) => ({ type: 'PriceUpdated', ts: at(minute * 60), instrument: 'BTC-PERP', price: value });

/**
 * The script: every kind of answer POST /v1/inputs gives, through both
 * routes, in an order where the state matters (duplicates, conflicts, a
 * margin call's decisions, a clock that went backwards).
 */
const SCRIPT: Step[] = [
  { name: 'a trade (admin)', key: ADMIN, body: TRADE, fast: true },
  { name: 'the same trade again: a duplicate', key: ADMIN, body: TRADE, fast: true },
  { name: 'the same tradeId with another price: 409 id-conflict', key: ADMIN, body: { ...TRADE, price: '10001' }, fast: true },
  { name: 'a price drop that issues a margin call (decisions in the answer)', key: ADMIN, body: DROP, fast: true },
  { name: 'a price from a venue key: 403', key: VENUE_A, body: price(3, '9500'), fast: false },
  { name: 'no key: 401', body: price(3, '9500'), fast: false },
  { name: 'an unknown key: 401', key: 'not-a-key-at-all', body: price(3, '9500'), fast: false },
  { name: 'a bearer key', key: ADMIN, bearer: true, body: price(4, '9460'), fast: true },
  { name: 'a deposit of venue A on its account', key: VENUE_A, body: { type: 'Deposited', ts: at(300), account: 'a-alice', asset: 'USD', amount: '10' }, fast: true },
  { name: 'venue B on an account of A: 403', key: VENUE_B, body: { type: 'Deposited', ts: at(300), account: 'a-alice', asset: 'USD', amount: '10' }, fast: false },
  { name: 'postedBy in the body: 400', key: ADMIN, body: { ...price(5, '9470'), postedBy: 'admin' }, fast: false },
  { name: 'a field the fast decoder does not take: the DTOs word the 400', key: ADMIN, body: { ...price(5, '9470'), price: '-1' }, fast: false },
  { name: 'an unknown field: 400', key: ADMIN, body: { ...price(5, '9470'), colour: 'red' }, fast: false },
  { name: 'an input the fast decoder does not take, valid (a withdrawal request)', key: ADMIN, body: { type: 'WithdrawalRequested', ts: at(360), requestId: 'w-1', account: 'a-alice', asset: 'USD', amount: '1' }, fast: false },
  { name: 'an unknown instrument: 422', key: ADMIN, body: { ...price(7, '1'), instrument: 'ETH-PERP' }, fast: true },
  { name: 'a clock that goes backwards: 422', key: ADMIN, body: price(1, '9500'), fast: true },
  { name: 'a trailing slash', key: ADMIN, path: '/v1/inputs/', body: price(8, '9480'), fast: true },
  { name: 'not JSON: 400', key: ADMIN, body: '{"type":', fast: false },
  { name: 'an array: 400', key: ADMIN, body: [price(9, '9490')], fast: false },
];

async function play(server: TestServer, step: Step) {
  let call = server.http.post(step.path ?? '/v1/inputs').set('content-type', 'application/json');
  if (step.key) call = step.bearer ? call.set('authorization', `Bearer ${step.key}`) : call.set('x-api-key', step.key);
  const response = await call.send(typeof step.body === 'string' ? step.body : JSON.stringify(step.body));
  return { status: response.status, contentType: response.headers['content-type'] as unknown, body: response.body as unknown };
}

const logOf = (server: TestServer) => readFileSync(join(server.store.slice('file:'.length), EVENTS_FILE), 'utf8');

describe('the fast route of POST /v1/inputs answers every request as Nest\'s route does', () => {
  let fast: TestServer;
  let nest: TestServer;

  beforeAll(async () => {
    fast = await bootServer();
    // the same server without the fast route: every request through Nest's (the reference)
    nest = await bootServer({ fastInputsRoute: false });
    for (const server of [fast, nest]) expect((await server.http.post('/v1/inputs/batch').set('x-api-key', ADMIN).send(SETUP)).status).toBe(200);
  });
  afterAll(async () => {
    await fast?.close();
    await nest?.close();
  });

  it('the same status, content type and body for each request of the script, and the same log', async () => {
    const execute = jest.spyOn(SubmitInputsHandler.prototype, 'execute');
    const submitted = jest.spyOn(SubmitInputsHandler.prototype, 'submitPrepared');
    const statuses = new Set<number>();
    try {
      for (const step of SCRIPT) {
        execute.mockClear();
        submitted.mockClear();
        const viaFast = await play(fast, step);
        // the fast route submits without the command (execute); a request it leaves to Nest's route is submitted, if at all, by the command
        const submittedByFastRoute = execute.mock.calls.length === 0 && submitted.mock.calls.length === 1;
        expect({ step: step.name, submittedByFastRoute }).toEqual({ step: step.name, submittedByFastRoute: step.fast });
        const viaNest = await play(nest, step);
        expect({ step: step.name, ...viaFast }).toEqual({ step: step.name, ...viaNest });
        statuses.add(viaFast.status);
      }
    } finally {
      execute.mockRestore();
      submitted.mockRestore();
    }
    // the script covers every status the route answers but 413 and 503 (Fastify's and the filter's, before and around the route)
    expect([...statuses].sort()).toEqual([200, 400, 401, 403, 409, 422]);
    // both logs hold the same events at the same positions (the logs' ids differ, and with them each line's chain)
    const events = (server: TestServer) =>
      logOf(server)
        .split('\n')
        .filter((line) => line.startsWith('{"position"'))
        .map((line) => line.replace(/"crc":"[0-9a-f]+",/, ''));
    expect(events(fast)).toEqual(events(nest));
    expect(events(fast).length).toBeGreaterThan(SETUP.length + 3);
  });

  it('answers 503 with Retry-After as Nest\'s route does once the shard stops taking inputs (a refusal after the fast route submitted)', async () => {
    const answers = [];
    const execute = jest.spyOn(SubmitInputsHandler.prototype, 'execute');
    try {
      for (const server of [fast, nest]) {
        await server.app.get(ShardService).drain();
        const response = await server.http.post('/v1/inputs').set('x-api-key', ADMIN).set('content-type', 'application/json').send(JSON.stringify(price(20, '9500')));
        answers.push({ status: response.status, retryAfter: response.headers['retry-after'] as unknown, body: response.body as unknown, viaNestRoute: execute.mock.calls.length });
        execute.mockClear();
      }
    } finally {
      execute.mockRestore();
    }
    expect(answers[0]).toEqual({ status: 503, retryAfter: '1', body: { statusCode: 503, error: 'Service Unavailable', message: ['the server is shutting down'] }, viaNestRoute: 0 });
    expect({ ...answers[1], viaNestRoute: 0 }).toEqual(answers[0]);
    expect(answers[1]!.viaNestRoute).toBe(1);
  });
});
