import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import QRCode from 'qrcode';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/defaults.ts';
import type { ConfigurationRegistry } from '../credentials/configurations/registry.ts';
import { InvalidRequest, NotFound } from '../errors.ts';
import type { Metrics } from '../http/metrics.ts';
import type { IdentitySystemRegistry } from '../kyc/spi.ts';
import { randomId } from '../random.ts';
import type { Store, StoredDoc } from '../store/spi.ts';
import { generateTxCode, PRE_AUTHORIZED_GRANT, type PreAuthorizedCodes } from './pre-authorized.ts';

/**
 * Issuer-initiated credential offers (OpenID4VCI 1.0 §4.1). An offer names the configurations and
 * carries a pre-authorized code; it never carries personal data or the tx_code (SECURITY.md row
 * 39). By reference, it is served once from an unguessable, short-lived `credential_offer_uri`.
 */

export interface CreateOfferInput {
  credential_configuration_ids?: unknown;
  individual_id?: unknown;
  tx_code?: unknown;
  identity_system?: unknown;
  /** `pre-authorized_code` (default) or `authorization_code` (an offer with issuer_state; the person logs in). */
  grant?: unknown;
}

/**
 * What an `issuer_state` from an authorization-code offer stands for (OpenID4VCI 1.0 §4.1.1,
 * §5.1.3). The OpenID Provider resolves it when a wallet echoes it in the authorization request:
 * the configurations to authorize and, when the offer named a person, whose login it expects.
 */
export interface IssuerStateResolver {
  /** Undefined when unknown or expired. Not consumed: the person may retry the login. */
  resolve(
    issuerState: string,
  ): Promise<
    { credentialConfigurationIds: string[]; accountId?: string; identitySystem?: string } | undefined
  >;
}

interface IssuerStateDoc extends StoredDoc {
  configurationIds: string[];
  accountId?: string;
  identitySystem?: string;
}

interface OfferDoc extends StoredDoc {
  /** The offer sealed with AES-256-GCM under a key derived from the offer id (iv | tag | ciphertext). */
  sealed: string;
}

/**
 * An offer by reference carries the pre-authorized code, a bearer secret. The store keeps it only
 * sealed under a key derived from the unguessable offer id in the URL, and addresses it by the id's
 * hash, so a copy of the database alone never yields a redeemable code.
 */
const offerDocId = (offerId: string) =>
  createHash('sha256').update(`offer-id:${offerId}`).digest('base64url');
const stateId = (issuerState: string) =>
  createHash('sha256').update(`issuer-state:${issuerState}`).digest('base64url');
const offerKey = (offerId: string) => createHash('sha256').update(`offer-key:${offerId}`).digest();

function seal(offerId: string, offer: Record<string, unknown>): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', offerKey(offerId), iv);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(offer), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
}

function open(offerId: string, sealed: string): Record<string, unknown> {
  const bytes = Buffer.from(sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', offerKey(offerId), bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(12, 28));
  return JSON.parse(Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8'));
}

export function createOffers(deps: {
  config: Config;
  clock: Clock;
  store: Store;
  registry: ConfigurationRegistry;
  codes: PreAuthorizedCodes;
  identitySystems: IdentitySystemRegistry;
  /** Counts the offers created (`credential_offers_created_total`). */
  metrics?: Pick<Metrics, 'offersCreated'>;
}) {
  const { config, clock, registry, codes } = deps;
  const publicUrl = config.resolved.publicUrl;
  const offers = deps.store.collection<OfferDoc>({ name: 'vci_offers' });

  const states = deps.store.collection<IssuerStateDoc>({ name: 'vci_issuer_states' });

  /** Stores the offer for its credential_offer_uri and builds the links and the QR code. */
  async function publish(offer: Record<string, unknown>, expiresInSeconds: number) {
    const offerId = randomId(24);
    const ttl = Math.min(config.vci.offerUriTtlSeconds, expiresInSeconds);
    await offers.insert({
      _id: offerDocId(offerId),
      sealed: seal(offerId, offer),
      expiresAt: clock.now() + ttl * 1000,
    });
    deps.metrics?.offersCreated.inc();
    const offerUri = `${publicUrl}/credential-offer/${offerId}`;
    const byReference = `openid-credential-offer://?credential_offer_uri=${encodeURIComponent(offerUri)}`;
    const byValue = `openid-credential-offer://?credential_offer=${encodeURIComponent(JSON.stringify(offer))}`;
    return {
      credential_offer: offer,
      credential_offer_uri: offerUri,
      credential_offer_url: byValue,
      credential_offer_uri_url: byReference,
      qr_svg: await QRCode.toString(byReference, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }),
      expires_in: expiresInSeconds,
      credential_offer_uri_expires_in: ttl,
    };
  }

  /**
   * §4.1.1 authorization_code grant: the person logs in at the provider; `issuer_state` (256 random
   * bits, stored by hash) lets the provider tie that login to this offer.
   */
  async function createAuthorizationCodeOffer(input: CreateOfferInput, configurationIds: string[]) {
    let account: { accountId: string; identitySystem: string } | undefined;
    if (input.individual_id !== undefined) {
      if (
        typeof input.individual_id !== 'string' ||
        input.individual_id.length === 0 ||
        input.individual_id.length > 128
      ) {
        throw new InvalidRequest('individual_id must be a string');
      }
      const systems = deps.identitySystems;
      const system =
        typeof input.identity_system === 'string'
          ? systems.get(input.identity_system)
          : systems.defaultSystem();
      const accountId = await system.accountFor(input.individual_id);
      if (!accountId) throw new NotFound('no such individual in the identity system');
      account = { accountId, identitySystem: system.name };
    }
    const issuerState = randomId(32);
    const ttl = config.vci.preAuthorizedCodeTtlSeconds;
    await states.insert({
      _id: stateId(issuerState),
      configurationIds,
      ...(account ?? {}),
      expiresAt: clock.now() + ttl * 1000,
    });
    const offer = {
      credential_issuer: publicUrl,
      credential_configuration_ids: configurationIds,
      grants: { authorization_code: { issuer_state: issuerState } },
    };
    return publish(offer, ttl);
  }

  const issuerStates: IssuerStateResolver = {
    async resolve(issuerState) {
      if (typeof issuerState !== 'string' || issuerState.length > 200) return undefined;
      const doc = await states.get(stateId(issuerState));
      if (!doc) return undefined;
      return {
        credentialConfigurationIds: doc.configurationIds,
        ...(doc.accountId ? { accountId: doc.accountId } : {}),
        ...(doc.identitySystem ? { identitySystem: doc.identitySystem } : {}),
      };
    },
  };

  return {
    async create(input: CreateOfferInput) {
      const ids = input.credential_configuration_ids;
      if (!Array.isArray(ids) || ids.length === 0 || ids.some((id) => typeof id !== 'string')) {
        throw new InvalidRequest('credential_configuration_ids must be a non-empty array of strings');
      }
      const unknown = (ids as string[]).filter((id) => !registry.has(id));
      if (unknown.length > 0)
        throw new InvalidRequest(`unknown credential configurations: ${unknown.join(', ')}`);
      if (
        input.grant !== undefined &&
        input.grant !== 'pre-authorized_code' &&
        input.grant !== 'authorization_code'
      ) {
        throw new InvalidRequest('grant must be "pre-authorized_code" or "authorization_code"');
      }
      if (input.grant === 'authorization_code')
        return createAuthorizationCodeOffer(input, [...new Set(ids as string[])]);
      if (
        typeof input.individual_id !== 'string' ||
        input.individual_id.length === 0 ||
        input.individual_id.length > 128
      ) {
        throw new InvalidRequest('individual_id is required');
      }
      if (input.tx_code !== undefined && typeof input.tx_code !== 'boolean')
        throw new InvalidRequest('tx_code must be a boolean');
      if (input.identity_system !== undefined && typeof input.identity_system !== 'string') {
        throw new InvalidRequest('identity_system must be a string');
      }
      const systems = deps.identitySystems;
      let system: ReturnType<IdentitySystemRegistry['get']>;
      try {
        system = input.identity_system
          ? systems.get(input.identity_system as string)
          : systems.defaultSystem();
      } catch {
        throw new InvalidRequest('unknown identity_system');
      }
      const accountId = await system.accountFor(input.individual_id);
      // The individual ID is personal data: the message never repeats it.
      if (!accountId) throw new NotFound('no such individual in the identity system');

      const configurationIds = [...new Set(ids as string[])];
      const consentedClaims = [...new Set(configurationIds.flatMap((id) => registry.claimsFor(id)))];
      const txCode = input.tx_code ? generateTxCode(config.vci.txCodeLength) : undefined;
      const { code, expiresInSeconds } = await codes.create({
        accountId,
        identitySystem: system.name,
        configurationIds,
        consentedClaims,
        ...(txCode ? { txCode } : {}),
      });

      let txCodeSentTo: string | undefined;
      if (txCode) {
        const names = configurationIds
          .map((id) => registry.get(id)!.definition.display[0]?.name)
          .filter(Boolean);
        const minutes = Math.round(expiresInSeconds / 60);
        const sent = await systems.sendToIndividual(
          accountId,
          {
            subject: 'Your wallet code',
            text: `Your code to add ${[...new Set(names)].join(' and ')} to your wallet is ${txCode}. It expires in ${minutes} minutes. Never share it: we will never ask you for it.`,
            purpose: 'tx_code',
          },
          { system: system.name },
        );
        txCodeSentTo = sent.maskedTo;
      }

      const offer = {
        credential_issuer: publicUrl,
        credential_configuration_ids: configurationIds,
        grants: {
          [PRE_AUTHORIZED_GRANT]: {
            'pre-authorized_code': code,
            ...(txCode
              ? {
                  tx_code: {
                    input_mode: 'numeric',
                    length: txCode.length,
                    description: 'Enter the code we sent to your registered e-mail address or phone',
                  },
                }
              : {}),
          },
        },
      };
      return {
        ...(await publish(offer, expiresInSeconds)),
        ...(txCodeSentTo ? { tx_code_sent_to: txCodeSentTo } : {}),
      };
    },

    issuerStates,

    /** Whether an offer by reference can still be served, without serving it (HEAD). */
    async available(offerId: string): Promise<boolean> {
      if (!/^[A-Za-z0-9_-]{32}$/.test(offerId)) return false;
      const doc = await offers.get(offerDocId(offerId));
      return doc !== undefined && doc.consumedAt === undefined;
    },

    /** Serves an offer by reference once (§4.1.3); undefined when unknown, used or expired. */
    async take(offerId: string): Promise<Record<string, unknown> | undefined> {
      if (!/^[A-Za-z0-9_-]{32}$/.test(offerId)) return undefined;
      const doc = await offers.consume(offerDocId(offerId));
      return doc ? open(offerId, doc.sealed) : undefined;
    },
  };
}

export type Offers = ReturnType<typeof createOffers>;
