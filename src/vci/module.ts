import type { ConfigurationRegistry } from '../credentials/configurations/registry.ts';
import type { FormatRegistry } from '../credentials/formats/registry.ts';
import type { StatusService } from '../credentials/status/service.ts';
import type { IdentitySystemRegistry } from '../kyc/spi.ts';
import type { TokenVerifier } from '../oidc/bridge.ts';
import type { Services } from '../services.ts';
import { createIssuer, type Issuer } from './issuance.ts';
import { parseTrust } from './key-attestation.ts';
import { createLedger, type Ledger } from './ledger.ts';
import type { Nonces } from './nonces.ts';

/** What the credential issuer needs from the parts built before it. */
export interface VciDeps {
  readonly identitySystems: IdentitySystemRegistry;
  readonly configurations: ConfigurationRegistry;
  readonly formats: FormatRegistry;
  readonly status: StatusService;
  /** The OpenID Provider's access token verifier (built by src/oidc before this part). */
  readonly tokens: TokenVerifier;
  /** c_nonces, from the shared grants (src/grants.ts). */
  readonly cNonces: Nonces;
  /** Whether a registered client lists a leniency (the provider's client registry). */
  readonly clientLeniency?: (clientId: string, name: 'proof_kid_with_jwk') => Promise<boolean>;
}

/** The OpenID4VCI credential issuer: what its endpoints and the admin API work with. */
export interface Vci {
  readonly issuer: Issuer;
  readonly ledger: Ledger;
  /** The verifier the credential, deferred and notification endpoints use. */
  readonly tokens: TokenVerifier;
}

/** Builds the issuance core: the ledger and the issuer (proofs, claims, formats, status, deferral). */
export function createVci(services: Services, deps: VciDeps): Vci {
  const { config, store, clock, logger } = services;
  const ledger = createLedger(store, clock, config.keys.encryptionSecret);
  let keyAttestationTrust: ReturnType<typeof parseTrust>;
  try {
    keyAttestationTrust = parseTrust(
      config.vci.keyAttestationTrustedJwks,
      config.vci.keyAttestationTrustedCaPems,
    );
  } catch (error) {
    throw new Error(`vci.keyAttestationTrustedCaPems: not a PEM certificate (${(error as Error).message})`);
  }
  const issuer = createIssuer({
    config,
    clock,
    store,
    logger,
    registry: deps.configurations,
    formats: deps.formats,
    status: deps.status,
    ledger,
    nonces: deps.cNonces,
    identitySystems: deps.identitySystems,
    keyAttestationTrust,
    ...(deps.clientLeniency ? { clientLeniency: deps.clientLeniency } : {}),
    audit: services.audit,
  });
  return { issuer, ledger, tokens: deps.tokens };
}
