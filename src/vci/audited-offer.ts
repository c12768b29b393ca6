import { type AuditLog, sha256 } from '../audit/audit.ts';
import type { CreateOfferInput, Offers } from './offers.ts';
import { PRE_AUTHORIZED_GRANT } from './pre-authorized.ts';

/**
 * Creates an offer (src/vci/offers.ts) and records `offer_created`, keyed by the hash of its
 * pre-authorized code (or issuer_state), never the code itself. The admin API and the console both
 * make offers through here. `codeHash` is what the pre-authorized code store files the code under.
 */
export async function createAuditedOffer(offers: Offers, audit: AuditLog, input: CreateOfferInput) {
  const created = await offers.create(input);
  const offer = created.credential_offer as {
    credential_configuration_ids: string[];
    grants: Record<string, Record<string, unknown>>;
  };
  const [grantType, grant] = Object.entries(offer.grants)[0] ?? [];
  const secret = grant?.['pre-authorized_code'] ?? grant?.issuer_state;
  const codeHash = typeof secret === 'string' ? sha256(secret) : undefined;
  await audit.record({
    type: 'offer_created',
    configurationIds: offer.credential_configuration_ids,
    ...(grantType
      ? { grantType: grantType === PRE_AUTHORIZED_GRANT ? 'pre-authorized_code' : grantType }
      : {}),
    ...(codeHash ? { codeHash } : {}),
  });
  return { created, codeHash };
}
