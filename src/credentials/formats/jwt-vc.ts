import { didJwkFromJwk } from '../../crypto/did.ts';
import { didWebFromUrl, verificationMethodId } from '../../keys/documents.ts';
import { encodedHeader, seconds, signCompact } from './jws.ts';
import type { CredentialFormat, FormatBaseDeps, IssueRequest, StatusEntry } from './types.ts';

/**
 * `jwt_vc_json`: a VC Data Model 1.1 credential in the JWT encoding
 * (https://www.w3.org/TR/vc-data-model-1.1/#json-web-token, OpenID4VCI 1.0 Appendix A.1.1).
 * The registered claims carry issuer, subject, validity and id; the `vc` claim carries the rest.
 * The issuer is the did:web DID and `kid` a verification method of its DID document, so a verifier
 * resolves the key from the published DID document (or the JWKS, whose kids are the fragments).
 */

const VC_V1_CONTEXT = 'https://www.w3.org/2018/credentials/v1';

/**
 * W3C Bitstring Status List entries (https://www.w3.org/TR/vc-bitstring-status-list/#bitstringstatuslistentry).
 * Token status list entries belong to SD-JWT VC and mdoc; handing one to this format is a wiring bug.
 */
export function credentialStatusOf(entries: StatusEntry[] | undefined): Record<string, unknown>[] {
  return (entries ?? []).map((entry) => {
    if (entry.kind !== 'bitstring')
      throw new Error('jwt_vc_json and ldp_vc take bitstring status entries only');
    return {
      id: `${entry.listCredentialUrl}#${entry.index}`,
      type: 'BitstringStatusListEntry',
      statusPurpose: entry.purpose,
      statusListIndex: String(entry.index),
      statusListCredential: entry.listCredentialUrl,
    };
  });
}

/** The `vc` claim and registered claims, in the order VC-JWT 1.1 §6.3.1 lists them. */
export function jwtVcPayload(req: IssueRequest, did: string): Record<string, unknown> {
  const status = credentialStatusOf(req.status);
  const vc: Record<string, unknown> = {
    '@context': [VC_V1_CONTEXT, ...req.profile.contexts.filter((url) => url !== VC_V1_CONTEXT)],
    type: ['VerifiableCredential', ...req.profile.types],
    // VC-JWT 1.1: the subject id moves to `sub`, so credentialSubject carries claims only.
    credentialSubject: req.claims,
  };
  if (status.length === 1) vc['credentialStatus'] = status[0];
  else if (status.length > 1) vc['credentialStatus'] = status;

  const payload: Record<string, unknown> = { iss: did };
  if (req.holder) payload['sub'] = req.holder.did ?? didJwkFromJwk(req.holder.jwk);
  payload['nbf'] = seconds(req.validFrom);
  if (req.validUntil) payload['exp'] = seconds(req.validUntil);
  if (req.credentialId) payload['jti'] = req.credentialId;
  payload['vc'] = vc;
  return payload;
}

export function createJwtVcFormat(deps: FormatBaseDeps): CredentialFormat {
  const did = didWebFromUrl(deps.publicUrl);

  return {
    id: 'jwt_vc_json',
    async issue(req) {
      const key = deps.keys.active('credential', req.profile.alg ?? 'ES256');
      // VC-JWT 1.1 §6.3.1 and OpenID4VCI A.1.1 examples: `typ` is `JWT`; `kid` is a DID URL.
      const header = encodedHeader(key, `JWT ${did}`, () => ({
        typ: 'JWT',
        kid: verificationMethodId(deps.publicUrl, key.kid),
      }));
      return signCompact(key, header, jwtVcPayload(req, did));
    },
  };
}
