import { createHash } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { ConfigurationRegistry } from '../credentials/configurations/registry.ts';
import type {
  ClaimMapping,
  CredentialDefinition,
  ResolvedConfiguration,
} from '../credentials/configurations/types.ts';
import { signCompact } from '../credentials/formats/jws.ts';
import { VC_V2_CONTEXT } from '../credentials/jsonld/document-loader.ts';
import { jwkVerificationMethodId } from '../keys/documents.ts';
import type { KeyStore, ManagedKey } from '../keys/spi.ts';
import {
  ATTESTATION_PROOF_ALGS,
  type KeyAttestationRequirement,
  keyAttestationRequirement,
} from './key-attestation.ts';

/**
 * Credential Issuer Metadata (OpenID4VCI 1.0 §12.2,
 * https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#section-12.2), built
 * from the active configurations and what the endpoints really do. The 1.0 shape is the truth
 * (`credential_metadata.display`, `credential_metadata.claims` as claims path pointers). A draft-13
 * member stays only where no 1.0 parser we replay breaks on it (test/unit/vci/metadata-parsers.test.ts
 * applies each parser's rules): configuration `display` and `order`, `credentialSubject` maps in
 * ldp_vc `credential_definition` and the mso_mdoc `claims` namespace map. Gone: the jwt_vc_json
 * `credentialSubject` map (EUDI decodes each entry as a 1.0 claim and needs `path`) and the
 * dc+sd-jwt top-level `claims` map (walt.id reads it as namespace → claims; the OIDF schema wants
 * an array).
 */

export const ENCRYPTION_ALGS = ['ECDH-ES', 'RSA-OAEP-256'] as const;
export const ENCRYPTION_ENCS = ['A256GCM', 'A128GCM'] as const;
/** COSE algorithm identifiers (RFC 9053) for mso_mdoc `credential_signing_alg_values_supported`. */
const COSE_ALG: Record<string, number> = { ES256: -7, EdDSA: -8 };

export interface IssuerEndpoints {
  credential: string;
  nonce: string;
  deferred: string;
  notification: string;
}

export function endpointsFor(publicUrl: string): IssuerEndpoints {
  return {
    credential: `${publicUrl}/credential`,
    nonce: `${publicUrl}/nonce`,
    deferred: `${publicUrl}/deferred_credential`,
    notification: `${publicUrl}/notification`,
  };
}

export interface MetadataOptions {
  publicUrl: string;
  batchSize: number;
  requireEncryption: boolean;
  issuerDisplay: { name: string; locale?: string }[];
  /** Only the display entries in these languages (Accept-Language); empty: all. */
  locales?: string[];
  /** Offer the `attestation` proof type (key attestation issuers are trusted). */
  attestationProofType?: boolean;
  /**
   * §12.2.4 `credential_request_encryption`: the issuer's encryption keys (public JWKs with `kid`,
   * `alg` ECDH-ES, `use` enc) and whether every request must be encrypted. EUDI's wallet library
   * refuses metadata with credential_response_encryption but without this block.
   */
  requestEncryption?: { jwks: Record<string, unknown>[]; required: boolean };
  /**
   * The issuer-wide key attestation requirement (config vci.keyAttestationsRequired): published as
   * `key_attestations_required` on the proof types of every configuration without its own.
   */
  keyAttestationsRequired?: KeyAttestationRequirement | null;
  /** §12.2.4 `authorization_servers`; default: the issuer's own provider (publicUrl). */
  authorizationServers?: string[];
}

const filterLocales = <T extends { locale?: string }>(entries: T[], locales: string[] | undefined): T[] => {
  if (!locales || locales.length === 0) return entries;
  const wanted = entries.filter(
    (e) => !e.locale || locales.some((l) => e.locale!.toLowerCase().startsWith(l.toLowerCase())),
  );
  return wanted.length > 0 ? wanted : entries;
};

/** §12.2.4 proof_types_supported, with key_attestations_required when the configuration demands attestations. */
function proofTypes(
  binding: NonNullable<CredentialDefinition['binding']>,
  attestation = false,
  issuerWide?: KeyAttestationRequirement | null,
): Record<string, unknown> {
  const requirement = keyAttestationRequirement(binding.keyAttestationsRequired, issuerWide);
  const required = requirement ? { key_attestations_required: requirement } : {};
  return {
    jwt: { proof_signing_alg_values_supported: binding.proofSigningAlgs, ...required },
    // An `attestation` proof is a key attestation, so its entry always says so (`{}`: any level);
    // EUDI (0.10.1 and later) refuses an attestation proof type without key_attestations_required.
    ...(attestation
      ? {
          attestation: {
            proof_signing_alg_values_supported: [...ATTESTATION_PROOF_ALGS],
            key_attestations_required: requirement ?? {},
          },
        }
      : {}),
  };
}

/** The claims path pointer of a mapped claim (OpenID4VCI 1.0 Appendix C), per format. */
export function claimPath(config: ResolvedConfiguration, claim: ClaimMapping): (string | null)[] {
  switch (config.format) {
    case 'ldp_vc':
    case 'jwt_vc_json':
      return ['credentialSubject', ...claim.path];
    case 'mso_mdoc':
      return [config.profile.namespace!, ...claim.path];
    default:
      return [...claim.path];
  }
}

/** Draft 13 claims map: nested objects whose leaves carry `mandatory` and `display`. */
function draft13Claims(claims: ClaimMapping[], locales: string[] | undefined): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const claim of claims) {
    let node = root;
    for (const key of claim.path.slice(0, -1)) {
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    node[claim.path.at(-1)!] = {
      ...(claim.mandatory ? { mandatory: true } : {}),
      ...(claim.display ? { display: filterLocales(claim.display, locales) } : {}),
    };
  }
  return root;
}

export function configurationMetadata(
  config: ResolvedConfiguration,
  locales?: string[],
  attestationProofType = false,
  keyAttestationsRequired?: KeyAttestationRequirement | null,
): Record<string, unknown> {
  const def = config.definition;
  const display = filterLocales(def.display, locales);
  const claims = def.claims.map((claim) => ({
    path: claimPath(config, claim),
    ...(claim.mandatory ? { mandatory: true } : {}),
    ...(claim.display ? { display: filterLocales(claim.display, locales) } : {}),
  }));
  const signingAlgs =
    config.format === 'ldp_vc'
      ? [config.profile.cryptosuite ?? 'eddsa-rdfc-2022']
      : config.format === 'mso_mdoc'
        ? [COSE_ALG[config.profile.alg ?? 'ES256']!]
        : [config.profile.alg ?? 'ES256'];
  const binding = def.binding
    ? {
        cryptographic_binding_methods_supported:
          config.format === 'mso_mdoc' ? ['cose_key'] : def.binding.methods,
        proof_types_supported: proofTypes(def.binding, attestationProofType, keyAttestationsRequired),
      }
    : {};
  const subject = draft13Claims(def.claims, locales);
  const formatSpecific: Record<string, unknown> =
    config.format === 'ldp_vc'
      ? {
          credential_definition: {
            '@context': [VC_V2_CONTEXT, ...config.contextUrls],
            type: ['VerifiableCredential', ...def.types],
            credentialSubject: subject,
          },
        }
      : config.format === 'jwt_vc_json'
        ? { credential_definition: { type: ['VerifiableCredential', ...def.types] } }
        : config.format === 'dc+sd-jwt'
          ? { vct: config.profile.vct }
          : { doctype: config.profile.doctype, claims: { [config.profile.namespace!]: subject } };
  return {
    format: config.format,
    ...(config.scope ? { scope: config.scope } : {}),
    ...binding,
    credential_signing_alg_values_supported: signingAlgs,
    ...formatSpecific,
    credential_metadata: { display, claims },
    // Draft 13 (and 14) wallets read display and claim order at this level.
    display,
    order: def.claims.map((c) => c.path.join('.')),
  };
}

export function buildIssuerMetadata(
  registry: ConfigurationRegistry,
  options: MetadataOptions,
): Record<string, unknown> {
  const endpoints = endpointsFor(options.publicUrl);
  const configurations = Object.fromEntries(
    registry
      .list()
      .map((c) => [
        c.id,
        configurationMetadata(
          c,
          options.locales,
          options.attestationProofType,
          options.keyAttestationsRequired,
        ),
      ]),
  );
  return {
    credential_issuer: options.publicUrl,
    // §12.2.4: the provider at the same URL is the authorization server. Published although that is
    // the default: walt.id resolves the token endpoint through authorization_servers!! and the Inji
    // Wallet release on inji-vci-client 0.2 reads authorization_servers[0] unguarded.
    // With trusted external authorization servers (vci.externalAuthorizationServers) they are listed
    // too, after ours unless vci.ownAuthorizationServer is on (unlisted) or off.
    authorization_servers: options.authorizationServers ?? [options.publicUrl],
    credential_endpoint: endpoints.credential,
    nonce_endpoint: endpoints.nonce,
    deferred_credential_endpoint: endpoints.deferred,
    notification_endpoint: endpoints.notification,
    credential_response_encryption: {
      alg_values_supported: [...ENCRYPTION_ALGS],
      enc_values_supported: [...ENCRYPTION_ENCS],
      encryption_required: options.requireEncryption,
    },
    // §12.2.4 / §10: request encryption with the same enc values as the response; no zip.
    ...(options.requestEncryption && options.requestEncryption.jwks.length > 0
      ? {
          credential_request_encryption: {
            jwks: { keys: options.requestEncryption.jwks },
            enc_values_supported: [...ENCRYPTION_ENCS],
            encryption_required: options.requestEncryption.required,
          },
        }
      : {}),
    ...(options.batchSize >= 2 ? { batch_credential_issuance: { batch_size: options.batchSize } } : {}),
    display: filterLocales(options.issuerDisplay, options.locales),
    credential_configurations_supported: configurations,
  };
}

/**
 * Signed metadata (§12.2.3): a JWT with `typ: openidvci-issuer-metadata+jwt`, `sub` = the issuer
 * identifier, `iat`, and every metadata parameter as a claim, signed with the active ES256
 * credential key. The header names the key twice: `kid` (its did:web verification method) and
 * `x5c`, the key's certificate issued by the IACA (`/.well-known/iaca.pem`, the trust anchor, is
 * left out as RFC 7515 §4.1.6 and HAIP allow). A verifier without did:web resolution (the OIDF
 * suite takes `jwk` or `x5c` only) checks the leaf key and the chain. Cached until the content or
 * key changes, and for an hour at most.
 */
export function createMetadataSigner(deps: {
  keys: KeyStore;
  clock: Clock;
  publicUrl: string;
  /** The signing key's certificate chain for `x5c` (src/credentials/x509 `joseX5c`). */
  x5c?: (key: ManagedKey) => Promise<string[]>;
}) {
  // One signature per metadata version and key, shared by concurrent requests (the x5c certificate
  // may need the store): a burst at start signs once instead of once per request.
  let cache: { hash: string; kid: string; jwt: Promise<string>; at: number } | undefined;
  return function signMetadata(metadata: Record<string, unknown>): Promise<string> {
    const key = deps.keys.active('credential', 'ES256');
    const hash = createHash('sha256').update(JSON.stringify(metadata)).digest('base64url');
    if (cache && cache.hash === hash && cache.kid === key.kid && deps.clock.now() - cache.at < 3_600_000)
      return cache.jwt;
    const sign = async (): Promise<string> => {
      const now = Math.floor(deps.clock.now() / 1000);
      const x5c = deps.x5c ? await deps.x5c(key) : undefined;
      // Signed through the key (in-process or PKCS#11), not jose's SignJWT, which needs the private key.
      const header = {
        alg: 'ES256',
        typ: 'openidvci-issuer-metadata+jwt',
        kid: jwkVerificationMethodId(deps.publicUrl, key.kid),
        ...(x5c ? { x5c } : {}),
      };
      const payload = { ...metadata, sub: deps.publicUrl, iss: deps.publicUrl, iat: now, exp: now + 86_400 };
      return signCompact(key, Buffer.from(JSON.stringify(header), 'utf8').toString('base64url'), payload);
    };
    const entry = { hash, kid: key.kid, jwt: sign(), at: deps.clock.now() };
    cache = entry;
    // A failed signature is not kept: the next request tries again.
    entry.jwt.catch(() => {
      if (cache === entry) cache = undefined;
    });
    return entry.jwt;
  };
}
