import type { Clock } from '../../clock.ts';
import { sha256Base64url } from '../../crypto/hash.ts';
import { didWebFromUrl, verificationMethodId } from '../../keys/documents.ts';
import type { KeyStore, ManagedKey } from '../../keys/spi.ts';
import { encodedHeader, type JwsAlgorithm, signCompact } from '../formats/jws.ts';
import { encodeBitstring, encodeTokenList } from './encoding.ts';
import { rawOf, type StatusListRecord, statusListUrl } from './list-record.ts';

/**
 * Signed status lists: an IETF Token Status List JWT (draft-ietf-oauth-status-list), or a W3C
 * BitstringStatusListCredential secured as an ldp_vc or a JWT. Cached per instance and re-signed
 * only when the version, the signing key or the validity window says so.
 */

export interface ServedStatusList {
  /** A compact JWT, or the ldp_vc status list credential. */
  body: string | Record<string, unknown>;
  contentType: string;
  etag: string;
  maxAgeSeconds: number;
  lastModified: Date;
}

export interface SignedListOptions {
  keys: KeyStore;
  clock: Clock;
  publicUrl: string;
  ttlSeconds: number;
  validitySeconds: number;
  alg: JwsAlgorithm;
  signLdpCredential?: (credential: Record<string, unknown>) => Promise<Record<string, unknown>>;
  tokenX5c?: (key: ManagedKey) => Promise<string[] | undefined>;
}

/** Returns `signed(record)`: the list signed now, or the cached signature while it still holds. */
export function createSignedLists(options: SignedListOptions) {
  const { keys, clock, publicUrl, ttlSeconds, validitySeconds, alg } = options;
  const did = didWebFromUrl(publicUrl);
  const signingKey = () => keys.active('credential', alg);
  const cache = new Map<string, { mark: string; refreshAt: number; served: Promise<ServedStatusList> }>();

  async function sign(record: StatusListRecord): Promise<ServedStatusList> {
    const nowMs = clock.now();
    const iat = Math.floor(nowMs / 1000);
    const url = statusListUrl(publicUrl, record.kind, record._id);
    const raw = rawOf(record);
    let body: ServedStatusList['body'];
    let contentType: string;
    if (record.kind === 'token') {
      const key = signingKey();
      const x5c = (await options.tokenX5c?.(key)) ?? undefined;
      // draft-ietf-oauth-status-list §5.1: typ statuslist+jwt; sub = the list's URI; ttl; exp.
      const header = encodedHeader(key, `statuslist+jwt ${x5c?.[0] ?? ''}`, () => ({
        typ: 'statuslist+jwt',
        kid: key.kid,
        ...(x5c ? { x5c } : {}),
      }));
      body = signCompact(key, header, {
        iss: publicUrl,
        sub: url,
        iat,
        exp: iat + validitySeconds,
        ttl: ttlSeconds,
        status_list: { bits: record.bits, lst: encodeTokenList(raw) },
      });
      contentType = 'application/statuslist+jwt';
    } else {
      // Bitstring Status List §2.2 (BitstringStatusListCredential), VC Data Model 2.0.
      const credential: Record<string, unknown> = {
        '@context': ['https://www.w3.org/ns/credentials/v2'],
        id: url,
        type: ['VerifiableCredential', 'BitstringStatusListCredential'],
        issuer: did,
        validFrom: new Date(iat * 1000).toISOString().replace('.000Z', 'Z'),
        validUntil: new Date((iat + validitySeconds) * 1000).toISOString().replace('.000Z', 'Z'),
        credentialSubject: {
          id: `${url}#list`,
          type: 'BitstringStatusList',
          statusPurpose: record.purpose,
          encodedList: encodeBitstring(raw),
          ttl: ttlSeconds * 1000,
        },
      };
      if (record.securing === 'ldp_vc') {
        if (!options.signLdpCredential)
          throw new Error('no ldp_vc signer configured for bitstring status lists');
        body = await options.signLdpCredential(structuredClone(credential));
        contentType = 'application/vc+ld+json';
      } else {
        // VC-JOSE-COSE §3.1 (https://www.w3.org/TR/vc-jose-cose/): the JWT payload is the credential.
        const key = signingKey();
        const header = encodedHeader(key, `vc+jwt ${did}`, () => ({
          typ: 'vc+jwt',
          kid: verificationMethodId(publicUrl, key.kid),
        }));
        body = signCompact(key, header, { ...credential, iss: did, iat, exp: iat + validitySeconds });
        contentType = 'application/vc+jwt';
      }
    }
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return {
      body,
      contentType,
      etag: `"${sha256Base64url(text).slice(0, 27)}"`,
      maxAgeSeconds: ttlSeconds,
      lastModified: new Date(record.updatedAt),
    };
  }

  /** Marks what a cached signature depends on: the list version and the key(s) that sign it. */
  function markOf(record: StatusListRecord): string {
    const signer =
      record.securing === 'ldp_vc'
        ? `${keys.active('credential', 'EdDSA').kid}:${keys.active('credential', 'ES256').kid}`
        : signingKey().kid;
    return `${record.version}:${signer}`;
  }

  return function signed(record: StatusListRecord): Promise<ServedStatusList> {
    const mark = markOf(record);
    const cached = cache.get(record._id);
    if (cached && cached.mark === mark && cached.refreshAt > clock.now()) return cached.served;
    const served = sign(record);
    // Re-sign at half the validity so a cached copy downstream never outlives its `exp`.
    cache.set(record._id, { mark, refreshAt: clock.now() + (validitySeconds * 1000) / 2, served });
    served.catch(() => cache.delete(record._id));
    return served;
  };
}
