import { controlCharacterAt, controlCharacterProblem, ID_CHARACTERS_PATTERN } from './id-characters';

describe('the control characters an id may not hold', () => {
  it('are C0 (U+0000–U+001F), DEL (U+007F) and C1 (U+0080–U+009F), and nothing else of the first 64K code units', () => {
    const refused: number[] = [];
    for (let code = 0; code <= 0xffff; code++) if (controlCharacterAt(String.fromCharCode(code)) === 0) refused.push(code);
    const expected = [...Array.from({ length: 0x20 }, (_, i) => i), 0x7f, ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i)];
    expect(refused).toEqual(expected);
  });

  it('the first one is found by its index in UTF-16 code units (an id\'s length is counted so), within [from, to) when given', () => {
    expect(controlCharacterAt('ünï-😀')).toBe(-1);
    expect(controlCharacterAt('a\u001b[2J\u0000')).toBe(1);
    // the emoji is two code units
    expect(controlCharacterAt('😀\u007f')).toBe(2);
    expect(controlCharacterAt('a\u001bb\u0085', 2)).toBe(3);
    expect(controlCharacterAt('a\u001bb\u0085', 2, 3)).toBe(-1);
    expect(controlCharacterAt('')).toBe(-1);
  });

  it('the pattern the documents state takes exactly the code units controlCharacterAt takes', () => {
    const pattern = new RegExp(ID_CHARACTERS_PATTERN);
    const disagree: number[] = [];
    for (let code = 0; code <= 0xffff; code++) if (pattern.test(`a${String.fromCharCode(code)}b`) !== (controlCharacterAt(String.fromCharCode(code)) < 0)) disagree.push(code);
    expect(disagree).toEqual([]);
  });

  it('the problem names the character by its code point and its index, never the character itself', () => {
    expect(controlCharacterProblem('acc\u001b[31m')).toBe('must not contain control characters (U+001B at index 3)');
    expect(controlCharacterProblem('\u0000')).toBe('must not contain control characters (U+0000 at index 0)');
    expect(controlCharacterProblem('x\u009b')).toBe('must not contain control characters (U+009B at index 1)');
    expect(controlCharacterProblem('BTC-PERP')).toBeUndefined();
  });
});
