import { type CryptoKey, compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import type { Clock } from '../clock.ts';
import { insertNew } from '../store/insert-new.ts';
import type { Store, StoredDoc } from '../store/spi.ts';
import { normalizeIndividualId, sha256 } from './crypto.ts';
import type { TransactionRef } from './spi.ts';

export interface BiometricPolicy {
  /** Registered capture devices and their public keys. */
  devices: readonly { kid: string; jwk: Record<string, unknown> }[];
  maxCaptureAgeSeconds: number;
  minCaptureChars: number;
  maxCaptureChars: number;
}

/** What a capture device signs. Only hashes: the biometric sample itself never reaches us. */
export interface CapturePayload {
  transactionId: string;
  /** base64url(SHA-256(individual ID)), with the ID normalized (no spaces or dashes, upper case). */
  individualIdHash: string;
  /** base64url(SHA-256(the captured sample)), as matched by the device's own matcher. */
  captureHash: string;
  /** Capture time: ISO 8601 or epoch seconds. */
  timestamp: string | number;
  /**
   * SBI `domainUri`: the origin of the page that asked for the capture (eSignet's login page sends
   * `window.origin`). Checked when the verifier knows its own (the service's public origin): a capture
   * another site asked for is refused, even for this transaction.
   */
  domainUri?: string;
}

const ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256', 'RS256'];
/** Device clocks may run a little ahead. */
const FUTURE_SKEW_SECONDS = 30;

/** The individual-ID hash a device puts in a capture. */
export const captureIndividualHash = (individualId: string): string =>
  sha256(normalizeIndividualId(individualId));

/**
 * Checks a biometric capture (SECURITY.md row 48): a compact JWS within the size bounds (eSignet:
 * 500–500,000 characters), signed by a registered device key, fresh, for this transaction and this
 * individual, and used once. Only the capture's hash is kept (to refuse replays), never the capture.
 */
export class BiometricVerifier {
  private readonly policy: BiometricPolicy;
  private readonly clock: Clock;
  private readonly domainUri: string | undefined;
  private readonly seen;
  private keys: Map<string, CryptoKey | Uint8Array> | undefined;

  constructor(deps: { store: Store; clock: Clock; policy: BiometricPolicy; domainUri?: string }) {
    this.policy = deps.policy;
    this.clock = deps.clock;
    this.domainUri = deps.domainUri && new URL(deps.domainUri).origin;
    this.seen = deps.store.collection<StoredDoc>({ name: 'biometric_captures' });
  }

  private async deviceKeys(): Promise<Map<string, CryptoKey | Uint8Array>> {
    if (!this.keys) {
      const keys = new Map<string, CryptoKey | Uint8Array>();
      for (const device of this.policy.devices) {
        const jwk = device.jwk as JWK;
        if (jwk.d) throw new Error(`kyc.biometric.devices[${device.kid}]: must be a public key`);
        keys.set(device.kid, await importJWK(jwk, jwk.alg ?? (jwk.crv === 'Ed25519' ? 'EdDSA' : 'ES256')));
      }
      this.keys = keys;
    }
    return this.keys;
  }

  async verify(capture: unknown, individualId: string, transaction: TransactionRef): Promise<boolean> {
    const { minCaptureChars, maxCaptureChars, maxCaptureAgeSeconds } = this.policy;
    if (typeof capture !== 'string' || capture.length < minCaptureChars || capture.length > maxCaptureChars) {
      return false;
    }
    let payload: Partial<CapturePayload>;
    try {
      const { kid } = decodeProtectedHeader(capture);
      const key = kid ? (await this.deviceKeys()).get(kid) : undefined;
      if (!key) return false;
      const verified = await compactVerify(capture, key, { algorithms: ALGORITHMS });
      payload = JSON.parse(new TextDecoder().decode(verified.payload));
    } catch {
      return false;
    }
    // A signed payload that is not a JSON object (null, a number, an array) is no capture.
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return false;
    const at =
      typeof payload.timestamp === 'number' ? payload.timestamp * 1000 : Date.parse(payload.timestamp ?? '');
    const now = this.clock.now();
    if (
      !Number.isFinite(at) ||
      at < now - maxCaptureAgeSeconds * 1000 ||
      at > now + FUTURE_SKEW_SECONDS * 1000 ||
      payload.transactionId !== transaction.transactionId ||
      payload.individualIdHash !== captureIndividualHash(individualId) ||
      (this.domainUri !== undefined && originOf(payload.domainUri) !== this.domainUri) ||
      typeof payload.captureHash !== 'string' ||
      payload.captureHash.length < 16
    ) {
      return false;
    }
    // Keyed by what was signed (header and payload), not by this spelling of it: an ECDSA signature
    // verifies as (r, n - s) too, and base64url leaves unused bits in its last character.
    return insertNew(this.seen, {
      _id: sha256(capture.slice(0, capture.lastIndexOf('.'))),
      expiresAt: now + (maxCaptureAgeSeconds + FUTURE_SKEW_SECONDS) * 1000,
    });
  }
}

const originOf = (uri: unknown): string | undefined =>
  typeof uri === 'string' ? URL.parse(uri)?.origin : undefined;
