import { MAX_YAML_LENGTH, parseBoundedYaml, YamlBoundsError } from './bounded-yaml';
import { parseRulesYaml, RulesError } from './rules';

describe('YAML within bounds (rules files, scenarios)', () => {
  const refusal = (text: string): YamlBoundsError => {
    try {
      parseBoundedYaml(text);
    } catch (error) {
      if (error instanceof YamlBoundsError) return error;
      throw error;
    }
    throw new Error('accepted');
  };

  it('a flow collection 5,000 levels deep is "nested deeper than 32 levels", not a stack overflow', () => {
    const error = refusal('a: ' + '['.repeat(5000) + ']'.repeat(5000));
    expect(error.message).toBe('nested deeper than 32 levels');
    expect(error.syntax).toBe(false);
  });

  it('33 levels that parse are refused with the path of the deepest collection; 32 are read', () => {
    // the root mapping is level 1; "a" holds 32 more nested sequences
    expect(refusal('a: ' + '['.repeat(32) + ']'.repeat(32)).message).toBe('a' + '[0]'.repeat(31) + ': nested deeper than 32 levels');
    expect(parseBoundedYaml('a: ' + '['.repeat(31) + ']'.repeat(31))).toBeDefined();
    // block nesting counts the same way
    const block = Array.from({ length: 40 }, (_, i) => ' '.repeat(i) + `k${i}:`).join('\n') + ' 1';
    expect(refusal(block).message).toMatch(/^k0\.k1\.k2.*k31: nested deeper than 32 levels$/);
  });

  it('refuses a tag it does not know, naming it and its line, instead of printing a warning and taking the scalar', () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const error = refusal('name: q\nseed: !foo 7\n');
      expect(error.message).toBe('Unresolved tag: !foo at line 2, column 7');
      expect(error.line).toBe(2);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
    // the standard tags are known
    expect(parseBoundedYaml('a: !!str 7\nb: !!int "8"\n')).toEqual({ a: '7', b: 8 });
  });

  it('refuses more than 1 MiB of text before parsing it', () => {
    expect(refusal('#'.repeat(MAX_YAML_LENGTH + 1)).message).toBe(`longer than ${MAX_YAML_LENGTH} characters`);
  });

  it('refuses an alias bomb (the yaml library\'s alias count)', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill('*' + String.fromCharCode(96 + i)).join(', ')}]`);
    expect(() => parseBoundedYaml(lines.join('\n'))).toThrow(YamlBoundsError);
  });

  it('a syntax error keeps its line; a rules file reports both kinds as RulesError with the file', () => {
    const syntax = refusal('a: [1, 2\nb: }');
    expect(syntax.syntax).toBe(true);
    expect(syntax.line).toBeGreaterThan(0);
    expect(() => parseRulesYaml('instruments: ' + '['.repeat(5000), 'deep.yaml')).toThrow(RulesError);
    expect(() => parseRulesYaml('instruments: ' + '['.repeat(5000) + ']'.repeat(5000), 'deep.yaml')).toThrow(/invalid rules in deep\.yaml:\n {2}line 1: \(root\): nested deeper than 32 levels/);
  });
});
