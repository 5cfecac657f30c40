import { summarize, type Profile } from '../../bench/cpu-profile-summary';

/**
 * A five-node profile: (root) → Express's router → the server's handler →
 * the clearing core; and (idle). Six samples, 1 ms apart except the first.
 */
const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 0 }, children });
const PROFILE: Profile = {
  nodes: [
    frame(1, '(root)', '', [2, 5]),
    frame(2, 'handle', 'file:///repo/node_modules/router/index.js', [3]),
    frame(3, 'submit', 'file:///repo/dist/apps/server/src/clearing/inputs.controller.js', [4]),
    frame(4, 'decide', 'file:///repo/dist/libs/clearing/src/decide.js'),
    frame(5, '(idle)', ''),
  ],
  // core, core, handler, router, idle, idle
  samples: [4, 4, 3, 2, 5, 5],
  timeDeltas: [500, 1000, 1000, 1000, 1000, 1000],
};

describe('cpu-profile-summary', () => {
  it('gives each sample to its innermost part, and to every part on its stack inclusively', () => {
    const summary = summarize(PROFILE);
    // 0.5 + 5 × 1 ms sampled; idle 2 ms, so 3.5 ms busy
    expect(summary.total).toBe(5500);
    expect(summary.busy).toBe(3500);
    // innermost: core 0.5 + 1, handler 1, router 1, idle 2 — a partition of the 5.5 ms
    expect(Object.fromEntries(summary.innermost)).toEqual({
      'clearing core (decide, evolve)': 1500,
      'server shell (apps/server)': 1000,
      'Express and body-parser': 1000,
      'idle (waiting for I/O)': 2000,
    });
    expect([...summary.innermost.values()].reduce((a, b) => a + b, 0)).toBe(summary.total);
    // inclusive: the router is on the stack of the core's and the handler's samples too (1.5 + 1 + 1)
    expect(summary.inclusive.get('Express and body-parser')).toBe(3500);
    expect(summary.inclusive.get('server shell (apps/server)')).toBe(2500);
    expect(summary.self.get('decide libs/clearing/src/decide.js:1')).toBe(1500);
  });

  it('--last keeps the samples of the profile\'s last seconds only', () => {
    // the profile ends at 5.5 ms; the last 2.5 ms hold the router's sample (ending at 3.5) and both idle ones
    const summary = summarize(PROFILE, 2500);
    expect(summary.total).toBe(3000);
    expect(Object.fromEntries(summary.innermost)).toEqual({ 'Express and body-parser': 1000, 'idle (waiting for I/O)': 2000 });
  });
});
