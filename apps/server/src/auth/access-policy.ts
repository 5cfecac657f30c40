import { accountFields, type ClearingEvent, type InputEvent } from '@clearsim/events';
import type { Principal } from './api-keys';

/** A key tried to read or write outside its scope: 403, listing every refusal. */
export class AccessDenied extends Error {
  constructor(readonly reasons: string[]) {
    super(reasons.join('; '));
  }
}

/** Inputs a venue key may post: those about its own accounts. Everything else is market-wide (admin only). */
const VENUE_INPUTS: ReadonlySet<InputEvent['type']> = new Set(['Deposited', 'WithdrawalRequested', 'TradeExecuted', 'MultiLegTradeExecuted']);

export const mayAccessAccount = (principal: Principal, account: string): boolean => principal.role === 'admin' || account.startsWith(principal.prefix);

/**
 * Refuses (AccessDenied) inputs a venue key may not post: a market-wide input,
 * or any account field outside its prefix. `index` prefixes the field of a
 * batch item (`[2].buyer`).
 */
export function assertMayWrite(principal: Principal, inputs: readonly InputEvent[], batch: boolean): void {
  if (principal.role === 'admin') return;
  const reasons: string[] = [];
  inputs.forEach((input, i) => {
    const at = batch ? `[${i}].` : '';
    if (!VENUE_INPUTS.has(input.type)) {
      reasons.push(`${at}type: ${input.type} is market-wide; only an admin key may post it`);
      return;
    }
    for (const { field, account } of accountFields(input)) {
      if (!mayAccessAccount(principal, account)) reasons.push(`${at}${field}: account "${account}" is outside this key's scope (${principal.prefix}*)`);
    }
  });
  if (reasons.length > 0) throw new AccessDenied(reasons);
}

export function assertMayAccessAccount(principal: Principal, account: string, field = 'account'): void {
  if (principal.role === 'venue' && !mayAccessAccount(principal, account)) {
    throw new AccessDenied([`${field}: account "${account}" is outside this key's scope (${principal.prefix}*)`]);
  }
}

/**
 * What a key may read from the log and the decision stream: everything for an
 * admin; for a venue, market-wide events (they name no account) and every
 * event that names one of its accounts — whole, so a decision about its
 * account may name a counterparty outside its scope (the backstop, an ADL
 * counterparty, the accounts sharing a socialized loss).
 */
export function mayRead(principal: Principal, event: ClearingEvent): boolean {
  if (principal.role === 'admin') return true;
  const fields = accountFields(event);
  return fields.length === 0 || fields.some(({ account }) => mayAccessAccount(principal, account));
}
