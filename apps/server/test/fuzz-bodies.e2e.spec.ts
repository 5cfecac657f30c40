import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { at } from '../../../libs/clearing/src/testing/given';
import { ADMIN, bootServer, SETUP, TRADE, VENUE_A, type TestServer } from './server-harness';

/**
 * A fast-check fuzzer of malformed bodies against the live service (an
 * in-process app on a temp-dir file store): wrong types, huge exponents,
 * NaN/Infinity strings, inexact JSON numbers, impossible dates, deep nesting,
 * oversize bodies, unicode junk, and batches with one bad element. Every body
 * gets a 4xx, the server keeps answering, and the log does not change — not
 * its head, not a byte of its file. Fixed seed and run count: the same bodies
 * every time, a few seconds.
 */
describe('fuzzing malformed bodies: always a 4xx, the server live, the log unchanged', () => {
  const MAX_BODY = 64 * 1024;
  let server: TestServer;
  let logFile: string;

  beforeAll(async () => {
    server = await bootServer({ maxBodyBytes: MAX_BODY });
    expect((await server.http.post('/v1/inputs/batch').set('x-api-key', ADMIN).send([...SETUP, TRADE])).status).toBe(200);
    logFile = join(server.store.slice('file:'.length), 'events.jsonl');
  });
  afterAll(() => server?.close());

  const TS = at(60);
  const DECIMAL_FIELDS: Record<string, string[]> = { Deposited: ['amount'], PriceUpdated: ['price'], TradeExecuted: ['qty', 'price', 'buyerFee', 'sellerFee'] };
  const valid = {
    Deposited: { type: 'Deposited', ts: TS, account: 'a-alice', asset: 'USD', amount: '1' },
    PriceUpdated: { type: 'PriceUpdated', ts: TS, instrument: 'BTC-PERP', price: '10000' },
    TradeExecuted: { ...TRADE, ts: TS, tradeId: 'fuzz-t' },
  } as const;
  type Kind = keyof typeof valid;

  // values a decimal field must refuse
  const wrongType = fc.oneof(fc.constant(null), fc.boolean(), fc.array(fc.jsonValue(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue(), { maxKeys: 3 }));
  const hugeExponent = fc
    .tuple(fc.constantFrom('', '-', '+'), fc.nat({ max: 999_999 }), fc.constantFrom('', '.9688', '.5'), fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.bigInt({ min: 31n, max: 10n ** 15n }))
    .map(([sign, int, frac, e, expSign, exp]) => `${sign}${int + 1}${frac}${e}${expSign}${exp}`);
  const notANumber = fc.constantFrom('NaN', 'nan', 'Infinity', '-Infinity', '+Infinity', 'Inf', '1e', '0x10', '1_000', '١٢٣', '１２３', '1,5', '', ' ', '1e+', '--1', '∞');
  const badDecimal = fc.oneof(wrongType, hugeExponent, notANumber);
  /** A JSON number of 16 to 41 significant digits (first and last not zero), as raw text, maybe with a point. */
  const inexactNumber = fc
    .tuple(fc.integer({ min: 1, max: 9 }), fc.stringMatching(/^\d{14,39}$/), fc.integer({ min: 1, max: 9 }), fc.nat({ max: 20 }))
    .map(([lead, middle, last, point]) => {
      const digits = `${lead}${middle}${last}`;
      return point === 0 || point >= digits.length ? digits : `${digits.slice(0, point)}.${digits.slice(point)}`;
    });
  const badTimestamp = fc.oneof(
    fc.constantFrom('2026-02-30T00:00:00Z', '2026-01-01T24:00:00Z', '2026-13-01T00:00:00Z', '2016-12-31T23:59:60Z', '2026-01-01T00:00:00.0000001Z', '2026-01-01', 'yesterday', ''),
    fc.string({ unit: 'binary', maxLength: 30 }).filter((s) => !/^\d{4}-/.test(s)),
    fc.integer(),
  );
  const unicodeJunk = fc.string({ unit: 'binary', minLength: 1, maxLength: 200 });
  const deepText = fc.integer({ min: 33, max: 20_000 }).chain((depth) => fc.constantFrom('[', '{"a":').map((open) => open.repeat(depth) + (open === '[' ? ']' : '1}').repeat(depth)));

  /** One bad input event as raw text (each is invalid whatever the state). */
  const badItem: fc.Arbitrary<string> = fc.oneof(
    fc.tuple(fc.constantFrom<Kind>('Deposited', 'PriceUpdated', 'TradeExecuted'), badDecimal).chain(([kind, value]) => fc.constantFrom(...DECIMAL_FIELDS[kind]!).map((field) => JSON.stringify({ ...valid[kind], [field]: value }))),
    fc.tuple(fc.constantFrom<Kind>('Deposited', 'PriceUpdated', 'TradeExecuted'), inexactNumber).chain(([kind, number]) => fc.constantFrom(...DECIMAL_FIELDS[kind]!).map((field) => JSON.stringify({ ...valid[kind], [field]: '@' }).replace('"@"', number))),
    fc.tuple(fc.constantFrom<Kind>('Deposited', 'PriceUpdated', 'TradeExecuted'), badTimestamp).map(([kind, ts]) => JSON.stringify({ ...valid[kind], ts })),
    fc.tuple(fc.constantFrom<Kind>('Deposited', 'PriceUpdated', 'TradeExecuted'), deepText).map(([kind, deep]) => JSON.stringify({ ...valid[kind], extra: '@' }).replace('"@"', deep)),
    deepText.map((deep) => `{"type":"RulesActivated","ts":"${TS}","rules":{"name":${deep}}}`),
    fc.tuple(fc.constantFrom<Kind>('Deposited', 'PriceUpdated', 'TradeExecuted'), unicodeJunk).map(([kind, junk]) => JSON.stringify({ ...valid[kind], [junk]: junk })),
    unicodeJunk.map((junk) => JSON.stringify({ type: junk, ts: TS })),
  );

  interface Attempt {
    path: string;
    text: string;
    key?: string;
  }
  const attempt: fc.Arbitrary<Attempt> = fc.oneof(
    badItem.map((text) => ({ path: '/v1/inputs', text })),
    // a venue key's bodies are validated the same way before its scope is checked
    badItem.map((text) => ({ path: '/v1/inputs', text, key: VENUE_A })),
    // a batch of valid inputs with one bad element anywhere
    fc.tuple(fc.array(fc.constantFrom<Kind>('Deposited', 'PriceUpdated', 'TradeExecuted'), { maxLength: 5 }), badItem, fc.nat()).map(([kinds, bad, i]) => {
      const items = kinds.map((kind) => JSON.stringify(valid[kind]));
      items.splice(i % (items.length + 1), 0, bad);
      return { path: '/v1/inputs/batch', text: `[${items.join(',')}]` };
    }),
    // whole bodies of junk: not JSON, or JSON that is no event
    fc.oneof(unicodeJunk, fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null')).map((text) => ({ path: '/v1/inputs', text })),
    // what-if, rules and clock bodies
    badDecimal.map((fee) => ({ path: '/v1/what-if/trade', text: JSON.stringify({ account: 'a-alice', instrument: 'BTC-PERP', side: 'buy', qty: '1', price: '10000', fee }) })),
    inexactNumber.map((qty) => ({ path: '/v1/what-if/trade', text: `{"account":"a-alice","instrument":"BTC-PERP","side":"buy","qty":${qty},"price":"10000"}` })),
    deepText.map((deep) => ({ path: '/v1/admin/rules', text: `{"rules":{"name":${deep}}}` })),
    badTimestamp.map((ts) => ({ path: '/v1/admin/clock', text: JSON.stringify({ ts }) })),
    // larger than the body limit, on any route
    fc.tuple(fc.constantFrom('/v1/inputs', '/v1/inputs/batch', '/v1/what-if/trade', '/v1/admin/rules', '/v1/admin/clock'), fc.integer({ min: MAX_BODY + 1, max: 2 * MAX_BODY })).map(([path, size]) => ({ path, text: JSON.stringify({ pad: 'x'.repeat(size) }) })),
  );

  it('answers every malformed body with a 4xx and a message, appends nothing, and stays live', async () => {
    const logBefore = readFileSync(logFile);
    const headBefore = (await server.http.get('/v1/log').set('x-api-key', ADMIN)).body.head as number;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(attempt, async ({ path, text, key }) => {
        const response = await server.http.post(path).set('x-api-key', key ?? ADMIN).set('content-type', 'application/json').send(text);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        expect(response.body).toMatchObject({ statusCode: response.status, error: expect.any(String), message: expect.any(Array) });
        expect((response.body.message as string[]).length).toBeGreaterThan(0);
        expect(JSON.stringify(response.body)).not.toMatch(/\n\s+at |Maximum call stack|RangeError/);
        expect((await server.http.get('/healthz')).status).toBe(200);
      }),
      { seed: 20_261_206, numRuns: 200 },
    );
    expect((await server.http.get('/v1/log').set('x-api-key', ADMIN)).body.head).toBe(headBefore);
    expect(readFileSync(logFile).equals(logBefore)).toBe(true);
    // the fuzzer reached the bounds it is about: 400s and 413s
    expect(statuses.get(400)).toBeGreaterThan(100);
    expect(statuses.get(413)).toBeGreaterThan(0);
    // and the service still takes a valid input
    expect((await server.http.post('/v1/inputs').set('x-api-key', ADMIN).send(valid.PriceUpdated)).status).toBe(200);
    // ~4 s on an idle machine; the budget is for a loaded one (it is not a timing assertion)
  }, 60_000);
});
