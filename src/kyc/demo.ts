import { readFileSync } from 'node:fs';
import { writeDemoFile } from '../demo.ts';
import type { Services } from '../services.ts';
import { createKycContext, type KycContext } from './context.ts';
import type { IdentityInput } from './identity-store.ts';

const DEMO_FILE = new URL('./demo-identities.json', import.meta.url);

/** The demo people shipped in the repo (src/kyc/demo-identities.json). Their secrets are public. */
export function demoIdentities(): IdentityInput[] {
  return (JSON.parse(readFileSync(DEMO_FILE, 'utf8')) as { identities: IdentityInput[] }).identities;
}

/**
 * Demo mode: puts the demo people into the mock identity system (once; existing ones are kept) and
 * writes `$DATA_DIR/demo-identities.json` listing what to type to log in as each of them.
 */
export async function seedDemoIdentities(
  services: Services,
  context?: KycContext,
): Promise<{ file: string; created: number }> {
  const { identities } = context ?? createKycContext(services);
  const people = demoIdentities();
  let created = 0;
  for (const person of people) {
    if (await identities.findDoc(person.individualId)) continue;
    await identities.create(person);
    created++;
  }
  const fields = services.config.kyc.kbiFields;
  const file = writeDemoFile(services.config, 'demo-identities.json', {
    note: 'Demo identities of the mock identity system. One-time codes appear at GET /admin/outbox.',
    identities: people.map((person) => ({
      individualId: person.individualId,
      name: person.claims.name,
      pin: person.pin,
      password: person.password,
      kbi: Object.fromEntries(fields.map((field) => [field, person.claims[field]])),
      email: person.claims.email,
      phone_number: person.claims.phone_number,
      kycPending: person.pending ?? false,
    })),
  });
  services.logger.info({ file, created }, 'demo identities ready');
  return { file, created };
}
