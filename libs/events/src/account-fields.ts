import type { ClearingEvent } from './codec';

/** The account fields of an event, with their field names (inputs: account, buyer, seller, each leg's buyer and seller; decisions: account, counterparty, a socialized loss's losses and shares). */
export function accountFields(event: ClearingEvent): { field: string; account: string }[] {
  const e = event as unknown as Record<string, unknown>;
  const fields: { field: string; account: string }[] = [];
  for (const field of ['account', 'buyer', 'seller', 'counterparty']) {
    if (typeof e[field] === 'string') fields.push({ field, account: e[field] });
  }
  if (Array.isArray(e.losses)) {
    e.losses.forEach((loss: { account: string }, i) => fields.push({ field: `losses.${i}.account`, account: loss.account }));
  }
  if (Array.isArray(e.legs)) {
    e.legs.forEach((leg: { buyer: string; seller: string }, i) => {
      fields.push({ field: `legs.${i}.buyer`, account: leg.buyer }, { field: `legs.${i}.seller`, account: leg.seller });
    });
  }
  if (Array.isArray(e.shares)) {
    e.shares.forEach((share: { account: string }, i) => fields.push({ field: `shares.${i}.account`, account: share.account }));
  }
  return fields;
}
