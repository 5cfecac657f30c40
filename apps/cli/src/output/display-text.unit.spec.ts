import { displayText, escapeControls, quotedText } from './display-text';

/** Any character a terminal would act on or not show as itself: none may be left in what is printed. */
const RAW_SPECIAL = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

describe('displayText', () => {
  it('leaves ordinary text as it is, letters of any script, punctuation, backslashes and emoji included', () => {
    for (const text of ['alice', 'BTC-PERP', 'trader 42', 'Zoë', 'Łódź', '東京', 'مرحبا', 'a\\b', 'C:\\data\\x.jsonl', 'a "quoted" word', '😀', '']) {
      expect(displayText(text)).toBe(text);
    }
  });

  it('quotes and escapes a value holding a control character, as the core quotes ids (JSON)', () => {
    expect(displayText('a\u001b[2Jb')).toBe('"a\\u001b[2Jb"');
    expect(displayText('nul\u0000')).toBe('"nul\\u0000"');
    expect(displayText('a\rb')).toBe('"a\\rb"');
    expect(displayText('a\nb')).toBe('"a\\nb"');
    expect(displayText('a\tb')).toBe('"a\\tb"');
    expect(displayText('a\u007fb')).toBe('"a\\u007fb"');
    // what JSON.stringify leaves raw: C1 (U+009B is a CSI to some terminals), the line separators, bidi and zero-width characters
    expect(displayText('a\u009b2Jb')).toBe('"a\\u009b2Jb"');
    expect(displayText('a\u0085b')).toBe('"a\\u0085b"');
    expect(displayText('a\u2028b\u2029')).toBe('"a\\u2028b\\u2029"');
    expect(displayText('usd\u202etxt.exe')).toBe('"usd\\u202etxt.exe"');
    expect(displayText('\u2066a\u2069')).toBe('"\\u2066a\\u2069"');
    expect(displayText('al\u200bice')).toBe('"al\\u200bice"');
    expect(displayText('\ufeffalice')).toBe('"\\ufeffalice"');
    // a format character beyond the BMP is its two UTF-16 units, as JSON writes them
    expect(displayText('a\u{e0001}b')).toBe('"a\\udb40\\udc01b"');
    // a lone surrogate
    expect(displayText('a\ud800b')).toBe('"a\\ud800b"');
  });

  it('escapes a quote and a backslash inside a quoted value, and keeps the rest of it as it is', () => {
    expect(displayText('Zoë "\\" \u001b')).toBe('"Zoë \\"\\\\\\" \\u001b"');
  });

  it('is unambiguous: a value that looks like a quoted one is quoted too, and every quoted one reads back as JSON', () => {
    expect(displayText('"a\\u001bb"')).toBe('"\\"a\\\\u001bb\\""');
    expect(displayText('"a\\u001bb"')).not.toBe(displayText('a\u001bb'));
    for (const text of ['a\u001b[2Jb', '"x"', 'a\u009b\u202e\u2028b', 'a\u{e0001}', 'a\ud800']) {
      const shown = displayText(text);
      expect(shown).not.toMatch(RAW_SPECIAL);
      expect(JSON.parse(shown)).toBe(text);
    }
  });
});

describe('quotedText', () => {
  it('always quotes, escaping as displayText does', () => {
    expect(quotedText('crash')).toBe('"crash"');
    expect(quotedText('a\u001bb\u202e')).toBe('"a\\u001bb\\u202e"');
  });
});

describe('escapeControls', () => {
  it('escapes every special character but the line feed, without quoting', () => {
    expect(escapeControls('BTC-PERP 1 @ 100\na\u001b[2Jb\r\u009b\u202e')).toBe('BTC-PERP 1 @ 100\na\\u001b[2Jb\\u000d\\u009b\\u202e');
    expect(escapeControls('Zoë 東京 😀 a\\b')).toBe('Zoë 東京 😀 a\\b');
  });

  it('changes nothing in what displayText made, so it can be applied after it', () => {
    for (const text of ['alice', 'a\u001b[2Jb', '"x"', 'a\u009b\u202e\u2028b\nc']) expect(escapeControls(displayText(text))).toBe(displayText(text));
  });

  it('keeps a JSON line the same JSON, with what JSON.stringify left raw escaped', () => {
    const line = JSON.stringify({ account: 'a\u001b\u009b\u202e\u2028b', n: 1 });
    expect(line).toMatch(RAW_SPECIAL);
    const shown = escapeControls(line);
    expect(shown).not.toMatch(RAW_SPECIAL);
    expect(JSON.parse(shown)).toEqual(JSON.parse(line));
  });
});
