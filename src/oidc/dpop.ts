import { calculateJwkThumbprint, EmbeddedJWK, type JWK, jwtVerify } from 'jose';
import type { Clock } from '../clock.ts';
import { sha256Base64url } from '../crypto/hash.ts';
import { AppError } from '../errors.ts';
import { type Store, UniqueViolation } from '../store/spi.ts';

/**
 * RFC 9449 DPoP proof validation for the endpoints we serve outside oidc-provider (the credential
 * endpoint through the TokenVerifier, the pre-authorized code grant at the token endpoint).
 * oidc-provider validates proofs on its own endpoints.
 */

/** §4.3 and the algorithms we accept (asymmetric only; `none` and HMAC never). */
export const DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'];
/** Accepted distance between the proof's `iat` and our clock, in seconds (oidc-provider uses 300). */
const IAT_WINDOW_SECONDS = 300;
const MAX_PROOF_CHARS = 8192;

export class InvalidDpopProof extends AppError {
  constructor(description: string) {
    super(401, 'invalid_dpop_proof', description, {
      headers: { 'WWW-Authenticate': `DPoP error="invalid_dpop_proof", algs="${DPOP_ALGORITHMS.join(' ')}"` },
    });
    this.name = 'invalid_dpop_proof';
  }
}

export interface DpopCheck {
  proof: string | undefined;
  method: string;
  /** The request URL; compared without query and fragment (§4.3 check 9). */
  url: string;
  /** When presented with an access token, the proof must carry its hash (`ath`, §4.3 check 11). */
  accessToken?: string;
}

const htuOf = (url: string) => {
  const parsed = URL.parse(url);
  if (!parsed) return undefined;
  parsed.search = '';
  parsed.hash = '';
  return parsed.href;
};

/** Validates a proof and returns the key's RFC 7638 thumbprint (`jkt`). The `jti` is single use. */
export async function verifyDpopProof(check: DpopCheck, clock: Clock, store: Store): Promise<string> {
  const { proof } = check;
  if (!proof) throw new InvalidDpopProof('DPoP proof is missing');
  if (proof.length > MAX_PROOF_CHARS || proof.includes(','))
    throw new InvalidDpopProof('DPoP proof is malformed');
  let header: { jwk?: JWK };
  let payload: Record<string, unknown>;
  try {
    ({ payload, protectedHeader: header } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: DPOP_ALGORITHMS,
      // iat is checked below against our clock, not jose's.
      currentDate: new Date(clock.now()),
      clockTolerance: IAT_WINDOW_SECONDS,
    }));
  } catch {
    throw new InvalidDpopProof('DPoP proof signature, typ or algorithm is invalid');
  }
  const jwk = header.jwk as JWK;
  if ('d' in jwk || 'k' in jwk) throw new InvalidDpopProof('DPoP proof jwk must be a public key');
  if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256) {
    throw new InvalidDpopProof('DPoP proof must have a jti');
  }
  if (payload.htm !== check.method) throw new InvalidDpopProof('DPoP proof htm mismatch');
  if (typeof payload.htu !== 'string' || htuOf(payload.htu) !== htuOf(check.url)) {
    throw new InvalidDpopProof('DPoP proof htu mismatch');
  }
  const now = Math.floor(clock.now() / 1000);
  if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > IAT_WINDOW_SECONDS) {
    throw new InvalidDpopProof('DPoP proof iat is not recent enough');
  }
  if (check.accessToken !== undefined && payload.ath !== sha256Base64url(check.accessToken)) {
    throw new InvalidDpopProof('DPoP proof ath mismatch');
  }
  const jkt = await calculateJwkThumbprint(jwk);
  // §11.1: a proof is used once. One unique insert: of N parallel uses exactly one succeeds.
  try {
    await store.collection({ name: 'oidc_dpop_jti' }).insert({
      _id: sha256Base64url(`${jkt}\n${payload.jti}`),
      expiresAt: clock.now() + 2 * IAT_WINDOW_SECONDS * 1000,
    });
  } catch (error) {
    if (error instanceof UniqueViolation) throw new InvalidDpopProof('DPoP proof jti was already used');
    throw error;
  }
  return jkt;
}
