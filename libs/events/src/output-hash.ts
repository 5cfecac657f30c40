// eslint-disable-next-line no-restricted-imports -- SHA-256 is a pure function of its input; the core uses nothing else from node:crypto
import { createHash, type Hash } from 'node:crypto';
import type { DecisionEvent } from './decision-events';
import { encodeEvent } from './codec';

/**
 * `outputHash` (DESIGN §4): SHA-256 over the canonical JSON lines of the
 * decision events, each followed by "\n", in log order.
 */
export class OutputHasher {
  private readonly hash: Hash = createHash('sha256');
  private count = 0;

  add(decision: DecisionEvent): void {
    this.addLine(encodeEvent(decision));
  }

  /** For callers that already hold the canonical line. */
  addLine(canonicalLine: string): void {
    this.hash.update(canonicalLine);
    this.hash.update('\n');
    this.count++;
  }

  get decisions(): number {
    return this.count;
  }

  digest(): string {
    return this.hash.copy().digest('hex');
  }
}
