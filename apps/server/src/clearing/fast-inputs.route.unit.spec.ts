import 'reflect-metadata';
import fc from 'fast-check';
import { decodePriceUpdateBytes, MAX_ID_LENGTH } from '@clearsim/events';
import { VALIDATION_CORPUS } from '../../../../test/fixtures/validation-corpus';
import { jsonBodyOf } from '../common/fastify-body';
import { fastInputOf, fastInputOfBytes, submittedJson } from './fast-inputs.route';
import { takenByFastPath } from './input-event.pipe';

/** What the fast route takes from the object JSON.parse gives (the path of every body its byte reading declines). */
const byObject = (text: string) => fastInputOf(JSON.parse(text));

/** Timestamps of a real date, with or without milliseconds, and a few that are not. */
const timestamp = fc.oneof(
  { weight: 3, arbitrary: fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()) },
  fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')),
  fc.constantFrom('2026-02-30T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:00:00', '2026-1-01T00:00:00Z', '2026-01-01T00:00:00.5Z'),
);
/** Decimal texts: plain ones of every size and some no decimal may be. */
const decimal = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.stringMatching(/^[1-9][0-9]{0,6}$/), fc.option(fc.stringMatching(/^[0-9]{1,8}$/))).map(([whole, places]) => (places === null ? whole : `${whole}.${places}`)) },
  fc.tuple(fc.stringMatching(/^[0-9]{1,18}$/), fc.option(fc.stringMatching(/^[0-9]{0,10}$/))).map(([whole, places]) => (places === null ? whole : `${whole}.${places}`)),
  fc.constantFrom('0', '-1', '1e3', '.5', '5.', '+5', ' 5', '0x10', '00.1'),
);
const instrument = fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[A-Z][A-Z0-9-]{0,15}$/) }, fc.constantFrom('BTC-PERP', 'ETH-0327', 'x'.repeat(MAX_ID_LENGTH), 'x'.repeat(MAX_ID_LENGTH + 1), ''), fc.string({ maxLength: 12, unit: 'binary' }));
/** Price-update bodies in the layouts the byte reading knows (JSON.stringify's, with `"v":1`, ts first) and others. */
const priceBody = fc
  .record({ ts: timestamp, instrument, price: decimal, layout: fc.constantFrom('stringify', 'versioned', 'ts-first', 'spaced', 'extra') })
  .map(({ ts, instrument, price, layout }) => {
    switch (layout) {
      case 'stringify':
        return JSON.stringify({ type: 'PriceUpdated', ts, instrument, price });
      case 'versioned':
        return JSON.stringify({ type: 'PriceUpdated', v: 1, ts, instrument, price });
      case 'ts-first':
        return JSON.stringify({ ts, type: 'PriceUpdated', instrument, price });
      case 'spaced':
        return JSON.stringify({ type: 'PriceUpdated', ts, instrument, price }, null, 1);
      default:
        return JSON.stringify({ type: 'PriceUpdated', ts, instrument, price, eventId: 'p-1' });
    }
  });

describe('the fast route of POST /v1/inputs reads a price update\'s bytes as the object path reads its JSON', () => {
  it('takes the same input from the bytes as from JSON.parse of them (or none from both), on random price bodies', () => {
    let fromBytes = 0;
    fc.assert(
      fc.property(priceBody, (text) => {
        const bytes = Buffer.from(text, 'utf8');
        if (decodePriceUpdateBytes(bytes, 0, bytes.length) !== undefined) {
          fromBytes++;
          // where the bytes are read, the DTOs would have been skipped too: the object path takes the same body
          expect(takenByFastPath(JSON.parse(text))).toBe(true);
        }
        expect(fastInputOfBytes(bytes)).toEqual(byObject(text));
      }),
      { numRuns: 2000 },
    );
    // not vacuous: 3 in 5 bodies have a known layout, and about half of those a valid timestamp, instrument and price
    expect(fromBytes).toBeGreaterThan(300);
  });

  it('a worked example: the bench\'s body, read from its bytes', () => {
    // 9,975 in units of 10^-8 (the money scale): 997,500,000,000; 2026-01-01T00:00:00Z is 1,767,225,600,000 ms
    const text = '{"type":"PriceUpdated","ts":"2026-01-01T00:00:00Z","instrument":"BTC-PERP","price":"9975"}';
    expect(fastInputOfBytes(Buffer.from(text))).toEqual({ type: 'PriceUpdated', ts: 1_767_225_600_000, instrument: 'BTC-PERP', price: 997_500_000_000n });
  });

  it('takes from every case of the validation corpus what the object path takes', () => {
    let taken = 0;
    for (const corpusCase of VALIDATION_CORPUS) {
      const bytes = Buffer.from(corpusCase.text, 'utf8');
      let expected: unknown;
      try {
        expected = fastInputOf(jsonBodyOf(bytes, 'application/json'));
      } catch {
        continue; // malformed JSON or past the bounds: the body parser's 400, before any route
      }
      expect({ name: corpusCase.name, input: fastInputOfBytes(bytes) }).toEqual({ name: corpusCase.name, input: expected });
      if (expected !== undefined) taken++;
    }
    expect(taken).toBeGreaterThan(3);
  });
});

describe('the fast route\'s answer', () => {
  it('is JSON.stringify\'s text of the result, byte for byte', () => {
    const position = fc.nat({ max: Number.MAX_SAFE_INTEGER });
    const decision = fc.record({ position, type: fc.constantFrom('MarginCallIssued', 'Liquidated'), account: fc.string(), amount: fc.string(), note: fc.option(fc.string({ unit: 'binary' })) });
    const result = fc.record({
      accepted: fc.nat({ max: 10_000 }),
      duplicates: fc.nat({ max: 10_000 }),
      appended: fc.option(fc.record({ from: position, to: position })),
      head: position,
      decisions: fc.array(decision, { maxLength: 3 }),
    });
    fc.assert(fc.property(result, (r) => expect(submittedJson(r)).toBe(JSON.stringify(r))), { numRuns: 1000 });
    expect(submittedJson({ accepted: 1, duplicates: 0, appended: { from: 8, to: 8 }, head: 8, decisions: [] })).toBe('{"accepted":1,"duplicates":0,"appended":{"from":8,"to":8},"head":8,"decisions":[]}');
  });
});
