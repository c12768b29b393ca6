import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, type JWK, jwtVerify } from 'jose';
import type { Clock } from '../clock.ts';
import { Conflict, InvalidRequest } from '../errors.ts';
import { insertNew } from '../store/insert-new.ts';
import type { Store, StoredDoc } from '../store/spi.ts';
import { hmac, sha256 } from './crypto.ts';

export interface WalletPolicy {
  /** How long a binding lasts, in seconds (eSignet `mosip.esignet.binding.key-expire-days`: 10 days). */
  bindingTtlSeconds: number;
  /** The issuer identifier: the `aud` a wallet challenge must carry. */
  issuer: string;
}

/** A wallet key bound to an account (eSignet `public_key_registry`). The JWK is public. */
interface BindingDoc extends StoredDoc {
  /** RFC 7638 JWK SHA-256 thumbprint of the wallet key. */
  _id: string;
  accountId: string;
  jwk: JWK;
  boundAt: number;
  expiresAt: number;
}

export interface WalletBinding {
  readonly thumbprint: string;
  readonly expiresAt: number;
}

const ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256', 'RS256'];
const KEY_TYPES = ['EC', 'OKP', 'RSA'];
/** How old a wallet challenge may be, and how far ahead the wallet's clock may run, in seconds. */
const CHALLENGE_MAX_AGE_SECONDS = 120;
const FUTURE_SKEW_SECONDS = 30;
/** eSignet WLA challenges are 500–1000 characters; RSA-signed ones with a kid run a little longer. */
const MAX_CHALLENGE_CHARS = 2000;

/**
 * Wallet binding and wallet login (SECURITY.md row 49; eSignet key binding + `WLA` factor).
 *
 * Binding: after an OTP, a person binds a wallet's public key to their account for
 * `bindingTtlSeconds`. A key is bound to one account only (eSignet refuses the same key for another
 * person); binding it again to the same account renews it.
 *
 * Login: the wallet signs a JWT `{ nonce, aud: <issuer>, iat }` with the bound key, header `kid` =
 * the key's thumbprint. `nonce` is the login transaction's wallet nonce (an HMAC of the transaction
 * id, published by the interaction API as `wallet_nonce`), so a challenge works in one transaction
 * only; it is also accepted once.
 */
export class WalletBindings {
  private readonly bindings;
  private readonly seen;
  private readonly clock: Clock;
  private readonly policy: WalletPolicy;
  private readonly key: Buffer;

  constructor(deps: { store: Store; clock: Clock; key: Buffer; policy: WalletPolicy }) {
    this.clock = deps.clock;
    this.policy = deps.policy;
    this.key = deps.key;
    this.bindings = deps.store.collection<BindingDoc>({ name: 'wallet_bindings' });
    this.seen = deps.store.collection<StoredDoc>({ name: 'wallet_challenges' });
  }

  /** The nonce a wallet signs to log in to this transaction. */
  nonceFor(transactionId: string): string {
    return hmac(this.key, `wallet-nonce|${transactionId}`);
  }

  /** Binds (or renews) a public key for an account. Throws for a private or unusable key, or one bound to someone else. */
  async bind(accountId: string, jwk: unknown): Promise<WalletBinding> {
    const key = await checkWalletKey(jwk);
    const thumbprint = await calculateJwkThumbprint(key, 'sha256');
    const now = this.clock.now();
    const existing = await this.bindings.get(thumbprint);
    if (existing && existing.accountId !== accountId && existing.expiresAt > now) {
      throw new Conflict('this wallet key is bound to another person');
    }
    const expiresAt = now + this.policy.bindingTtlSeconds * 1000;
    await this.bindings.put({ _id: thumbprint, accountId, jwk: key, boundAt: now, expiresAt });
    return { thumbprint, expiresAt };
  }

  /** The account a live binding ties this public key to (`vp` factor), or undefined. */
  async accountForKey(jwk: unknown): Promise<string | undefined> {
    let thumbprint: string;
    try {
      thumbprint = await calculateJwkThumbprint(publicJwk(jwk), 'sha256');
    } catch {
      return undefined;
    }
    const binding = await this.bindings.get(thumbprint);
    return binding && binding.expiresAt > this.clock.now() ? binding.accountId : undefined;
  }

  /**
   * True when `challenge` is a fresh, unused JWT signed by a live key bound to `accountId`, for this
   * transaction's nonce and our issuer. Never throws for a bad challenge.
   */
  async verify(challenge: unknown, accountId: string | undefined, transactionId: string): Promise<boolean> {
    if (typeof challenge !== 'string' || challenge.length > MAX_CHALLENGE_CHARS || !accountId) return false;
    const now = this.clock.now();
    try {
      const { kid } = decodeProtectedHeader(challenge);
      const binding = typeof kid === 'string' ? await this.bindings.get(kid) : undefined;
      // Expiry is checked here too: the store hides expired rows, but a sweep may lag.
      if (!binding || binding.accountId !== accountId || binding.expiresAt <= now) return false;
      const key = await importJWK(binding.jwk, binding.jwk.alg ?? defaultAlg(binding.jwk));
      const { payload } = await jwtVerify(challenge, key, {
        algorithms: ALGORITHMS,
        audience: this.policy.issuer,
        currentDate: new Date(now),
        maxTokenAge: CHALLENGE_MAX_AGE_SECONDS,
        clockTolerance: FUTURE_SKEW_SECONDS,
        requiredClaims: ['iat', 'nonce'],
      });
      if (payload.nonce !== this.nonceFor(transactionId)) return false;
      if ((payload.iat ?? 0) * 1000 > now + FUTURE_SKEW_SECONDS * 1000) return false;
    } catch {
      return false;
    }
    // Keyed by what was signed (header and payload), not by this spelling of it: an ECDSA signature
    // verifies as (r, n - s) too, and base64url leaves unused bits in its last character.
    return insertNew(this.seen, {
      _id: sha256(challenge.slice(0, challenge.lastIndexOf('.'))),
      expiresAt: now + (CHALLENGE_MAX_AGE_SECONDS + FUTURE_SKEW_SECONDS) * 1000,
    });
  }
}

/** The key's defining members, when it is a usable public JWK; throws invalid_request otherwise. */
export async function checkWalletKey(jwk: unknown): Promise<JWK> {
  const key = publicJwk(jwk);
  try {
    await importJWK(key, key.alg ?? defaultAlg(key));
  } catch {
    throw new InvalidRequest('public_key is not a usable public JWK');
  }
  return key;
}

function publicJwk(jwk: unknown): JWK {
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) {
    throw new InvalidRequest('public_key must be a JWK object');
  }
  const key = jwk as JWK;
  if (!KEY_TYPES.includes(String(key.kty))) throw new InvalidRequest('public_key.kty must be EC, OKP or RSA');
  if ('d' in key || 'p' in key || 'k' in key)
    throw new InvalidRequest('public_key must not be a private key');
  // Only the members that define the key (and its algorithm) are kept.
  const members = ['kty', 'crv', 'x', 'y', 'n', 'e', 'alg'] as const;
  const kept: JWK = {};
  for (const name of members) if (typeof key[name] === 'string') kept[name] = key[name];
  if (kept.alg !== undefined && !ALGORITHMS.includes(kept.alg)) {
    throw new InvalidRequest(`public_key.alg must be one of ${ALGORITHMS.join(', ')}`);
  }
  return kept;
}

const defaultAlg = (jwk: JWK): string =>
  jwk.kty === 'OKP' ? 'EdDSA' : jwk.kty === 'RSA' ? 'PS256' : jwk.crv === 'P-384' ? 'ES384' : 'ES256';
