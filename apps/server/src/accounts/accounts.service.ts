import { Injectable } from '@nestjs/common';
import { accountJson, accountTotals, accountView, clockIso, statusOf, whatIfJson, whatIfTrade, type AccountStatus, type AccountTotals, type ClearingEngine } from '@clearsim/clearing';
import type { Timestamp } from '@clearsim/events';
import { divRound, formatFixed, parseFixed, SCALE, type Fixed } from '@clearsim/money';
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

  /**
   * The accounts the caller may see, filtered by status, sorted by health
   * (most at risk first) or id. Ranking needs only each account's totals
   * (accountTotals): no per-position view, liquidation price or greeks.
   */
  list(principal: Principal, options: ListOptions): Promise<Record<string, unknown>> {
    return this.shard.read((engine, head) => {
      const rows: Row[] = [];
      const { state } = engine;
      for (const account of state.ledger.accounts.values()) {
        if (!mayAccessAccount(principal, account.id)) continue;
        const status = statusOf(state, account.id);
        if (options.status !== undefined && status !== options.status) continue;
        const positions = state.rules ? [...account.positions.values()].filter((p) => p.qty !== 0n).length : 0;
        rows.push({ account: account.id, status, cash: account.cash, positions, ...accountTotals(state, account) });
      }
      rows.sort(options.sort === 'health' ? byHealth : byId);
      return {
        ...asOf(engine, head),
        total: rows.length,
        accounts: rows.slice(0, options.limit).map((row) => ({
          account: row.account,
          status: row.status,
          health: health(row),
          cash: formatFixed(row.cash),
          equity: formatFixed(row.equity),
          initialMargin: formatFixed(row.initialMargin),
          maintenanceMargin: formatFixed(row.maintenanceMargin),
          freeCollateral: formatFixed(row.equity - row.initialMargin),
          positions: row.positions,
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
  return { at: clockIso(engine.state), position: head };
}

/** equity / maintenance margin, rounded down to 8 decimals; null without a maintenance requirement. */
function health(totals: AccountTotals): string | null {
  return totals.maintenanceMargin > 0n ? formatFixed(divRound(totals.equity * SCALE, totals.maintenanceMargin, 'floor')) : null;
}

/** One line of the list: an account's totals, status, cash and open position count. */
interface Row extends AccountTotals {
  account: string;
  status: AccountStatus;
  cash: Fixed;
  positions: number;
}

/**
 * Most at risk first: equity/MM ascending, compared by cross-multiplying
 * (never dividing); then accounts without MM; system accounts (never
 * margin-called) last; ties by account id.
 */
function byHealth(a: Row, b: Row): number {
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

const byId = (a: Row, b: Row): number => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0);
