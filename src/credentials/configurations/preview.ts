import { didWebFromUrl } from '../../keys/documents.ts';
import { hourFloor } from '../formats/jws.ts';
import { jwtVcPayload } from '../formats/jwt-vc.ts';
import { buildUnsignedCredential } from '../formats/ldp-vc.ts';
import { sdJwtVcPayload } from '../formats/sd-jwt.ts';
import type { FormatId, IssueRequest } from '../formats/types.ts';
import { mapClaims, SAMPLE_IDENTITY } from './mapping.ts';
import type { CredentialDefinition, ResolvedConfiguration } from './types.ts';

/**
 * What each format of a definition would issue for the demo person (the sample identity the
 * registry checks every definition against, with the definition's own `sample` over it), built by
 * the formats' own payload builders. Never signed, and without what only issuance adds: the
 * wallet's key (credentialSubject.id, `sub`, `cnf`, the mdoc device key), the status list entry,
 * the salts and digests, and the signature. So a preview is never a credential.
 */
export interface CredentialPreview {
  readonly configurationId: string;
  readonly format: FormatId;
  /** The unsigned content: the W3C credential, the JWT or SD-JWT payload, or the mdoc elements. */
  readonly content: Record<string, unknown>;
  /** dc+sd-jwt: the claims a holder may disclose one by one. */
  readonly selectivelyDisclosable?: readonly string[];
  /** Mandatory claims the demo person has no value for (issuance would refuse). */
  readonly missing: readonly string[];
}

export function previewCredentials(
  definition: CredentialDefinition,
  configurations: readonly ResolvedConfiguration[],
  options: { publicUrl: string; now: number },
): CredentialPreview[] {
  const mapped = mapClaims(
    definition.claims,
    { ...SAMPLE_IDENTITY, ...definition.sample },
    { locales: ['en'], now: options.now },
  );
  const validFrom = new Date(hourFloor(options.now) * 1000);
  return configurations
    .filter((c) => c.definition.id === definition.id)
    .map((c) => {
      const req: IssueRequest = { profile: c.profile, claims: mapped.subject, validFrom };
      const did = didWebFromUrl(options.publicUrl);
      let content: Record<string, unknown>;
      if (c.format === 'ldp_vc') content = buildUnsignedCredential(req, did) as Record<string, unknown>;
      else if (c.format === 'jwt_vc_json') content = jwtVcPayload(req, did);
      else if (c.format === 'dc+sd-jwt') content = sdJwtVcPayload(req, options.publicUrl, options.now);
      else {
        const doctype = c.profile.doctype ?? '';
        content = { docType: doctype, nameSpaces: { [c.profile.namespace ?? doctype]: mapped.subject } };
      }
      return {
        configurationId: c.id,
        format: c.format,
        content,
        ...(c.format === 'dc+sd-jwt'
          ? { selectivelyDisclosable: c.profile.selectivelyDisclosable ?? [] }
          : {}),
        missing: mapped.missing,
      };
    });
}
