import { runInput } from './early-decode-thread';

/** The entry point starts `run`'s decode thread only when argv is `run FILE` in a form it is sure of (else `run` does it later, or nothing does). */
describe('runInput: the input of `clearsim run` in argv', () => {
  const argv = (...args: string[]) => ['node', 'clearsim', ...args];

  it('finds the input among run\'s own options and flags, before or after them, with values as the next argument or after =', () => {
    expect(runInput(argv('run', 'day.jsonl'))).toBe('day.jsonl');
    expect(runInput(argv('run', '--store', 'file:./data', 'day.jsonl', '--no-progress'))).toBe('day.jsonl');
    expect(runInput(argv('run', 'day.jsonl', '--store=file:./data', '--decisions', 'out.jsonl', '--report', 'r.html', '--reset', '--snapshot', '--json'))).toBe('day.jsonl');
    expect(runInput(argv('--verbose', 'run', '--verbose', 'day.jsonl'))).toBe('day.jsonl');
    // an option's value that looks like an input is the option's
    expect(runInput(argv('run', '--store', 'day.jsonl'))).toBeUndefined();
  });

  it('leaves every other form to the command: another command, --rules, help, two inputs, an unknown option, none', () => {
    expect(runInput(argv('replay', 'day.jsonl'))).toBeUndefined();
    expect(runInput(argv('diff', 'day.jsonl', '--rules', 'a.yaml'))).toBeUndefined();
    expect(runInput(argv('run', 'day.jsonl', '--rules', 'binance'))).toBeUndefined();
    expect(runInput(argv('run', '--help'))).toBeUndefined();
    expect(runInput(argv('run', 'a.jsonl', 'b.jsonl'))).toBeUndefined();
    expect(runInput(argv('run', 'day.jsonl', '--fast'))).toBeUndefined();
    expect(runInput(argv('run', '--', 'day.jsonl'))).toBeUndefined();
    expect(runInput(argv('run'))).toBeUndefined();
    expect(runInput(argv())).toBeUndefined();
  });
});
