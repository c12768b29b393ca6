import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/defaults.ts';
import { withVerification } from '../credentials/configurations/mapping.ts';
import type { ConfigurationRegistry } from '../credentials/configurations/registry.ts';
import type { ResolvedConfiguration } from '../credentials/configurations/types.ts';
import type { FormatRegistry } from '../credentials/formats/registry.ts';
import type { IssuedCredential } from '../credentials/formats/types.ts';
import type { StatusService } from '../credentials/status/service.ts';
import { sha256Base64url as hash } from '../crypto/hash.ts';
import {
  CredentialRequestDenied,
  InvalidCredentialRequest,
  InvalidProof,
  InvalidTransaction,
  InvalidTransactionId,
  UnknownCredentialConfiguration,
  UnknownCredentialIdentifier,
} from '../errors.ts';
import type { IdentitySystemRegistry, KycResult } from '../kyc/spi.ts';
import { randomId } from '../random.ts';
import type { Store, StoredDoc } from '../store/spi.ts';
import { mapSubject, type SignedCredentials, signCredentials } from './credential-signing.ts';
import { type Holder, type VerifiedProofs, verifyHolderProofs } from './holder-proofs.ts';
import type { KeyAttestationTrust } from './key-attestation.ts';
import type { Ledger } from './ledger.ts';
import { grantNonces, type Nonces, releaseNonces, withSpentNonces } from './nonces.ts';
import type { CredentialGrant } from './wire/grant.ts';
import type { CredentialRequest, KeyProofs } from './wire/types.ts';

/**
 * The credential request, from typed request to credentials (OpenID4VCI 1.0 §8). Protocol logic
 * only: the endpoint decodes the body (src/vci/wire/, where the protocol version is decided) and
 * hands in a typed request and the verified grant. Claims come from the identity system at issuance
 * time, limited to what the grant's consent covers, and are dropped once the credentials are
 * signed; the ledger keeps no claims.
 */

/** A credential request resolved to the configuration it names. */
export interface ResolvedCredentialRequest {
  configuration: ResolvedConfiguration;
  proofs: KeyProofs;
}

/** §8.2: the configuration a request names, within the grant. Throws the spec's error codes. */
export function resolveCredentialRequest(
  request: CredentialRequest,
  grant: CredentialGrant,
  registry: ConfigurationRegistry,
): ResolvedCredentialRequest {
  const granted = (id: string) => grant.credentialConfigurationIds.includes(id);
  let configuration: ResolvedConfiguration | undefined;
  if (request.kind === 'identifier') {
    // §8.2: credential_identifier comes from the Token Response's authorization_details.
    const id = grant.credentialIdentifiers.get(request.credentialIdentifier);
    configuration = id === undefined ? undefined : registry.get(id);
    if (!configuration || !granted(configuration.id)) {
      throw new UnknownCredentialIdentifier('the credential_identifier is not known for this access token');
    }
  } else {
    configuration = registry.get(request.configurationId);
    if (!configuration)
      throw new UnknownCredentialConfiguration('the credential_configuration_id is not supported');
    if (!granted(configuration.id))
      throw new UnknownCredentialConfiguration(
        'the access token does not cover this credential configuration',
      );
  }
  if (configuration.definition.binding && request.proofs.type === 'none') {
    throw new InvalidProof('this credential is bound to a key: a proof is required');
  }
  if (!configuration.definition.binding && request.proofs.type !== 'none') {
    throw new InvalidCredentialRequest('this credential takes no key proof');
  }
  return { configuration, proofs: request.proofs };
}

export interface IssuerDeps {
  config: Config;
  clock: Clock;
  store: Store;
  logger: Logger;
  registry: ConfigurationRegistry;
  formats: FormatRegistry;
  status: StatusService | undefined;
  ledger: Ledger;
  nonces: Nonces;
  identitySystems: IdentitySystemRegistry;
  /** Trusted key attestation issuers (config vci.keyAttestationTrusted*). */
  keyAttestationTrust: KeyAttestationTrust;
  /** Whether a registered client lists a leniency (`proof_kid_with_jwk`, src/oidc/clients.ts). */
  clientLeniency?: (clientId: string, name: 'proof_kid_with_jwk') => Promise<boolean>;
  audit?: AuditLog;
}

interface DeferredDoc extends StoredDoc {
  grantHash: string;
  configurationId: string;
  /** The edge's tag for the answer (`wireTag`), stored under the name it has always had. */
  version?: string;
  holders: Holder[];
  createdAt: number;
}

/**
 * A credential response built but not handed out yet. The endpoint renders (and encrypts) the
 * answer, then calls `commit` (ledger and audit records: the first writes that say a credential
 * left) or, when rendering failed, `abandon`, which gives back what was spent for it: the c_nonces
 * become usable again (nobody received a credential for them) and a deferred transaction is
 * removed or put back. Status indices allocated for credentials that were signed but never handed
 * out cannot be freed (the store has no release); they stay allocated to a ledger id that has no
 * record, in no delivered credential, so their bits never describe anything.
 */
export type IssuanceOutcome = (
  | {
      kind: 'issued';
      credentials: IssuedCredential[];
      notificationId: string;
      configurationId: string;
      format: string;
    }
  | { kind: 'pending'; transactionId: string; intervalSeconds: number }
) & { commit(): Promise<void>; abandon(): Promise<void> };

export function createIssuer(deps: IssuerDeps) {
  const { clock, registry, ledger } = deps;
  const vci = deps.config.vci;
  const deferred = deps.store.collection<DeferredDoc>({ name: 'vci_deferred' });

  /** Verifies every proof; spends nothing (the nonces are consumed by `issue`). */
  function verifyProofs(
    resolved: ResolvedCredentialRequest,
    grant: CredentialGrant,
  ): Promise<VerifiedProofs> {
    return verifyHolderProofs(
      resolved.configuration.definition.binding,
      resolved.proofs,
      grant.clientId,
      deps,
    );
  }

  /** The identity claims for the grant, limited to its consent; `pending` when the registry is not ready. */
  async function claimsFor(grant: CredentialGrant, configuration: ResolvedConfiguration) {
    // A token of an external authorization server may bring its own claims source (its userinfo).
    const system = grant.externalClaims ? undefined : deps.identitySystems.get(grant.identitySystem);
    const accepted = configuration.identityClaims.filter((claim) => grant.consentedClaims.includes(claim));
    const locales = new Set<string>();
    for (const claim of configuration.definition.claims) {
      if (claim.transform?.type === 'languageMap') for (const l of claim.transform.languages) locales.add(l);
      if (claim.transform?.type === 'language') for (const l of claim.transform.prefer ?? []) locales.add(l);
    }
    try {
      const kyc: KycResult = grant.externalClaims
        ? await grant.externalClaims(accepted)
        : await system!.claimsForAccount(grant.accountId, accepted, [...locales]);
      // `verification.*` sources read the record that verifies the claims this credential uses.
      return { ...kyc, claims: withVerification(kyc.claims, kyc.verifications, accepted) };
    } catch (error) {
      // The account was deleted (or the registry no longer knows it) after the token was issued:
      // OpenID4VCI 1.0 §8.3.1.2 names this credential_request_denied, not an interaction error.
      if (error instanceof InvalidTransaction) {
        throw new CredentialRequestDenied('the identity system no longer holds data for this person');
      }
      throw error;
    }
  }

  return {
    verifyProofs,

    /**
     * Everything that can refuse the request without a side effect runs first (claims, mapping,
     * schema); then the nonces are spent, status entries allocated and the credentials signed.
     */
    async issue(
      request: ResolvedCredentialRequest,
      proofs: VerifiedProofs,
      grant: CredentialGrant,
      /** Opaque to the core: stored with a deferred transaction and handed back by `poll`. */
      wireTag: string,
    ): Promise<IssuanceOutcome> {
      const { holders } = proofs;
      const nonces = grantNonces(deps.nonces, grant.tokenCNonce);
      const kyc = await claimsFor(grant, request.configuration);
      if (kyc.pending) {
        // §9: the identity system is not ready; keep only what is needed to finish later (no claims).
        const transactionId = randomId(32);
        const id = hash(transactionId);
        await withSpentNonces(nonces, proofs.nonces, () =>
          deferred.insert({
            _id: id,
            grantHash: hash(grant.grantId),
            configurationId: request.configuration.id,
            version: wireTag,
            holders,
            createdAt: clock.now(),
            expiresAt: clock.now() + vci.deferredTtlSeconds * 1000,
          }),
        );
        return {
          kind: 'pending',
          transactionId,
          intervalSeconds: vci.deferredIntervalSeconds,
          commit: async () => {},
          abandon: async () => {
            await deferred.delete(id);
            await releaseNonces(nonces, proofs.nonces);
          },
        };
      }
      const mapped = mapSubject(request.configuration, kyc.claims, deps);
      const signed = await withSpentNonces(nonces, proofs.nonces, () =>
        signCredentials(request.configuration, mapped, holders, grant, deps),
      );
      return {
        kind: 'issued',
        ...signed,
        configurationId: request.configuration.id,
        format: request.configuration.format,
        abandon: () => releaseNonces(nonces, proofs.nonces),
      };
    },

    /** §9.1: one poll of a deferred transaction; single use once it yields credentials. */
    async poll(
      transactionId: string,
      grant: CredentialGrant,
    ): Promise<IssuanceOutcome & { wireTag?: string }> {
      const id = hash(transactionId);
      const doc = await deferred.get(id);
      if (!doc || doc.consumedAt !== undefined || doc.grantHash !== hash(grant.grantId)) {
        throw new InvalidTransactionId(
          'the transaction_id is unknown, expired or was issued to another access token',
        );
      }
      const configuration = registry.get(doc.configurationId);
      if (!configuration) throw new CredentialRequestDenied('this credential is no longer issued');
      const kyc = await claimsFor(grant, configuration);
      const nothing = async () => {};
      if (kyc.pending)
        return {
          kind: 'pending',
          transactionId,
          intervalSeconds: vci.deferredIntervalSeconds,
          commit: nothing,
          abandon: nothing,
        };
      const mapped = mapSubject(configuration, kyc.claims, deps);
      const taken = await deferred.consume(id);
      if (!taken) throw new InvalidTransactionId('the transaction was already completed');
      // Put back as it was (unconsumed): the wallet may poll again for what it never received.
      const restore = () => deferred.put(taken);
      let signed: SignedCredentials;
      try {
        signed = await signCredentials(configuration, mapped, doc.holders, grant, deps);
      } catch (error) {
        await restore();
        throw error;
      }
      return {
        kind: 'issued',
        ...(doc.version !== undefined ? { wireTag: doc.version } : {}),
        ...signed,
        configurationId: configuration.id,
        format: configuration.format,
        abandon: restore,
      };
    },

    /** §11: records a wallet event against the credentials of one response. */
    async notify(
      notificationId: string,
      event: 'credential_accepted' | 'credential_failure' | 'credential_deleted',
      grant: CredentialGrant,
    ): Promise<boolean> {
      const records = await ledger.byNotification(notificationId);
      const own = records.filter((r) => r.grantHash === hash(grant.grantId));
      for (const record of own) await ledger.setEvent(record._id, event);
      return own.length > 0;
    },
  };
}

export type Issuer = ReturnType<typeof createIssuer>;
