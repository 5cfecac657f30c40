import fc from 'fast-check';
import { decodeLine } from './codec';
import { jsonTextProblem, MAX_JSON_DEPTH, pathAt } from './json-limits';

describe('JSON text bounds: nesting and inexact numbers, refused before JSON.parse', () => {
  const nested = (depth: number, leaf = '1') => '['.repeat(depth) + leaf + ']'.repeat(depth);

  it('refuses nesting deeper than 32 levels, naming the field that holds it', () => {
    // depth 5,000 inside rules once ran out of stack (500 "Maximum call stack size exceeded")
    const deepRules = `{"type":"RulesActivated","ts":"2026-01-01T00:00:00Z","rules":{"x":${nested(5000)}}}`;
    // levels: the event 1, rules 2, then the arrays: the 31st array is level 33
    expect(jsonTextProblem(deepRules)).toEqual({ field: 'rules.x' + '[0]'.repeat(30), message: 'nested deeper than 32 levels' });
    expect(() => decodeLine(deepRules, 'input', 'day.jsonl', 9)).toThrow(/^day\.jsonl:line 9: field "rules\.x\[0\]/);
    const deepExtra = `{"type":"ClockAdvanced","ts":"2026-01-01T00:00:00Z","extra":${nested(10_000, '{}')}}`;
    expect(() => decodeLine(deepExtra, 'input')).toThrow(/nested deeper than 32 levels/);
  });

  it('accepts exactly 32 levels', () => {
    expect(jsonTextProblem(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(jsonTextProblem(nested(MAX_JSON_DEPTH + 1))?.message).toBe('nested deeper than 32 levels');
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(jsonTextProblem(`{"a":"${'['.repeat(100)}\\"${'{'.repeat(100)}"}`)).toBeUndefined();
  });

  it.each([
    // JSON.parse reads 12345678901234567890 as 12345678901234567000: refused, with the decimal string to send instead
    ['{"amount":12345678901234567890}', 'amount', 'the JSON number 12345678901234567890 cannot be represented exactly: send it as a decimal string ("12345678901234567890")'],
    ['{"a":{"b":[1,2,1234567890.123456]}}', 'a.b[2]', 'the JSON number 1234567890.123456 cannot be represented exactly: send it as a decimal string ("1234567890.123456")'],
    ['[{"price":1},{"price":0.1234567890123456}]', '[1].price', 'the JSON number 0.1234567890123456 cannot be represented exactly: send it as a decimal string ("0.1234567890123456")'],
    ['{"fee":1e-400}', 'fee', 'the JSON number 1e-400 cannot be represented exactly: send it as a decimal string ("1e-400")'], // a float64 underflows to 0
    ['{"fee":1e400}', 'fee', 'the JSON number 1e400 cannot be represented exactly: send it as a decimal string ("1e400")'], // … overflows to Infinity
  ])('refuses the inexact number in %s', (text, field, message) => {
    expect(jsonTextProblem(text)).toEqual({ field, message });
  });

  it.each([
    ['{"amount":123456789012345}'], // 15 digits
    ['{"amount":123456789012345000000}'], // 15 significant digits, then zeros: 1.23456789012345e+20 exactly
    ['{"amount":0.000000000000000000001}'], // leading zeros are not significant
    ['{"amount":-1.5e300,"b":0e99999}'],
    ['{"text":"12345678901234567890","n":null,"t":true}'], // digits in a string are not a number
  ])('accepts %s', (text) => {
    expect(jsonTextProblem(text)).toBeUndefined();
  });

  it('every number it accepts is the decimal its text spells after JSON.parse', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^-?(0|[1-9]\d{0,20})(\.\d{1,20})?([eE][+-]?\d{1,3})?$/), (token) => {
        if (jsonTextProblem(token) !== undefined) return;
        const parsed = JSON.parse(token) as number;
        expect(Number.isFinite(parsed)).toBe(true);
        // the float64's shortest text has the same value as the token (compared as exact decimals via BigInt scaling)
        expect(decimalValue(String(parsed))).toEqual(decimalValue(token));
      }),
      { numRuns: 3000, seed: 10 },
    );
  });

  it('finds the true depth of any JSON text, whatever its strings hold (quotes, backslashes, brackets)', () => {
    const junk = fc.string({ unit: fc.constantFrom('"', '\\', '[', ']', '{', '}', 'a', 'é', '\n', ','), maxLength: 8 });
    const tree = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, junk, fc.integer({ min: -1000, max: 1000 }), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(junk, tie('node'), { maxKeys: 3 })),
    })).node;
    const depthOf = (value: unknown): number => (typeof value === 'object' && value !== null ? 1 + Math.max(0, ...Object.values(value).map(depthOf)) : 0);
    // nests a tree n more levels down, so both sides of the bound are reached
    const deepened = fc.tuple(tree, fc.integer({ min: 0, max: 40 })).map(([value, n]) => {
      let out = value;
      for (let i = 0; i < n; i++) out = i % 2 === 0 ? [out] : { k: out };
      return out;
    });
    fc.assert(
      fc.property(deepened, (value) => {
        const problem = jsonTextProblem(JSON.stringify(value));
        expect(problem?.message === 'nested deeper than 32 levels').toBe(depthOf(value) > MAX_JSON_DEPTH);
        expect(problem === undefined || problem.message.startsWith('nested')).toBe(true);
      }),
      { numRuns: 2000, seed: 10 },
    );
  });

  it('names fields through escaped keys and nested arrays', () => {
    const text = '{"a\\"b":[{"c":[0,{"d":1}]}]}';
    expect(pathAt(text, text.indexOf('1'))).toBe('a"b[0].c[1].d');
  });

  it('the JSONL codec refuses in O(length): a 1 MB number is decided without parsing it', () => {
    const line = `{"type":"Deposited","ts":"2026-01-01T00:00:00Z","account":"a","asset":"USD","amount":1${'0'.repeat(1_000_000)}1}`;
    expect(() => decodeLine(line, 'input')).toThrow(/field "amount": the JSON number 1000/);
  });
});

/** A decimal text as [digits without leading/trailing zeros, power of ten], to compare values exactly. */
function decimalValue(text: string): [string, number] {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text)!;
  const digits = (m[2]! + (m[3] ?? '')).replace(/^0+/, '');
  let exponent = Number(m[4] ?? 0) - (m[3] ?? '').length + 0; // + 0: "1e-0" gives -0
  let trimmed = digits;
  while (trimmed.endsWith('0')) {
    trimmed = trimmed.slice(0, -1);
    exponent++;
  }
  return trimmed === '' ? ['0', 0] : [m[1] + trimmed, exponent];
}
