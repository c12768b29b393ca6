import type { ConfigurationRegistry } from '../../credentials/configurations/registry.ts';
import type { IssuerCa } from '../../credentials/x509/issuer-ca.ts';
import type { TokenVerifier } from '../../oidc/bridge.ts';
import type { Services } from '../../services.ts';
import type { Issuer } from '../../vci/issuance.ts';
import type { Nonces } from '../../vci/nonces.ts';
import type { Offers } from '../../vci/offers.ts';

/** What the OpenID4VCI endpoints are built from (src/compose.ts parts, given by src/http/app.ts). */
export interface VciRouteDeps {
  services: Services;
  /** Verifies access tokens (built by the OpenID Provider, src/oidc/token-verifier.ts). */
  tokens: TokenVerifier;
  registry: ConfigurationRegistry;
  issuer: Issuer;
  nonces: Nonces;
  offers: Offers;
  /** Certifies the metadata signing key (`x5c` of signed metadata). */
  issuerCa: IssuerCa;
}
