import { decodeProtectedHeader } from 'jose';
import type { Config } from '../config/defaults.ts';
import { AppError } from '../errors.ts';

/**
 * The HAIP switch (config `profile: 'haip'`): OpenID4VC High Assurance Interoperability Profile 1.0
 * as it binds a credential issuer. What it forces, and where:
 * - PAR required (provider `requirePushedAuthorizationRequests`, config `oidc.requirePar`);
 * - DPoP required at the token endpoint for every grant (src/http/oidc/pre-authorized.ts), ES256
 *   only (provider `dPoPSigningAlgValues`; the pre-authorized grant here);
 * - wallet attestation: `attest_jwt_client_auth` instead of `none` for public clients
 *   (src/oidc/provider.ts), required in the pre-authorized grant (src/oidc/pre-authorized.ts);
 * - SD-JWT VC and mdoc configurations only, signed with ES256 (src/compose.ts);
 * - signed metadata on (src/config/load.ts).
 */

export const isHaip = (config: Config): boolean => config.profile === 'haip';

/** HAIP 1.0: credential formats an issuer under the profile offers. */
export const HAIP_FORMATS: readonly string[] = ['dc+sd-jwt', 'mso_mdoc'];
/** HAIP 1.0: the one signature algorithm every party must support; under the profile, the only one. */
export const HAIP_ALG = 'ES256';

/** Under HAIP, a DPoP proof must be ES256 (RFC 9449 §5 `invalid_dpop_proof`). */
export function assertProfileDpopAlg(config: Config, proof: string | undefined): void {
  if (!isHaip(config) || !proof) return;
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(proof).alg;
  } catch {
    alg = undefined;
  }
  if (alg !== HAIP_ALG)
    throw new AppError(400, 'invalid_dpop_proof', 'the DPoP proof must be signed with ES256');
}
