import fc from 'fast-check';
import { decodeEvent, decodeEventBySchema, decodeLine, decodeStoredPriceUpdateBytes, encodeEvent, encodeEventForLog, encodeEventGeneric, encodeEventInto, encodeEventRemembered, encodePriceFieldsInto, ENCODED_INTO_LAYOUT, InputError, type ClearingEvent } from './codec';
import { decodePriceBytes, decodePriceBytesInto, decodePriceLine, decodePriceUpdateBytes, fastDecodeInput, fastTimestamp, parseFlatStringObject, PriceFields, writeDecimalDigits } from './fast-codec';
import type { PriceUpdated } from './input-events';
import { formatTimestamp, parseTimestamp } from './timestamp';

/** The schema's answer: the event, or the refusal's message. */
function bySchema(raw: unknown): { event?: ClearingEvent; error?: string } {
  try {
    return { event: decodeEventBySchema(raw, 'input') };
  } catch (error) {
    if (error instanceof InputError) return { error: error.message };
    throw error;
  }
}

const digits = (n: number, min: number, max: number) => fc.integer({ min, max }).map((v) => String(v).padStart(n, '0'));
/** Timestamps around the shapes the fast path takes: valid ones, impossible dates and times, other ISO forms, junk. */
const timestampText = fc.oneof(
  fc
    .tuple(digits(4, 990, 2100), digits(2, 0, 13), digits(2, 0, 32), digits(2, 0, 25), digits(2, 0, 60), digits(2, 0, 61), fc.constantFrom('', '.000', '.5', '.123', '.1234', '.999'), fc.constantFrom('Z', 'Z', '+00:00', 'z', ''))
    .map(([y, mo, d, h, mi, s, ms, zone]) => `${y}-${mo}-${d}T${h}:${mi}:${s}${ms}${zone}`),
  fc.constantFrom('2024-02-29T00:00:00Z', '2023-02-29T00:00:00Z', '2100-02-29T12:00:00.000Z', '2000-02-29T23:59:59.999Z', '2026-01-01T00:00Z', '2026-01-01 00:00:00Z', '２026-01-01T00:00:00Z', ''),
  fc.string({ maxLength: 24 }),
  fc.integer(),
);
const decimalText = fc.oneof(
  fc.tuple(fc.constantFrom('', '-', '+'), fc.nat({ max: 10 ** 9 }).map(String), fc.constantFrom('', '.', '.0', '.5', '.00', '.12345678', '.123456789', '.100000000'), fc.constantFrom('', '', 'e2', ' ')).map((parts) => parts.join('')),
  fc.constantFrom('0', '0.00', '-0', '007.50', '.5', '1e-8', ' 1', 'NaN', '', '100.00'),
  fc.double({ noNaN: false }),
  fc.constant(null),
);
/** Control characters an id may not hold (C0, DEL, C1), among letters an id may: alone, first, inside, last. */
const controlCharacterId = fc
  .tuple(fc.constantFrom('', 'a', 'é'), fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f })), fc.constantFrom('', 'b', '[2J'))
  .map(([before, code, after]) => before + String.fromCharCode(code) + after);
const idValue = fc.oneof(fc.constantFrom('a', 'b', 'acct-1', 'I00-PERP', '', '\u00a0', 'ünï-😀'), fc.string({ maxLength: 6 }), fc.string({ maxLength: 6, unit: 'binary' }), controlCharacterId, fc.integer());
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });

/** Objects shaped like the hot inputs, each field valid or not, present or not, sometimes with a stray one. */
const hotInputLike = fc
  .record({
    type: fc.constantFrom('PriceUpdated', 'TradeExecuted', 'Deposited', 'ClockAdvanced', 'InstrumentSettled'),
    ts: optional(timestampText),
    eventId: optional(idValue),
    postedBy: optional(idValue),
    v: optional(fc.constantFrom<unknown>(1, 1, 2, '1')),
    instrument: optional(idValue),
    price: optional(decimalText),
    tradeId: optional(idValue),
    buyer: optional(idValue),
    seller: optional(idValue),
    qty: optional(decimalText),
    buyerFee: optional(decimalText),
    sellerFee: optional(decimalText),
    account: optional(idValue),
    asset: optional(idValue),
    amount: optional(decimalText),
    extra: optional(fc.constantFrom<unknown>('x', 1, { a: 1 })),
  })
  .map((r) => {
    // JSON has no undefined: drop the absent fields so the object is what JSON.parse would give
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(r)) if (value !== undefined) out[key] = value;
    return out;
  });

/** The same, biased to valid hot inputs so the fast path is taken often; an id among them sometimes holds a control character. */
const orControl = (...ids: string[]) => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ids) }, { weight: 1, arbitrary: controlCharacterId });
const validHotInput = fc.oneof(
  fc.record({ type: fc.constant('PriceUpdated'), ts: fc.constantFrom('2026-01-02T08:38:30.500Z', '2026-01-01T00:00:00Z'), instrument: orControl('I00-PERP', 'BTC-PERP'), price: fc.constantFrom('100.00', '0.00000001', '42', '1234567.89') }),
  fc.record({ type: fc.constant('TradeExecuted'), ts: fc.constant('2024-02-29T23:59:59.999Z'), tradeId: orControl('t1', 't2'), instrument: orControl('I00-PERP'), buyer: orControl('a'), seller: orControl('b', 'a'), qty: fc.constantFrom('1', '0.5'), price: fc.constant('100'), buyerFee: fc.constantFrom('0', '-0.25', '1.5') }),
  fc.record({ type: fc.constant('Deposited'), ts: fc.constant('2026-01-01T00:00:00.000Z'), eventId: orControl('e1', ''), account: orControl('a'), asset: orControl('USD'), amount: fc.constantFrom('1000', '0') }),
  fc.record({ type: fc.constant('ClockAdvanced'), ts: fc.constantFrom('2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z'), v: fc.constantFrom(1, 2), eventId: fc.option(orControl('e1'), { nil: undefined }) }).map(({ eventId, ...rest }) => (eventId === undefined ? rest : { ...rest, eventId })),
);

describe('fast decoder for the hot inputs', () => {
  it('decodes a bench price update to the schema event: "100.00" → 100 × 10^8 units, ".000Z" → whole seconds', () => {
    const raw = { ts: '2026-01-01T00:00:00.000Z', type: 'PriceUpdated', instrument: 'I00-PERP', price: '100.00' };
    const event = fastDecodeInput(raw);
    expect(event).toEqual({ type: 'PriceUpdated', ts: Date.UTC(2026, 0, 1), instrument: 'I00-PERP', price: 10_000_000_000n });
    expect(event).toEqual(decodeEventBySchema(raw, 'input'));
  });

  it('adds the default fees of a trade as the schema does, and keeps its key order', () => {
    const raw = { type: 'TradeExecuted', ts: '2026-01-01T00:00:00Z', eventId: 'e', tradeId: 't', instrument: 'X', buyer: 'a', seller: 'b', qty: '1', price: '2' };
    const event = fastDecodeInput(raw)!;
    expect(event).toEqual({ type: 'TradeExecuted', ts: Date.UTC(2026, 0, 1), eventId: 'e', tradeId: 't', instrument: 'X', buyer: 'a', seller: 'b', qty: 100_000_000n, price: 200_000_000n, buyerFee: 0n, sellerFee: 0n });
    expect(Object.keys(event)).toEqual(Object.keys(decodeEventBySchema(raw, 'input')));
  });

  it.each([
    ['a JSON number for a decimal', { type: 'PriceUpdated', ts: '2026-01-01T00:00:00Z', instrument: 'X', price: 100 }],
    ['a zero price', { type: 'PriceUpdated', ts: '2026-01-01T00:00:00Z', instrument: 'X', price: '0' }],
    ['an unknown field', { type: 'PriceUpdated', ts: '2026-01-01T00:00:00Z', instrument: 'X', price: '1', size: '1' }],
    ['an offset instead of Z', { type: 'ClockAdvanced', ts: '2026-01-01T00:00:00+00:00' }],
    ['the 30th of February', { type: 'ClockAdvanced', ts: '2026-02-30T00:00:00Z' }],
    ['a trade with itself', { type: 'TradeExecuted', ts: '2026-01-01T00:00:00Z', tradeId: 't', instrument: 'X', buyer: 'a', seller: 'a', qty: '1', price: '1' }],
    ['another input type', { type: 'InstrumentSettled', ts: '2026-01-01T00:00:00Z', instrument: 'X', price: '1' }],
  ])('leaves %s to the schema', (_what, raw) => {
    expect(fastDecodeInput(raw)).toBeUndefined();
  });

  it('keeps the schema\'s error messages (the schema decides every refusal)', () => {
    expect(() => decodeLine('{"type":"PriceUpdated","ts":"2026-01-01T00:00:00Z","instrument":"X","price":"0"}', 'input', 'day.jsonl', 7)).toThrow('day.jsonl:line 7: field "price": must be greater than 0');
  });

  it('agrees with the schema on random valid and invalid inputs: the same event, or the fast path declines', () => {
    fc.assert(
      fc.property(fc.oneof(hotInputLike, validHotInput), (raw) => {
        const fast = fastDecodeInput(raw);
        const schema = bySchema(raw);
        if (fast === undefined) return true;
        expect(schema.error).toBeUndefined();
        expect(fast).toEqual(schema.event);
        expect(Object.keys(fast)).toEqual(Object.keys(schema.event!));
        return true;
      }),
      { numRuns: 3000 },
    );
  });

  it('decodeEvent gives the schema\'s answer on every input, fast or not', () => {
    fc.assert(
      fc.property(fc.oneof(hotInputLike, validHotInput), (raw) => {
        const schema = bySchema(raw);
        if (schema.error !== undefined) expect(() => decodeEvent(raw, 'input')).toThrow(schema.error);
        else expect(decodeEvent(raw, 'input')).toEqual(schema.event);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads decimal prices as the schema does, around the 15-digit limit of the hand-scanned path', () => {
    // "123456789012.345" has 15 digits: 123,456,789,012.345 × 10^8 = 12,345,678,901,234,500,000 units — above 2^53 after
    // scaling, so the hand scan declines and the exact path reads it; "1234567.12345678" has 15 digits and 123,456,712,345,678 units
    const decimal = fc.oneof(
      fc.constantFrom('1', '0.00000001', '1234567.12345678', '12345678.12345678', '123456789012.345', '90071992.54740991', '90071992.54740992', '-0', '007', '1.', '.5', '1e5', '+1', '1.123456789', '--1', '-', ''),
      fc.tuple(fc.boolean(), fc.stringMatching(/^\d{1,18}$/), fc.option(fc.stringMatching(/^\d{0,9}$/), { nil: undefined })).map(([minus, int, frac]) => (minus ? '-' : '') + int + (frac === undefined ? '' : '.' + frac)),
    );
    fc.assert(
      fc.property(decimal, (price) => {
        const raw = { type: 'PriceUpdated', ts: '2026-01-01T00:00:00Z', instrument: 'X', price };
        const fast = fastDecodeInput(raw);
        const schema = bySchema(raw);
        if (fast !== undefined) expect(fast).toEqual(schema.event);
        // a valid positive price of the plain shape is always taken by the fast path
        if (schema.error === undefined && /^\d+(\.\d{1,8})?$/.test(price) && price.replace('.', '').length <= 30) expect(fast).toBeDefined();
      }),
      { numRuns: 5000 },
    );
    expect(fastDecodeInput({ type: 'PriceUpdated', ts: '2026-01-01T00:00:00Z', instrument: 'X', price: '1234567.12345678' })).toMatchObject({ price: 123_456_712_345_678n });
    expect(fastDecodeInput({ type: 'PriceUpdated', ts: '2026-01-01T00:00:00Z', instrument: 'X', price: '123456789012.345' })).toMatchObject({ price: 12_345_678_901_234_500_000n });
  });

  it('parses timestamps as the schema\'s parser does, or declines', () => {
    fc.assert(
      fc.property(timestampText, (text) => {
        const fast = fastTimestamp(text);
        if (fast !== undefined) expect(fast).toBe(parseTimestamp(text as string));
      }),
      { numRuns: 5000 },
    );
    // 2024 is a leap year, 2100 is not: 2024-02-29 is taken, 2100-02-29 is left to the schema's parser
    expect(fastTimestamp('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(fastTimestamp('2100-02-29T00:00:00Z')).toBeUndefined();
  });
});

/** Flat and nested field values of every kind the generic encoder handles. */
const fieldValue = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('"quoted"', 'back\\slash', 'line\nbreak', '\u0000', 'é€😀', '\ud800'),
  fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
  fc.integer({ min: 0, max: 4_102_444_800_000 }),
  fc.double(),
  fc.boolean(),
  fc.constant(undefined),
  fc.constant(null),
  fc.array(fc.record({ account: fc.string({ maxLength: 3 }), amount: fc.bigInt({ min: -1000n, max: 1000n }) }), { maxLength: 2 }),
);
const fieldName = fc.oneof(fc.constantFrom('account', 'price', 'qty', 'deadline', 'expiry', 'v', 'eventId', 'a', 'B', 'é', 'key"1'), fc.string({ maxLength: 5 }).filter((k) => k !== '__proto__'));
const anyEvent = fc
  .tuple(fc.constantFrom('PriceUpdated', 'TradeExecuted', 'MarginCallIssued', 'LossSocialized'), fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.dictionary(fieldName, fieldValue, { maxKeys: 6 }))
  .map(([type, ts, fields]) => {
    const event: Record<string, unknown> = { type, ts };
    for (const [key, value] of Object.entries(fields)) if (key !== 'type' && key !== 'ts') event[key] = value;
    return event as unknown as ClearingEvent;
  });

function outcome(encode: () => string): { line?: string; error?: string } {
  try {
    return { line: encode() };
  } catch (error) {
    return { error: String(error) };
  }
}

describe('decimal bounds: an input\'s and a decision\'s', () => {
  // a trade of qty 10^15 at 10^16 (each within an input's 30 digits) gives a notional of 10^31 and a maintenance
  // margin of 31 digits: the engine writes such a decision, so the log's reader must read it back
  const margin = '4999999999999999999999899983700';

  it('reads a decision whose amounts are beyond an input\'s 30 digits', () => {
    const line = JSON.stringify({ type: 'MarginCallIssued', ts: '2026-01-05T09:01:00Z', account: 'alice', equity: '-' + margin, initialMargin: margin + '0', maintenanceMargin: margin, amount: margin });
    const event = decodeLine(line, 'any') as { maintenanceMargin: bigint; initialMargin: bigint };
    expect(event.maintenanceMargin).toBe(BigInt(margin) * 100_000_000n);
    expect(event.initialMargin).toBe(BigInt(margin + '0') * 100_000_000n);
    expect(encodeEvent(decodeLine(line, 'any'))).toContain(`"maintenanceMargin":"${margin}"`);
  });

  it('still refuses an input beyond 30 digits, naming the field', () => {
    const line = JSON.stringify({ type: 'Deposited', ts: '2026-01-05T09:00:00Z', account: 'a', asset: 'USD', amount: margin });
    expect(() => decodeLine(line, 'input')).toThrow(/field "amount": .*at most 30 digits before the point/);
  });
});

describe('a missing field', () => {
  it('is named as missing, with what was expected, never as "undefined"', () => {
    const refusal = (event: object): string => {
      try {
        decodeLine(JSON.stringify(event), 'input');
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('decoded');
    };
    expect(refusal({ type: 'Deposited', ts: '2026-01-05T09:00:00Z', asset: 'USD', amount: '1' })).toBe('field "account": is missing (expected a string)');
    // a decimal is a string or a number: both are named
    expect(refusal({ type: 'Deposited', ts: '2026-01-05T09:00:00Z', account: 'a', asset: 'USD' })).toBe('field "amount": is missing (expected a string or a number)');
    // a field of a list of values names them (the rules' model)
    expect(refusal({ type: 'RulesActivated', ts: '2026-01-05T09:00:00Z', rules: { name: 'r', accounts: {}, marginCall: { graceSeconds: 0 }, liquidation: { step: '1' }, instruments: {} } })).toContain(
      'field "rules.model": is missing (expected one of "cross", "isolated", "portfolio", "var", "lending")',
    );
    expect(refusal({ type: 'RulesActivated', ts: '2026-01-05T09:00:00Z' })).toBe('field "rules": is missing (expected an object)');
    // a field of the wrong type keeps zod's wording, which names what it got
    expect(refusal({ type: 'Deposited', ts: '2026-01-05T09:00:00Z', account: 7, asset: 'USD', amount: '1' })).toBe('field "account": Invalid input: expected string, received number');
  });
});

describe('what a refusal echoes of the input', () => {
  const refusal = (line: string): string => {
    try {
      decodeLine(line, 'input');
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('decoded');
  };

  it('at most a few dozen characters of a huge type or unknown key, JSON-escaped', () => {
    const huge = 'x'.repeat(1_000_000);
    const type = refusal(JSON.stringify({ type: huge, ts: '2026-01-05T09:00:00Z' }));
    expect(type).toMatch(/^field "type": unknown input event type "x{32}"… \(1000000 characters\)/);
    expect(type.length).toBeLessThan(600);
    const key = refusal(JSON.stringify({ type: 'Deposited', ts: '2026-01-05T09:00:00Z', account: 'a', asset: 'USD', amount: '1', [huge]: 1 }));
    expect(key).toMatch(/^field "x{32}… \(1000000 characters\)": unknown field$/);
    // a control character is escaped, not written raw
    const escape = refusal(JSON.stringify({ type: 'Deposited', ts: '2026-01-05T09:00:00Z', account: 'a', asset: 'USD', amount: '1', 'k\u001b[2J': 1 }));
    expect(escape).toBe('field "k\\u001b[2J": unknown field');
    expect(escape).not.toContain('\u001b');
  });
});

describe('an id with a control character', () => {
  const TS = '2026-01-05T09:00:00Z';
  const refusal = (event: object): string => {
    try {
      decodeLine(JSON.stringify(event), 'input', 'day.jsonl', 3);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('decoded');
  };

  // each class: C0 (NUL, TAB, LF, CR, ESC, US), DEL, C1 (its first, NEL, CSI, its last)
  const hex = (code: number): string => code.toString(16).toUpperCase().padStart(4, '0');
  it.each([0x00, 0x09, 0x0a, 0x0d, 0x1b, 0x1f, 0x7f, 0x80, 0x85, 0x9b, 0x9f].map((code) => [hex(code), code] as const))('U+%s is refused, naming the field, the character and its index, not echoing it', (codeHex, code) => {
    const char = String.fromCharCode(code);
    // a deposit: the fast decoder's shape, so decodeLine tries it first
    const message = refusal({ type: 'Deposited', ts: TS, account: 'a-b' + char + 'c', asset: 'USD', amount: '1' });
    expect(message).toBe(`day.jsonl:line 3: field "account": must not contain control characters (U+${codeHex} at index 3)`);
    expect(message).not.toContain(char);
  });

  it.each<[string, object, string]>([
    ['an instrument of a mark', { type: 'PriceUpdated', ts: TS, instrument: 'BTC\u001b[2J', price: '1' }, 'instrument'],
    ['an eventId', { type: 'ClockAdvanced', ts: TS, eventId: '\u0000' }, 'eventId'],
    ['a tradeId', { type: 'TradeExecuted', ts: TS, tradeId: 't\n1', instrument: 'X', buyer: 'a', seller: 'b', qty: '1', price: '1' }, 'tradeId'],
    ['a seller', { type: 'TradeExecuted', ts: TS, tradeId: 't1', instrument: 'X', buyer: 'a', seller: 'b\t', qty: '1', price: '1' }, 'seller'],
    ['a leg\'s buyer', { type: 'MultiLegTradeExecuted', ts: TS, tradeId: 't1', legs: [{ instrument: 'X', buyer: '\u009ba', seller: 'b', qty: '1', price: '1' }] }, 'legs.0.buyer'],
    ['a mark of a market move', { type: 'MarketMoved', ts: TS, marks: [{ instrument: 'X\u007f', price: '1' }] }, 'marks.0.instrument'],
    ['a settlement asset', { type: 'InstrumentListed', ts: TS, instrument: 'X', kind: 'perpetual', settlementAsset: 'US\u0085D' }, 'settlementAsset'],
    ['a withdrawal\'s requestId', { type: 'WithdrawalRequested', ts: TS, requestId: 'w\r', account: 'a', asset: 'USD', amount: '1' }, 'requestId'],
    ['a token', { type: 'TokenUnitsRedeemed', ts: TS, requestId: 'r', account: 'a', token: 'BULL\u0007', units: '1' }, 'token'],
  ])('in %s: refused at its field', (_what, event, field) => {
    expect(refusal(event)).toMatch(new RegExp(`^day\\.jsonl:line 3: field "${field.replace(/\./g, '\\.')}": must not contain control characters \\(U\\+00[0-9A-F]{2} at index \\d+\\)$`));
  });

  it('in a mark line of the venue\'s or the log\'s layout, where JSON lets DEL and C1 stand raw: left to the schema, which refuses it', () => {
    for (const [char, codeHex] of [['\u007f', '007F'], ['\u0085', '0085'], ['\u009b', '009B']] as const) {
      for (const line of [
        `{"ts":"2026-01-02T08:38:30.500Z","type":"PriceUpdated","instrument":"BTC${char}","price":"142.81"}`,
        `{"type":"PriceUpdated","v":1,"ts":"2026-01-02T08:38:30.500Z","instrument":"BTC${char}","price":"142.81"}`,
      ]) {
        expect(decodePriceLine(line)).toBeUndefined();
        expect(decodePriceBytes(Buffer.from(line), 0, Buffer.byteLength(line))).toBeUndefined();
        expect(() => decodeLine(line, 'input', 'day.jsonl', 3)).toThrow(`day.jsonl:line 3: field "instrument": must not contain control characters (U+${codeHex} at index 3)`);
      }
    }
  });

  it('too long and holding one: both problems named', () => {
    expect(refusal({ type: 'Deposited', ts: TS, account: '\u001b' + 'x'.repeat(200), asset: 'USD', amount: '1' })).toBe(
      'day.jsonl:line 3: field "account": must be at most 128 characters; field "account": must not contain control characters (U+001B at index 0)',
    );
  });

  it('letters of any script, symbols, emoji, a space and the characters next to the control ranges are ids', () => {
    for (const account of ['ünï-😀', 'счёт 1', '口座', 'a b', '~', '\u00a0', '\u00ff', '\u2028', 'x'.repeat(128)]) {
      const raw = { type: 'Deposited', ts: TS, account, asset: 'USD', amount: '1' };
      expect(decodeEventBySchema(raw, 'input')).toMatchObject({ account });
      expect(decodeLine(JSON.stringify(raw), 'input')).toMatchObject({ account });
    }
  });
});

describe('encodeEvent', () => {
  it('writes a price update\'s canonical line by concatenation: type, v, ts first, then the fields in key order', () => {
    const event = { type: 'PriceUpdated', ts: Date.UTC(2026, 0, 2, 8, 38, 30, 500), instrument: 'I01-PERP', price: 14_281_000_000n } as ClearingEvent;
    expect(encodeEvent(event)).toBe('{"type":"PriceUpdated","v":1,"ts":"2026-01-02T08:38:30.500Z","instrument":"I01-PERP","price":"142.81"}');
    expect(encodeEvent(event)).toBe(encodeEventGeneric(event));
    const scoped = { ...event, postedBy: 'kafka', eventId: 'kafka:inputs/0@12' } as ClearingEvent;
    expect(encodeEvent(scoped)).toBe('{"type":"PriceUpdated","v":1,"ts":"2026-01-02T08:38:30.500Z","eventId":"kafka:inputs/0@12","instrument":"I01-PERP","postedBy":"kafka","price":"142.81"}');
    expect(encodeEvent(scoped)).toBe(encodeEventGeneric(scoped));
  });

  it('is byte-identical to the generic encoder on random events, flat or nested', () => {
    fc.assert(
      fc.property(anyEvent, (event) => {
        // a timestamp field that is not a valid time throws in both (RangeError: Invalid time value)
        expect(outcome(() => encodeEvent(event))).toEqual(outcome(() => encodeEventGeneric(event)));
      }),
      { numRuns: 3000 },
    );
  });

  it('is byte-identical to the generic encoder on price updates of the hot shape and near it (the dedicated path)', () => {
    const instrument = fc.oneof(fc.constantFrom('I01-PERP', 'BTC-PERP'), fc.string({ maxLength: 8 }), fc.constantFrom('"quoted"', 'line\nbreak', 'é€😀', '\ud800'));
    const price = fc.oneof(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.constantFrom(1n, 14_281_000_000n));
    // up to two extra fields: the key's id and scope (strings, the Kafka worker's and the server's shape) or anything else
    const extraValue = fc.oneof(fieldValue, fc.constantFrom('kafka', 'kafka:inputs/0@12', 'venue:a-', 'é"\\'));
    const extras = fc.array(fc.tuple(fc.constantFrom('eventId', 'postedBy', 'v', 'a', 'zz'), extraValue), { maxLength: 2 });
    fc.assert(
      fc.property(instrument, price, fc.integer({ min: 0, max: 4_102_444_800_000 }), extras, fc.boolean(), (name, units, ts, more, priceFirst) => {
        const event: Record<string, unknown> = priceFirst ? { price: units, type: 'PriceUpdated', ts, instrument: name } : { type: 'PriceUpdated', ts, instrument: name, price: units };
        for (const [field, value] of more) event[field] = value;
        expect(outcome(() => encodeEvent(event as unknown as ClearingEvent))).toEqual(outcome(() => encodeEventGeneric(event as unknown as ClearingEvent)));
      }),
      { numRuns: 3000 },
    );
  });

  it('encodeEventInto writes the generic encoder\'s bytes, or declines, on price updates of the hot shape and near it', () => {
    // around the hand-written digits: whole prices, 1–8 decimals with trailing zeros dropped (142.81 = 14,281,000,000 units), 2^53 − 1 and 2^53 units;
    // 8,999,999,999,999,999 units / 10^8 = 89,999,999.99999999: 10^-8 below an integer, the closest a quotient of these units comes to one
    const instrument = fc.oneof(fc.constantFrom('I01-PERP', 'BTC-PERP'), fc.string({ maxLength: 8 }), fc.constantFrom('"quoted"', 'line\nbreak', 'é€😀', '\ud800', 'x'.repeat(128)));
    const price = fc.oneof(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.bigInt({ min: 1n, max: 2n ** 53n + 2n }), fc.constantFrom(1n, 10n ** 8n, 14_281_000_000n, 2n ** 53n - 1n, 2n ** 53n, 0n, 8_999_999_999_999_999n, 9_000_000_000_000_000n, 100_000_001n));
    // extra fields: the ids the Kafka worker and the server add (Kafka coordinates, scopes, ids JSON must escape) and others
    const id = fc.oneof(fieldValue, fc.constantFrom('kafka:inputs/0@12', 'kafka', 'venue:a-', 'a"b', 'a\\b', 'é', '', 'x'.repeat(128)));
    const extra = fc.array(fc.tuple(fc.constantFrom('eventId', 'postedBy', 'eventId', 'postedBy', 'v', 'a', 'zz'), id), { maxLength: 2 });
    const out = new Uint8Array(1024);
    let written = 0;
    // times: any millisecond, whole seconds (no ".000"), whole minutes, and the far ends of a Date (extended years, before 1970)
    const time = fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.integer({ min: 0, max: 4_102_444_800 }).map((s) => s * 1000), fc.integer({ min: 0, max: 68_374_080 }).map((m) => m * 60_000), fc.integer({ min: -8.64e15, max: 8.64e15 }));
    fc.assert(
      fc.property(instrument, price, time, extra, fc.boolean(), fc.nat(700), (name, units, ts, more, priceFirst, at) => {
        const event: Record<string, unknown> = priceFirst ? { price: units, type: 'PriceUpdated', ts, instrument: name } : { type: 'PriceUpdated', ts, instrument: name, price: units };
        for (const [key, value] of more) event[key] = value;
        out.fill(0);
        const end = encodeEventInto(event as unknown as ClearingEvent, out, at);
        if (end < 0) return;
        written++;
        expect(Buffer.from(out.subarray(at, end)).toString('latin1')).toBe(encodeEventGeneric(event as unknown as ClearingEvent));
        expect(out[end]).toBe(0); // nothing past the end
      }),
      { numRuns: 3000 },
    );
    expect(written).toBeGreaterThan(100); // the fast path did write some (most events have an extra field or a price it declines)
    const event = { type: 'PriceUpdated', ts: Date.UTC(2026, 0, 2, 8, 38, 30, 500), instrument: 'I01-PERP', price: 14_281_000_000n } as ClearingEvent;
    const end = encodeEventInto(event, out, 0);
    expect(Buffer.from(out.subarray(0, end)).toString('latin1')).toBe('{"type":"PriceUpdated","v":1,"ts":"2026-01-02T08:38:30.500Z","instrument":"I01-PERP","price":"142.81"}');
    expect(encodeEventInto(event, out, 1024 - 100)).toBe(-1); // not enough room: declined
    // just below a whole price: 8,999,999,999,999,999 units = 89,999,999.99999999 (the integer part is the quotient's floor, 89,999,999)
    const nearWhole = { ...event, ts: Date.UTC(2026, 0, 2, 8, 38, 7), price: 8_999_999_999_999_999n } as ClearingEvent;
    const nearEnd = encodeEventInto(nearWhole, out, 0);
    expect(Buffer.from(out.subarray(0, nearEnd)).toString('latin1')).toBe('{"type":"PriceUpdated","v":1,"ts":"2026-01-02T08:38:07Z","instrument":"I01-PERP","price":"89999999.99999999"}');
    // as the Kafka worker logs it: its scope and its coordinates, in key order (eventId, instrument, postedBy, price)
    const scoped = { ...event, postedBy: 'kafka', eventId: 'kafka:inputs/0@2004' } as ClearingEvent;
    const scopedEnd = encodeEventInto(scoped, out, 0);
    expect(Buffer.from(out.subarray(0, scopedEnd)).toString('latin1')).toBe('{"type":"PriceUpdated","v":1,"ts":"2026-01-02T08:38:30.500Z","eventId":"kafka:inputs/0@2004","instrument":"I01-PERP","postedBy":"kafka","price":"142.81"}');
    expect(encodeEventInto({ ...scoped, eventId: 'a"b' } as ClearingEvent, out, 0)).toBe(-1); // an id JSON escapes: declined (encodeEvent writes it)
  });

  it('encodeEventForLog gives encodeEvent\'s line: for a decision, the one encodeEventRemembered gave for the same object, once', () => {
    const decision = (account: string) => ({ type: 'LiquidationStarted', ts: Date.UTC(2026, 0, 2, 8, 38, 30), account, instrument: 'I01-PERP', reason: 'maintenance' }) as unknown as ClearingEvent;
    const [d1, d2, d3] = [decision('acct1'), decision('acct2'), decision('acct3')];
    const hashed = [d1, d2, d3].map(encodeEventRemembered);
    expect(hashed).toEqual([d1, d2, d3].map(encodeEvent));
    // an input between them (a trade the log appends) is encoded now and drops nothing
    const input = { type: 'Deposited', ts: Date.UTC(2026, 0, 2), account: 'acct1', asset: 'USD', amount: 100_000_000n } as ClearingEvent;
    expect(encodeEventForLog(input)).toBe(encodeEventGeneric(input));
    // the remembered lines are the ones given (seen by changing the objects after they were hashed: no log does that)
    for (const d of [d1, d2, d3]) (d as unknown as Record<string, unknown>).reason = 'changed';
    expect(encodeEventForLog(d2)).toBe(hashed[1]); // d1, decided before d2, is dropped with it
    expect(encodeEventForLog(d1)).toBe(encodeEvent(d1)); // so d1 is encoded as it is now
    expect(encodeEventForLog(d1)).toContain('"reason":"changed"');
    expect(encodeEventForLog(d3)).toBe(encodeEvent(d3)); // d1 (not kept) emptied the ring: encoded now too
    // past the lines kept (8,192), the oldest are overwritten: still encodeEvent's line
    const many = Array.from({ length: 8_200 }, (_, i) => decision(`acct${i}`));
    many.forEach((d) => encodeEventRemembered(d));
    expect(many.map(encodeEventForLog)).toEqual(many.map(encodeEventGeneric));
    fc.assert(
      fc.property(anyEvent, fc.boolean(), (event, remembered) => {
        const expected = outcome(() => encodeEventGeneric(event));
        if (remembered) expect(outcome(() => encodeEventRemembered(event))).toEqual(expected);
        expect(outcome(() => encodeEventForLog(event))).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips decoded hot inputs through the same bytes as the generic encoder', () => {
    fc.assert(
      fc.property(validHotInput, (raw) => {
        const decoded = bySchema(raw);
        if (decoded.event) expect(encodeEvent(decoded.event)).toBe(encodeEventGeneric(decoded.event));
      }),
    );
  });
});

describe('formatTimestamp', () => {
  const byDate = (ts: number): string => {
    const iso = new Date(ts).toISOString();
    return iso.endsWith('.000Z') ? iso.slice(0, -5) + 'Z' : iso;
  };

  it('writes seconds and milliseconds after a kept minute: 08:38:30.500, then 08:38:31, then 08:38:31.007', () => {
    const minute = Date.UTC(2026, 0, 2, 8, 38);
    expect(formatTimestamp(minute + 30_500)).toBe('2026-01-02T08:38:30.500Z');
    expect(formatTimestamp(minute + 31_000)).toBe('2026-01-02T08:38:31Z');
    expect(formatTimestamp(minute + 31_007)).toBe('2026-01-02T08:38:31.007Z');
    expect(formatTimestamp(minute + 59_999)).toBe('2026-01-02T08:38:59.999Z');
  });

  it('formats like Date.toISOString on any sequence of times, within a minute, across it, fractional or out of range', () => {
    const base = fc.integer({ min: -8.64e15, max: 8.64e15 });
    const step = fc.oneof(fc.integer({ min: -2000, max: 70_000 }), fc.double({ min: -5, max: 5, noNaN: true }), fc.constantFrom(1, 8.64e15, NaN));
    fc.assert(
      fc.property(base, fc.array(step, { maxLength: 10 }), (start, steps) => {
        let ts = start;
        for (const s of [0, ...steps]) {
          ts = s === 8.64e15 ? s : Number.isNaN(s) ? s : ts + s;
          const expected = outcome(() => byDate(ts));
          expect(outcome(() => formatTimestamp(ts))).toEqual(expected);
          if (Number.isNaN(ts)) ts = start;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseFlatStringObject', () => {
  it('splits a bench price update line like JSON.parse', () => {
    const line = '{"ts":"2026-01-02T08:38:30.500Z","type":"PriceUpdated","instrument":"I01-PERP","price":"142.81"}';
    expect(parseFlatStringObject(line)).toEqual({ ts: '2026-01-02T08:38:30.500Z', type: 'PriceUpdated', instrument: 'I01-PERP', price: '142.81' });
  });

  it.each([
    ['a number', '{"price":100}'],
    ['a space', '{"a":"b", "c":"d"}'],
    ['an escape', '{"a":"b\\"c"}'],
    ['trailing text', '{"a":"b"}x'],
    ['a __proto__ key', '{"__proto__":"x"}'],
    ['a nested object', '{"a":{"b":"c"}}'],
    ['an unterminated string', '{"a":"b'],
  ])('leaves %s to JSON.parse', (_what, line) => {
    expect(parseFlatStringObject(line)).toBeUndefined();
  });

  it('gives JSON.parse\'s object (keys and their order) or declines, on random and damaged lines', () => {
    // (the hot inputs' keys, which the parser hands out as constants, and strings one character off them)
    const text = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('0', '1', '__proto__', 'constructor', 'é', 'a"b', '\u2028', '\ud800', 'ts', 'type', 'price', 'instrument', 'sellerFee', 'tx', 'typ', 'prices', 'instrumenT'));
    const value = fc.oneof(text, fc.integer(), fc.constant(null), fc.constant({ x: '1' }));
    const line = fc.array(fc.tuple(text, value), { maxLength: 6 }).map((pairs) => '{' + pairs.map(([k, v]) => JSON.stringify(k) + ':' + JSON.stringify(v)).join(',') + '}');
    const damaged = fc.tuple(line, fc.nat(), fc.constantFrom('', ' ', '"', '\\', ',', '}', '{', ':', '\u0001')).map(([l, at, insert]) => l.slice(0, at % (l.length + 1)) + insert + l.slice(at % (l.length + 1)));
    fc.assert(
      fc.property(fc.oneof(line, damaged), (input) => {
        const fast = parseFlatStringObject(input);
        if (fast === undefined) return;
        const parsed = JSON.parse(input) as Record<string, unknown>;
        expect(fast).toEqual(parsed);
        expect(Object.keys(fast)).toEqual(Object.keys(parsed));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('decodePriceLine', () => {
  it('decodes a bench mark line in one scan: "142.81" → 14,281,000,000 units, 08:38:30.500 → its milliseconds', () => {
    const line = '{"ts":"2026-01-02T08:38:30.500Z","type":"PriceUpdated","instrument":"I01-PERP","price":"142.81"}';
    expect(decodePriceLine(line)).toEqual({ type: 'PriceUpdated', ts: Date.UTC(2026, 0, 2, 8, 38, 30, 500), instrument: 'I01-PERP', price: 14_281_000_000n });
    expect(decodeLine(line, 'input')).toEqual(decodePriceLine(line));
  });

  it('decodes the log\'s stored form of the same mark (canonical JSON: type, version, ts, instrument, price) to the same event', () => {
    const stored = '{"type":"PriceUpdated","v":1,"ts":"2026-01-02T08:38:30.500Z","instrument":"I01-PERP","price":"142.81"}';
    expect(decodePriceLine(stored)).toEqual({ type: 'PriceUpdated', ts: Date.UTC(2026, 0, 2, 8, 38, 30, 500), instrument: 'I01-PERP', price: 14_281_000_000n });
    expect(decodePriceLine(stored)).toEqual(decodeEventBySchema(JSON.parse(stored), 'any'));
    // another version is not this fast path's to judge: the schema refuses it
    expect(decodePriceLine(stored.replace('"v":1', '"v":2'))).toBeUndefined();
  });

  it('gives the schema\'s event for the same line, or declines (then the general path decides, errors included)', () => {
    // lines of the exact hot layout with valid and invalid parts, and the same lines damaged by one character
    const price = fc.oneof(fc.constantFrom('142.81', '0.00000001', '1', '100.00', '-5', '0', '0.0', '1.', '.5', '1e3', '007.5', '123456789012345', '1234567890123456', '90071992.54740991', '1.123456789', ''), fc.integer({ min: 0, max: 1e9 }).map(String));
    // (a control character written raw: JSON may hold DEL and C1 so, not C0)
    const instrument = fc.oneof({ weight: 2, arbitrary: fc.constantFrom('I01-PERP', 'BTC-PERP', '', 'x'.repeat(128), 'x'.repeat(129), 'é€😀', 'a"b', 'a\\b', '\u00a0') }, fc.string({ maxLength: 6 }), controlCharacterId);
    // (several in one minute: after one is parsed in full, the others' seconds and milliseconds are read against its minute)
    const ts = fc.oneof(timestampText, fc.constantFrom('2026-01-02T08:38:30.500Z', '2026-01-02T08:38:30Z', '2026-01-02T08:38:59.999Z', '2026-01-02T08:38:60Z', '2026-01-02T08:38:07.5Z', '2026-01-02T08:38:07.05xZ', '2026-01-02T08:38:0a.000Z', '2026-01-02T08:38:31.000Z'));
    // the venue's layout, and the log's (canonical JSON, with the version: replay reads it), whose version may be wrong
    const version = fc.constantFrom('1', '1', '1', '2', '"1"', '01');
    const line = fc.oneof(
      fc.tuple(ts, instrument, price).map(([t, i, p]) => `{"ts":"${t}","type":"PriceUpdated","instrument":"${i}","price":"${p}"}`),
      fc.tuple(ts, instrument, price, version).map(([t, i, p, v]) => `{"type":"PriceUpdated","v":${v},"ts":"${t}","instrument":"${i}","price":"${p}"}`),
    );
    const damaged = fc.tuple(line, fc.nat(), fc.constantFrom('', ' ', '"', '\\', ',', '}', '0', '.', '-', '\u0001')).map(([l, at, insert]) => l.slice(0, at % (l.length + 1)) + insert + l.slice(at % (l.length + 1)));
    let decoded = 0;
    let decodedStored = 0;
    fc.assert(
      fc.property(fc.oneof(line, damaged), (text) => {
        const fast = decodePriceLine(text);
        if (fast === undefined) return;
        if (text.startsWith('{"ts"')) decoded++;
        else decodedStored++;
        let raw: unknown;
        try {
          raw = JSON.parse(text);
        } catch {
          throw new Error(`decodePriceLine took a line JSON.parse refuses: ${text}`);
        }
        expect(bySchema(raw)).toEqual({ event: fast });
      }),
      // (a quarter of the instruments hold a control character, which no line decodes: 7,000 runs decode about as many lines as 5,000 did without them)
      { numRuns: 7000 },
    );
    // the fast path did decode some of each layout
    expect(decoded).toBeGreaterThan(20);
    expect(decodedStored).toBeGreaterThan(20);
  });
});

describe('decodePriceBytes', () => {
  it('decodes a bench mark line from its bytes, in the middle of a buffer: the event decodePriceLine gives', () => {
    const line = '{"ts":"2026-01-02T08:38:30.500Z","type":"PriceUpdated","instrument":"I01-PERP","price":"142.81"}';
    const bytes = Buffer.from(`xx\n${line}\nyy`);
    const event = decodePriceBytes(bytes, 3, 3 + line.length);
    expect(event).toEqual({ type: 'PriceUpdated', ts: Date.UTC(2026, 0, 2, 8, 38, 30, 500), instrument: 'I01-PERP', price: 14_281_000_000n });
    // the same instrument's bytes again: the same string, not a new one (and no string of the line is made)
    expect(decodePriceBytes(bytes, 3, 3 + line.length)!.instrument).toBe(event!.instrument);
    // one byte short of the line (the closing brace cut off): declined
    expect(decodePriceBytes(bytes, 3, 2 + line.length)).toBeUndefined();
  });

  it('names the instrument of the bytes it reads when the reader reuses its buffer, colliding instruments included', () => {
    // "PAa-PERP" and "PBB-PERP" hash alike (h·31 + c: 'A'·31 + 'a' = 65·31 + 97 = 2,112 = 66·31 + 66 = 'B'·31 + 'B'), so
    // they share a slot of the instrument cache; the reader overwrites its buffer with the next chunk's lines, so what
    // the cache compares with must be its own copy (a view of the buffer would now read "PBB" and answer "PAa-PERP")
    const line = (instrument: string) => `{"ts":"2026-01-02T08:38:30.500Z","type":"PriceUpdated","instrument":"${instrument}","price":"142.81"}`;
    const buffer = Buffer.from(line('PAa-PERP'));
    expect(decodePriceBytes(buffer, 0, buffer.length)!.instrument).toBe('PAa-PERP');
    buffer.write(line('PBB-PERP'), 0);
    expect(decodePriceBytes(buffer, 0, buffer.length)!.instrument).toBe('PBB-PERP');
    buffer.write(line('PAa-PERP'), 0);
    expect(decodePriceBytes(buffer, 0, buffer.length)!.instrument).toBe('PAa-PERP');
    // any sequence of lines of colliding and other instruments, each read into the same reused buffer
    const instrument = fc.constantFrom('PAa-PERP', 'PBB-PERP', 'PAaAa-PERP', 'PBBBB-PERP', 'PAaBB-PERP', 'I01-PERP', 'I02-PERP');
    fc.assert(
      fc.property(fc.array(fc.tuple(instrument, fc.nat(8)), { minLength: 1, maxLength: 30 }), (lines) => {
        const reused = Buffer.alloc(256);
        for (const [name, at] of lines) {
          const text = line(name);
          reused.fill(0x20);
          reused.write(text, at);
          expect(decodePriceBytes(reused, at, at + text.length)).toEqual(decodeLine(text, 'input'));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives decodeLine\'s event for the line\'s UTF-8 text, or declines (then decodeLine takes the text)', () => {
    // mark lines of the hot layout with valid and invalid parts (non-ASCII, invalid UTF-8, timestamps in one minute
    // and across minutes, so the byte caches of the last timestamp and minute are exercised), and damaged copies
    const price = fc.oneof(fc.constantFrom('142.81', '0.00000001', '1', '100.00', '-5', '0', '0.0', '1.', '.5', '1e3', '007.5', '123456789012345', '1234567890123456', '90071992.54740991', '1.123456789', ''), fc.integer({ min: 0, max: 1e9 }).map(String));
    const instrument = fc.oneof({ weight: 2, arbitrary: fc.constantFrom('I01-PERP', 'I02-PERP', 'BTC-PERP', '', 'x'.repeat(128), 'x'.repeat(129), 'é€😀', 'a"b', 'a\\b', 'a~b', '\u007f') }, fc.string({ maxLength: 6 }), controlCharacterId);
    const ts = fc.oneof(timestampText, fc.constantFrom('2026-01-02T08:38:30.500Z', '2026-01-02T08:38:30Z', '2026-01-02T08:38:59.999Z', '2026-01-02T08:38:60Z', '2026-01-02T08:38:07.5Z', '2026-01-02T08:38:07.05xZ', '2026-01-02T08:38:0a.000Z', '2026-01-02T08:38:31.000Z', '2026-01-02T08:39:00.000Z', '2026-01-02T08:38:31.000Y', '2026-01-02T08:38:31.0é0Z'));
    const line = fc.tuple(ts, instrument, price).map(([t, i, p]) => Buffer.from(`{"ts":"${t}","type":"PriceUpdated","instrument":"${i}","price":"${p}"}`));
    const damaged = fc.tuple(line, fc.nat(), fc.constantFrom(0x20, 0x22, 0x5c, 0x2c, 0x7d, 0x30, 0x2e, 0x01, 0xff, 0xc3)).map(([l, at, byte]) => {
      const cut = at % (l.length + 1);
      return Buffer.concat([l.subarray(0, cut), Buffer.of(byte), l.subarray(cut)]);
    });
    // and well-formed lines, a stream of them in and across minutes (most of a real file)
    const clean = fc
      .tuple(fc.constantFrom('2026-01-02T08:38:30.500Z', '2026-01-02T08:38:30Z', '2026-01-02T08:38:59.999Z', '2026-01-02T08:39:00.250Z', '2026-01-03T00:00:01Z'), fc.constantFrom('I01-PERP', 'I02-PERP', 'BTC-PERP'), fc.constantFrom('142.81', '1', '0.00000001', '100.00', '90071992.5474099'))
      .map(([t, i, p]) => Buffer.from(`{"ts":"${t}","type":"PriceUpdated","instrument":"${i}","price":"${p}"}`));
    let decoded = 0;
    fc.assert(
      fc.property(fc.oneof(line, damaged, clean), fc.nat(3), (bytes, offset) => {
        const padded = Buffer.concat([Buffer.alloc(offset, 0x7b), bytes, Buffer.of(0x7d)]);
        const fast = decodePriceBytes(padded, offset, offset + bytes.length);
        // the same line read into fields (the decode thread's way: no event object): the same answer and fields
        const fields = new PriceFields();
        expect(decodePriceBytesInto(padded, offset, offset + bytes.length, fields)).toBe(fast !== undefined);
        if (fast === undefined) return;
        decoded++;
        expect(decodeLine(bytes.toString('utf8'), 'input')).toEqual(fast);
        expect({ ts: fields.ts, instrument: fields.instrument, price: BigInt(fields.units) }).toEqual({ ts: fast.ts, instrument: fast.instrument, price: fast.price });
        // and encoded from the fields: encodeEventInto's bytes and layout of the event, at any offset
        const fromEvent = new Uint8Array(600);
        const fromFields = new Uint8Array(600);
        const end = encodeEventInto(fast, fromEvent, offset);
        const layout = [...ENCODED_INTO_LAYOUT];
        expect(encodePriceFieldsInto(fields, fromFields, offset)).toBe(end);
        expect([...ENCODED_INTO_LAYOUT]).toEqual(layout);
        expect(Buffer.from(fromFields).equals(Buffer.from(fromEvent))).toBe(true);
      }),
      { numRuns: 5000 },
    );
    expect(decoded).toBeGreaterThan(100); // the fast path did decode some
  });
});

describe('decodePriceUpdateBytes', () => {
  it('decodes the type-first layouts (encodeEvent\'s, with "v":1, and JSON.stringify\'s) and the ts-first one to decodeLine\'s event', () => {
    const event = { type: 'PriceUpdated', ts: Date.UTC(2026, 0, 2, 8, 38, 30, 500), instrument: 'I01-PERP', price: 14_281_000_000n };
    const canonical = encodeEvent(event as PriceUpdated); // {"type":"PriceUpdated","v":1,"ts":"2026-01-02T08:38:30.500Z","instrument":"I01-PERP","price":"142.81"}
    const stringified = JSON.stringify({ type: 'PriceUpdated', ts: '2026-01-02T08:38:30.500Z', instrument: 'I01-PERP', price: '142.81' });
    const tsFirst = '{"ts":"2026-01-02T08:38:30.500Z","type":"PriceUpdated","instrument":"I01-PERP","price":"142.81"}';
    for (const text of [canonical, stringified, tsFirst]) {
      const bytes = Buffer.from(`xx${text}yy`);
      expect(decodePriceUpdateBytes(bytes, 2, 2 + text.length)).toEqual(event);
      expect(decodeLine(text, 'input')).toEqual(event);
    }
    // a version other than 1, a key out of order, an id the worker sets: declined (decodeLine decides)
    for (const text of [canonical.replace('"v":1', '"v":2'), canonical.replace('"v":1,', '"v":1 ,'), stringified.replace('"ts":', '"eventId":"e-1","ts":')]) {
      expect(decodePriceUpdateBytes(Buffer.from(text), 0, text.length)).toBeUndefined();
    }
  });

  it('gives decodeLine\'s event for the text, or declines, on type-first lines valid, invalid and damaged', () => {
    const price = fc.oneof(fc.constantFrom('142.81', '0.00000001', '1', '100.00', '-5', '0', '0.0', '1.', '.5', '1e3', '007.5', '123456789012345', '1234567890123456', '90071992.54740991', '1.123456789', ''), fc.integer({ min: 0, max: 1e9 }).map(String));
    const instrument = fc.oneof({ weight: 2, arbitrary: fc.constantFrom('I01-PERP', 'I02-PERP', 'BTC-PERP', '', 'x'.repeat(128), 'x'.repeat(129), 'é€😀', 'a"b', 'a\\b', 'a~b', '\u007f') }, fc.string({ maxLength: 6 }), controlCharacterId);
    const ts = fc.oneof(timestampText, fc.constantFrom('2026-01-02T08:38:30.500Z', '2026-01-02T08:38:30Z', '2026-01-02T08:38:59.999Z', '2026-01-02T08:38:60Z', '2026-01-02T08:38:07.5Z', '2026-01-02T08:38:0a.000Z', '2026-01-02T08:39:00.000Z', '2026-01-02T08:38:31.000Y'));
    const version = fc.constantFrom('', '"v":1,', '"v":2,', '"v":0,', '"v":"1",', '"v":1.0,');
    const line = fc.tuple(version, ts, instrument, price).map(([v, t, i, p]) => Buffer.from(`{"type":"PriceUpdated",${v}"ts":"${t}","instrument":"${i}","price":"${p}"}`));
    const damaged = fc.tuple(line, fc.nat(), fc.constantFrom(0x20, 0x22, 0x5c, 0x2c, 0x7d, 0x30, 0x2e, 0x01, 0xff, 0xc3, 0x76)).map(([l, at, byte]) => {
      const cut = at % (l.length + 1);
      return Buffer.concat([l.subarray(0, cut), Buffer.of(byte), l.subarray(cut)]);
    });
    const clean = fc
      .tuple(fc.constantFrom('', '"v":1,'), fc.constantFrom('2026-01-02T08:38:30.500Z', '2026-01-02T08:38:30Z', '2026-01-02T08:39:00.250Z'), fc.constantFrom('I01-PERP', 'BTC-PERP'), fc.constantFrom('142.81', '1', '0.00000001', '9950'))
      .map(([v, t, i, p]) => Buffer.from(`{"type":"PriceUpdated",${v}"ts":"${t}","instrument":"${i}","price":"${p}"}`));
    let decoded = 0;
    let decodedStored = 0;
    fc.assert(
      fc.property(fc.oneof(line, damaged, clean), fc.nat(3), (bytes, offset) => {
        // padded with bytes a message's neighbours in a fetched buffer could hold
        const padded = Buffer.concat([Buffer.alloc(offset, 0x7b), bytes, Buffer.from('"}')]);
        const fast = decodePriceUpdateBytes(padded, offset, offset + bytes.length);
        // the log's line: the JSON's brace is the comma after the crc member, the next line's bytes follow
        const stored = Buffer.concat([Buffer.from('"crc":"00000000"'), bytes, Buffer.from('\n{"position":')]);
        const storedAt = '"crc":"00000000"'.length;
        stored[storedAt] = 0x2c;
        const fromLog = decodeStoredPriceUpdateBytes(stored, storedAt + 1, storedAt + bytes.length);
        if (bytes[0] !== 0x7b || !bytes.subarray(1).toString('latin1').startsWith('"type"')) expect(fromLog).toBeUndefined();
        else expect(fromLog).toEqual(fast);
        if (fast === undefined) return;
        decoded++;
        expect(decodeLine(bytes.toString('utf8'), 'input')).toEqual(fast);
        if (fromLog !== undefined) decodedStored++;
      }),
      { numRuns: 5000 },
    );
    expect(decoded).toBeGreaterThan(100);
    expect(decodedStored).toBeGreaterThan(100);
  });
});

describe('writeDecimalDigits', () => {
  const written = (n: number, at = 3): { text: string; end: number; before: number[]; after: number } => {
    const out = new Uint8Array(at + 24).fill(0x7e);
    const end = writeDecimalDigits(out, at, n);
    return { text: Buffer.from(out.subarray(at, end)).toString('latin1'), end, before: [...out.subarray(0, at)], after: out[end]! };
  };

  it('writes the digits of String(n) from `at`, answers their end and touches nothing else', () => {
    // the int32 path and its edge, the exact path past 2^31, up to the largest safe integer
    for (const n of [0, 7, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 1e15, 2 ** 53 - 1]) {
      const { text, end, before, after } = written(n);
      expect(text).toBe(String(n));
      expect(end).toBe(3 + String(n).length);
      expect(before).toEqual([0x7e, 0x7e, 0x7e]);
      expect(after).toBe(0x7e);
    }
  });

  it('agrees with String(n) on any non-negative safe integer', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.maxSafeNat()), fc.nat(8), (n, at) => {
        const { text, end } = written(n, at);
        expect(text).toBe(String(n));
        expect(end).toBe(at + String(n).length);
      }),
      { numRuns: 3000 },
    );
  });
});
