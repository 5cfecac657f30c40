import { accountFields, toCanonicalJson, type ClearingEvent, type InputEvent } from '@clearsim/events';
import type { Principal } from './api-keys';

/** A key tried to read or write outside its scope: 403, listing every refusal. */
export class AccessDenied extends Error {
  constructor(readonly reasons: string[]) {
    super(reasons.join('; '));
  }
}

/** Inputs a venue key may post: those about its own accounts. Everything else is market-wide (admin only). */
const VENUE_INPUTS: ReadonlySet<InputEvent['type']> = new Set(['Deposited', 'WithdrawalRequested', 'TradeExecuted', 'MultiLegTradeExecuted', 'TokenUnitsCreated', 'TokenUnitsRedeemed']);

/**
 * The scope of the ids a principal posts (an input's `postedBy`): `admin` for
 * every admin key, `venue:<prefix>` for a venue's keys (so a venue keeps its
 * ids across a key rotation). See docs/idempotency.md.
 */
export const idScopeOf = (principal: Principal): string => (principal.role === 'admin' ? 'admin' : `venue:${principal.prefix}`);

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
 * Which events a key may read from the log and the decision stream:
 * everything for an admin; for a venue, market-wide events (they name no
 * account) and every event that names one of its accounts. What it sees of
 * them is `visibleEvent`.
 */
export function mayRead(principal: Principal, event: ClearingEvent): boolean {
  if (principal.role === 'admin') return true;
  const fields = accountFields(event);
  return fields.length === 0 || fields.some(({ account }) => mayAccessAccount(principal, account));
}

/** What a venue key reads in place of an account id outside its prefix. */
export const REDACTED_ACCOUNT = '*redacted*';

const ACCOUNT_FIELDS = ['account', 'buyer', 'seller', 'counterparty'] as const;

/**
 * An event as a key may read it (canonical JSON), or undefined if it may not
 * (`mayRead`). An admin reads it whole. A venue reads it with every other
 * account redacted: `account`, `buyer`, `seller` and `counterparty` outside
 * its prefix become "*redacted*", the `shares` of a socialized loss are only
 * its own accounts' shares, and the `postedBy` and `eventId` of an input
 * another principal posted are left out (ids are scoped to whoever posted
 * them; a trade's `tradeId` is the trade's identity and stays). The insurance
 * fund (`fund`) is market-wide and stays.
 */
export function visibleEvent(principal: Principal, event: ClearingEvent): Record<string, unknown> | undefined {
  if (!mayRead(principal, event)) return undefined;
  const json = toCanonicalJson(event);
  if (principal.role === 'admin') return json;
  for (const field of ACCOUNT_FIELDS) {
    const account = json[field];
    if (typeof account === 'string' && !mayAccessAccount(principal, account)) json[field] = REDACTED_ACCOUNT;
  }
  if (Array.isArray(json.shares)) json.shares = (json.shares as { account: string }[]).filter((share) => mayAccessAccount(principal, share.account));
  if (json.postedBy !== undefined && json.postedBy !== idScopeOf(principal)) {
    delete json.postedBy;
    delete json.eventId;
  }
  return json;
}
