import { identityAdminRoutes } from '../admin/identities.ts';
import { outboxAdminRoutes } from '../admin/outbox.ts';
import type { ModuleFactory } from '../modules.ts';
import { seedDemoIdentities } from './demo.ts';
import { createRegistry } from './registry.ts';

/**
 * The kyc module: builds the identity-system registry (config `kyc.systems`), publishes it on
 * `links.identitySystems`, seeds the demo identities in demo mode, and mounts the admin API for
 * identities and the development outbox.
 */
export const kycModule: ModuleFactory = async (services, links) => {
  const registry = createRegistry(services);
  links.identitySystems = registry;
  if (services.config.resolved.demo) await seedDemoIdentities(services, registry.context);
  return {
    adminRoutes: [
      identityAdminRoutes(services, registry.context.identities),
      outboxAdminRoutes(services, registry.context.notifications.outboxEnabled),
    ],
  };
};
