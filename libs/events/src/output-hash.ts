import type { DecisionEvent } from './decision-events';
import { encodeEventRemembered } from './codec';
import { Sha256, type Sha256State } from './sha256';

/**
 * `outputHash` (docs/architecture.md): SHA-256 over the canonical JSON lines of the
 * decision events, each followed by "\n", in log order. Its running state is
 * plain data so a snapshot can carry it across a restart.
 */
export class OutputHasher {
  private readonly hash: Sha256;

  constructor(state?: Sha256State) {
    this.hash = new Sha256(state);
  }

  /** Hashes the decision's canonical line (remembered, so the log appending the decision need not encode it again). */
  add(decision: DecisionEvent): void {
    this.hash.updateLine(encodeEventRemembered(decision));
  }

  state(): Sha256State {
    return this.hash.state();
  }

  digest(): string {
    return this.hash.hex();
  }
}
