import { ServerError } from '../errors.ts';
import type { Services } from '../services.ts';
import { auditedSystem } from './audited-system.ts';
import { createKycContext, type KycContext } from './context.ts';
import { createHttpSystem, type HttpSystemOptions } from './http-system.ts';
import { createMockSystem } from './mock-system.ts';
import type { IdentitySystem, IdentitySystemRegistry } from './spi.ts';

/** Builds one identity system of a type from its `kyc.systems.<name>` options. */
export type IdentitySystemFactory = (
  name: string,
  options: Record<string, string | number | boolean>,
  context: KycContext,
) => IdentitySystem;

/** Identity-system types by name: plain factories. Add a type here and select it in config. */
export const IDENTITY_SYSTEM_TYPES: Record<string, IdentitySystemFactory> = {
  mock: (name, _options, context) => createMockSystem(name, context),
  http: (name, options, context) => createHttpSystem(name, options as unknown as HttpSystemOptions, context),
};

export interface KycRegistry extends IdentitySystemRegistry {
  /** Shared pieces (identity store, OTP, notifications), for the admin API and tests. */
  readonly context: KycContext;
}

/**
 * The configured identity systems (`kyc.systems`), which one serves each relying party
 * (`kyc.clientSystems`, else `kyc.defaultSystem`), and delivery of messages to people.
 */
export function createRegistry(
  services: Services,
  context: KycContext = createKycContext(services),
): KycRegistry {
  const { kyc } = services.config;
  const systems = new Map<string, IdentitySystem>();
  for (const [name, options] of Object.entries(kyc.systems)) {
    const type = String(options.type ?? name);
    const factory = IDENTITY_SYSTEM_TYPES[type];
    if (!factory) throw new Error(`kyc.systems.${name}: unknown identity system type "${type}"`);
    systems.set(name, auditedSystem(factory(name, options, context), context));
  }
  const get = (name: string): IdentitySystem => {
    const system = systems.get(name);
    if (!system) throw new ServerError(`identity system "${name}" is not configured`);
    return system;
  };
  return {
    context,
    names: () => [...systems.keys()],
    get,
    forClient: (clientId) => get(kyc.clientSystems[clientId] ?? kyc.defaultSystem),
    defaultSystem: () => get(kyc.defaultSystem),
    async sendToIndividual(who, message, options = {}) {
      const system = get(options.system ?? kyc.defaultSystem);
      if (!system.sendMessage) {
        throw new ServerError(`identity system "${system.name}" cannot deliver messages to people`);
      }
      return system.sendMessage(who, message);
    },
  };
}
