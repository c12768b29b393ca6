import { createHash, createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { InvalidGrant, InvalidRequest } from '../errors.ts';
import type { PreAuthorizedCodeRedeemer, PreAuthorizedGrant } from '../oidc/bridge.ts';
import { randomId } from '../random.ts';
import type { Store, StoredDoc } from '../store/spi.ts';

/**
 * Pre-authorized codes (OpenID4VCI 1.0 §4.1.1, §6.1): 256 random bits, stored only as a hash,
 * single use, short-lived. The optional tx_code is stored as an HMAC under a per-code salt.
 * Guessing is bounded (§13.6 "Transaction Code Guessing"; SECURITY.md row 24): every tx_code
 * attempt takes one slot of an atomic counter with a limit; a wrong one answers invalid_grant and
 * the last allowed wrong one invalidates the code, after which even the right tx_code fails.
 * A missing tx_code is `invalid_request` and consumes nothing.
 */

/**
 * The pre-authorized code grant type (OpenID4VCI 1.0 §4.1.1 `grants`, §6.1 token request,
 * https://openid.net/specs/openid-4-verifiable-credential-issuance-1_0.html#section-6.1): named by
 * offers, registered at the token endpoint, shown by the admin audit view.
 */
export const PRE_AUTHORIZED_GRANT = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';

export interface PreAuthorizedCodeDoc extends StoredDoc {
  accountId: string;
  identitySystem: string;
  configurationIds: string[];
  consentedClaims: string[];
  txSalt?: string;
  txHash?: string;
  createdAt: number;
}

export interface PreAuthorizedCodes extends PreAuthorizedCodeRedeemer {
  create(input: {
    accountId: string;
    identitySystem: string;
    configurationIds: string[];
    consentedClaims: string[];
    txCode?: string;
  }): Promise<{ code: string; expiresInSeconds: number }>;
  /**
   * Where the code filed under `codeHash` (SHA-256, base64url) stands: waiting to be redeemed,
   * redeemed, or gone (expired, or deleted after too many wrong tx_codes). Reads nothing secret.
   */
  stateOf(codeHash: string): Promise<'waiting' | 'redeemed' | 'gone'>;
}

const digest = (value: string) => createHash('sha256').update(value).digest('base64url');
const hmac = (salt: string, value: string) => createHmac('sha256', salt).update(value).digest();

/** A numeric tx_code from a CSPRNG. */
export const generateTxCode = (length: number): string =>
  Array.from({ length }, () => String(randomInt(0, 10))).join('');

export function createPreAuthorizedCodes(deps: {
  store: Store;
  clock: Clock;
  ttlSeconds: number;
  maxAttempts: number;
}): PreAuthorizedCodes {
  const { store, clock, ttlSeconds, maxAttempts } = deps;
  const codes = store.collection<PreAuthorizedCodeDoc>({ name: 'vci_pre_authorized_codes' });

  const grantOf = (doc: PreAuthorizedCodeDoc): PreAuthorizedGrant => ({
    accountId: doc.accountId,
    identitySystem: doc.identitySystem,
    credentialConfigurationIds: doc.configurationIds,
    authorizationDetails: [],
    consentedClaims: doc.consentedClaims,
  });

  return {
    async create(input) {
      const code = randomId(32);
      const txSalt = input.txCode ? randomId(16) : undefined;
      await codes.insert({
        _id: digest(code),
        accountId: input.accountId,
        identitySystem: input.identitySystem,
        configurationIds: input.configurationIds,
        consentedClaims: input.consentedClaims,
        ...(input.txCode && txSalt
          ? { txSalt, txHash: hmac(txSalt, input.txCode).toString('base64url') }
          : {}),
        createdAt: clock.now(),
        expiresAt: clock.now() + ttlSeconds * 1000,
      });
      return { code, expiresInSeconds: ttlSeconds };
    },

    async stateOf(codeHash) {
      const doc = await codes.get(codeHash);
      if (!doc) return 'gone';
      return doc.consumedAt === undefined ? 'waiting' : 'redeemed';
    },

    async redeem(code, txCode, check) {
      if (typeof code !== 'string' || code.length === 0 || code.length > 200)
        throw new InvalidGrant('invalid pre-authorized code');
      const id = digest(code);
      const doc = await codes.get(id);
      if (!doc || doc.consumedAt !== undefined)
        throw new InvalidGrant('the pre-authorized code is invalid, expired or already used');
      check?.(grantOf(doc));
      if (doc.txHash && doc.txSalt) {
        // §6.1: a tx_code is required when the offer said so; asking again consumes nothing.
        if (txCode === undefined || txCode === '')
          throw new InvalidRequest('tx_code is required for this pre-authorized code');
        const attempt = await store.increment(`vci_tx_code:${id}`, { limit: maxAttempts, ttlSeconds });
        if (attempt > maxAttempts) {
          await codes.delete(id);
          throw new InvalidGrant('the pre-authorized code is invalid, expired or already used');
        }
        const right =
          txCode.length <= 64 &&
          timingSafeEqual(hmac(doc.txSalt, txCode), Buffer.from(doc.txHash, 'base64url'));
        if (!right) {
          if (attempt >= maxAttempts) await codes.delete(id);
          throw new InvalidGrant('the tx_code is wrong');
        }
      } else if (txCode !== undefined) {
        throw new InvalidRequest('this pre-authorized code takes no tx_code');
      }
      const consumed = await codes.consume(id);
      if (!consumed) throw new InvalidGrant('the pre-authorized code is invalid, expired or already used');
      return grantOf(consumed);
    },
  };
}
