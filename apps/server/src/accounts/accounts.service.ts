import { Injectable } from '@nestjs/common';
import { accountJson, accountView, whatIfJson, whatIfTrade, type AccountStatus, type AccountView, type ClearingEngine } from '@clearsim/clearing';
import { formatTimestamp, type Timestamp } from '@clearsim/events';
import { divRound, formatFixed, parseFixed, SCALE } from '@clearsim/money';
import { mayAccessAccount } from '../auth/access-policy';
import type { Principal } from '../auth/api-keys';
import { ShardService } from '../clearing/shard.service';
import type { WhatIfTradeDto } from './dto/what-if-trade.dto';

export interface ListOptions {
  status?: AccountStatus;
  sort: 'health' | 'id';
  limit: number;
}

/**
 * Read side of accounts: projections of the shard state (the core's
 * `accountView`), read between two writes, or at a past time.
 */
@Injectable()
export class AccountsService {
  constructor(private readonly shard: ShardService) {}

  /** One account now, or as it was at `at`; undefined if it does not exist (then). */
  account(id: string, at?: Timestamp): Promise<Record<string, unknown> | undefined> {
    const project = (engine: ClearingEngine, head: number) => {
      const account = engine.state.ledger.accounts.get(id);
      if (!account) return undefined;
      const view = accountView(engine.state, account);
      return { account: id, ...asOf(engine, head), ...accountJson(view), freeCollateral: formatFixed(view.equity - view.initialMargin), health: health(view) };
    };
    return at === undefined ? this.shard.read(project) : this.shard.readAt(at, project);
  }

  /** The accounts the caller may see, filtered by status, sorted by health (most at risk first) or id. */
  list(principal: Principal, options: ListOptions): Promise<Record<string, unknown>> {
    return this.shard.read((engine, head) => {
      const views: AccountView[] = [];
      for (const account of engine.state.ledger.accounts.values()) {
        if (!mayAccessAccount(principal, account.id)) continue;
        const view = accountView(engine.state, account);
        if (options.status === undefined || view.status === options.status) views.push(view);
      }
      views.sort(options.sort === 'health' ? byHealth : byId);
      return {
        ...asOf(engine, head),
        total: views.length,
        accounts: views.slice(0, options.limit).map((view) => ({
          account: view.account,
          status: view.status,
          health: health(view),
          cash: formatFixed(view.cash),
          equity: formatFixed(view.equity),
          initialMargin: formatFixed(view.initialMargin),
          maintenanceMargin: formatFixed(view.maintenanceMargin),
          freeCollateral: formatFixed(view.equity - view.initialMargin),
          positions: view.positions.length,
        })),
      };
    });
  }

  /** The core's what-if (libs/clearing/src/what-if.ts) on the live state, which it never changes. */
  whatIf(dto: WhatIfTradeDto): Promise<Record<string, unknown>> {
    const proposal = {
      account: dto.account,
      instrument: dto.instrument,
      side: dto.side,
      qty: parseFixed(dto.qty),
      price: parseFixed(dto.price),
      fee: dto.fee === undefined ? undefined : parseFixed(dto.fee),
    };
    return this.shard.read((engine, head) => ({
      account: dto.account,
      instrument: dto.instrument,
      side: dto.side,
      qty: formatFixed(proposal.qty),
      price: formatFixed(proposal.price),
      ...asOf(engine, head),
      ...whatIfJson(whatIfTrade(engine.state, proposal)),
    }));
  }
}

function asOf(engine: ClearingEngine, head: number): { at: string | null; position: number } {
  const clock = engine.state.clock;
  return { at: Number.isFinite(clock) ? formatTimestamp(clock) : null, position: head };
}

/** equity / maintenance margin, rounded down to 8 decimals; null without a maintenance requirement. */
function health(view: AccountView): string | null {
  return view.maintenanceMargin > 0n ? formatFixed(divRound(view.equity * SCALE, view.maintenanceMargin, 'floor')) : null;
}

/**
 * Most at risk first: equity/MM ascending, compared by cross-multiplying
 * (never dividing); then accounts without MM; system accounts (never
 * margin-called) last; ties by account id.
 */
function byHealth(a: AccountView, b: AccountView): number {
  const aSystem = a.status === 'system';
  if (aSystem !== (b.status === 'system')) return aSystem ? 1 : -1;
  const aRisky = a.maintenanceMargin > 0n;
  const bRisky = b.maintenanceMargin > 0n;
  if (aRisky !== bRisky) return aRisky ? -1 : 1;
  if (aRisky) {
    const left = a.equity * b.maintenanceMargin;
    const right = b.equity * a.maintenanceMargin;
    if (left !== right) return left < right ? -1 : 1;
  }
  return byId(a, b);
}

const byId = (a: AccountView, b: AccountView): number => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0);
