import type { Services } from '../services.ts';
import { seedDemoIdentities } from './demo.ts';
import { createRegistry, type KycRegistry } from './registry.ts';

/** What the kyc part offers the others: identity systems by name and per client, and delivery to people. */
export interface Kyc {
  /** The registry of identity systems (config `kyc.systems`) with their shared context. */
  readonly identitySystems: KycRegistry;
}

/** Builds the identity-system registry and, in demo mode, seeds the demo identities. */
export async function createKyc(services: Services): Promise<Kyc> {
  const identitySystems = createRegistry(services);
  if (services.config.resolved.demo) await seedDemoIdentities(services, identitySystems.context);
  return { identitySystems };
}
