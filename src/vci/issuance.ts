import { createHash } from 'node:crypto';
import type { JWK } from 'jose';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/defaults.ts';
import { mapClaims } from '../credentials/configurations/mapping.ts';
import type { ConfigurationRegistry } from '../credentials/configurations/registry.ts';
import type { ResolvedConfiguration } from '../credentials/configurations/types.ts';
import type { FormatRegistry } from '../credentials/formats/registry.ts';
import type { IssuedCredential, StatusEntry } from '../credentials/formats/types.ts';
import type { StatusService } from '../credentials/status/service.ts';
import {
  CredentialRequestDenied,
  InvalidCredentialRequest,
  InvalidNonce,
  InvalidProof,
  InvalidTransaction,
  InvalidTransactionId,
  ServerError,
  TemporarilyUnavailable,
  UnknownCredentialConfiguration,
  UnknownCredentialIdentifier,
} from '../errors.ts';
import type { IdentitySystemRegistry } from '../kyc/spi.ts';
import { randomId } from '../random.ts';
import type { Store, StoredDoc } from '../store/spi.ts';
import { type KeyAttestationTrust, verifyKeyAttestation } from './key-attestation.ts';
import type { Ledger, LedgerRecord } from './ledger.ts';
import type { Nonces } from './nonces.ts';
import { type VerifiedProof, verifyProofJwt } from './proof.ts';
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
  identitySystems: () => IdentitySystemRegistry | undefined;
  /** Trusted key attestation issuers (config vci.keyAttestationTrusted*). */
  keyAttestationTrust: KeyAttestationTrust;
  audit?: AuditLog;
}

export interface Holder {
  jwk: JWK;
  did?: string;
  thumbprint: string;
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

/** What the proofs of a request established, before anything is spent. */
export interface VerifiedProofs {
  holders: Holder[];
  /** The distinct c_nonce values the proofs carry; consumed once each by `issue`. */
  nonces: string[];
}

const hash = (value: string) => createHash('sha256').update(value).digest('base64url');

export function createIssuer(deps: IssuerDeps) {
  const { config, clock, registry, formats, ledger, nonces } = deps;
  const vci = config.vci;
  const publicUrl = config.resolved.publicUrl;
  const deferred = deps.store.collection<DeferredDoc>({ name: 'vci_deferred' });

  /** Verifies every proof; spends nothing (the nonces are consumed by `issue`). */
  async function verifyProofs(
    resolved: ResolvedCredentialRequest,
    grant: CredentialGrant,
  ): Promise<VerifiedProofs> {
    const binding = resolved.configuration.definition.binding;
    const { proofs } = resolved;
    if (!binding || proofs.type === 'none') return { holders: [], nonces: [] };
    const now = clock.now();
    const required = binding.keyAttestationsRequired;
    if (proofs.type === 'attestation') {
      // Appendix F.3: the key attestation is the proof; its nonce is the c_nonce; one credential per attested key.
      const attested = await verifyKeyAttestation(proofs.attestation, {
        trust: deps.keyAttestationTrust,
        now,
        clockSkewSeconds: vci.proofClockSkewSeconds,
        use: 'attestation',
        ...(required ? { requirement: required } : {}),
      });
      if (new Set(attested.thumbprints).size !== attested.thumbprints.length) {
        throw new InvalidProof('attested_keys must be distinct keys');
      }
      if (attested.attestedKeys.length > vci.batchSize)
        throw new InvalidCredentialRequest(`at most ${vci.batchSize} keys per request`);
      return {
        holders: attested.attestedKeys.map((jwk, i) => ({ jwk, thumbprint: attested.thumbprints[i]! })),
        nonces: [attested.nonce!],
      };
    }
    const verified: VerifiedProof[] = [];
    for (const jwt of proofs.jwts) {
      verified.push(
        await verifyProofJwt(jwt, {
          issuer: publicUrl,
          ...(grant.clientId ? { clientId: grant.clientId } : {}),
          algorithms: binding.proofSigningAlgs,
          bindingMethods: binding.methods,
          now,
          maxAgeSeconds: vci.proofMaxAgeSeconds,
          clockSkewSeconds: vci.proofClockSkewSeconds,
          keyAttestationTrust: deps.keyAttestationTrust,
          ...(required ? { keyAttestationRequired: required } : {}),
        }),
      );
    }
    // Batch: one credential per key, each on a distinct key (SECURITY.md row 25). Thumbprints are
    // of the canonical key (src/crypto/jwk.ts), so two spellings of one key are one key.
    const thumbprints = new Set(verified.map((p) => p.thumbprint));
    if (thumbprints.size !== verified.length)
      throw new InvalidProof('every proof in a batch must use a distinct key');
    return {
      holders: verified.map((p) => ({
        jwk: p.jwk,
        ...(p.did ? { did: p.did } : {}),
        thumbprint: p.thumbprint,
      })),
      nonces: [...new Set(verified.map((p) => p.nonce))],
    };
  }

  /**
   * Consumes each nonce once (the atomic step: row 23). When one of several is refused, the ones
   * this call consumed are given back, so a refused request spends none.
   */
  async function spendNonces(values: readonly string[]): Promise<void> {
    const spent: string[] = [];
    for (const nonce of values) {
      if (!(await nonces.consume(nonce))) {
        await releaseNonces(spent);
        throw new InvalidNonce('the c_nonce is unknown, expired or already used');
      }
      spent.push(nonce);
    }
  }

  async function releaseNonces(values: readonly string[]): Promise<void> {
    for (const nonce of values) await nonces.release(nonce);
  }

  /** The identity claims for the grant, limited to its consent; `pending` when the registry is not ready. */
  async function claimsFor(grant: CredentialGrant, configuration: ResolvedConfiguration) {
    const systems = deps.identitySystems();
    if (!systems) throw new TemporarilyUnavailable('no identity system is available');
    const system = systems.get(grant.identitySystem);
    const accepted = configuration.identityClaims.filter((claim) => grant.consentedClaims.includes(claim));
    const locales = new Set<string>();
    for (const claim of configuration.definition.claims) {
      if (claim.transform?.type === 'languageMap') for (const l of claim.transform.languages) locales.add(l);
      if (claim.transform?.type === 'language') for (const l of claim.transform.prefer ?? []) locales.add(l);
    }
    try {
      return await system.claimsForAccount(grant.accountId, accepted, [...locales]);
    } catch (error) {
      // The account was deleted (or the registry no longer knows it) after the token was issued:
      // OpenID4VCI 1.0 §8.3.1.2 names this credential_request_denied, not an interaction error.
      if (error instanceof InvalidTransaction) {
        throw new CredentialRequestDenied('the identity system no longer holds data for this person');
      }
      throw error;
    }
  }

  function roundDown(epochMs: number): number {
    const step = vci.timeRoundingSeconds * 1000;
    return Math.floor(epochMs / step) * step;
  }

  /** The credential subject from the identity claims: pure, so a refusal here spends nothing. */
  function mapSubject(configuration: ResolvedConfiguration, identityClaims: Record<string, unknown>) {
    const def = configuration.definition;
    const now = clock.now();
    const mapped = mapClaims(def.claims, identityClaims, { locales: [], now });
    if (mapped.missing.length > 0) {
      throw new CredentialRequestDenied(
        'the identity data released for this person does not cover the claims this credential requires',
      );
    }
    const validate = registry.subjectSchema(configuration.id);
    if (!validate(mapped.subject)) {
      deps.logger.warn(
        { configuration: configuration.id, errors: validate.errors?.map((e) => e.instancePath) },
        'mapped claims rejected by the subject schema',
      );
      throw new CredentialRequestDenied('the identity data for this person does not fit this credential');
    }
    return { subject: mapped.subject, now };
  }

  /**
   * Allocates status entries and signs one credential per holder. Writes nothing else: the ledger
   * and audit records are made by `commit`, once the answer is ready to go.
   */
  async function sign(
    configuration: ResolvedConfiguration,
    mapped: { subject: Record<string, unknown>; now: number },
    holders: Holder[],
    grant: CredentialGrant,
  ): Promise<{ credentials: IssuedCredential[]; notificationId: string; commit(): Promise<void> }> {
    const format = formats.get(configuration.format);
    if (!format) throw new ServerError(`format ${configuration.format} is not available`);
    const def = configuration.definition;
    const { now } = mapped;
    // Time claims are rounded so the issuance instant does not link presentations (row 36).
    const validFrom = new Date(roundDown(now));
    const validUntil = def.validitySeconds
      ? new Date(validFrom.getTime() + def.validitySeconds * 1000)
      : undefined;
    const notificationId = randomId(16);
    const targets: (Holder | undefined)[] = holders.length > 0 ? holders : [undefined];
    const credentials: IssuedCredential[] = [];
    const records: (Omit<LedgerRecord, 'status'> & { _id: string })[] = [];
    for (const holder of targets) {
      const ledgerId = ledger.newId();
      let status: StatusEntry[] = [];
      if (def.status && deps.status) status = await deps.status.allocate(configuration.format, ledgerId);
      credentials.push(
        await format.issue({
          profile: configuration.profile,
          claims: structuredClone(mapped.subject),
          ...(holder ? { holder: { jwk: holder.jwk, ...(holder.did ? { did: holder.did } : {}) } } : {}),
          ...(status.length > 0 ? { status } : {}),
          validFrom,
          ...(validUntil ? { validUntil } : {}),
        }),
      );
      records.push({
        _id: ledgerId,
        configurationId: configuration.id,
        definitionId: def.id,
        definitionVersion: def.version ?? 1,
        format: configuration.format,
        statusEntries: status,
        ...(holder ? { holderThumbprint: holder.thumbprint } : {}),
        ...(grant.clientId ? { clientId: grant.clientId } : {}),
        grantHash: hash(grant.grantId),
        notificationId,
        issuedAt: now,
        validFrom: validFrom.getTime(),
        ...(validUntil ? { validUntil: validUntil.getTime() } : {}),
      });
    }
    const commit = async () => {
      for (const record of records) {
        await ledger.record(record);
        await deps.audit?.record({
          type: 'credential_issued',
          clientId: grant.clientId,
          grantHash: hash(grant.grantId),
          configurationIds: [configuration.id],
          ledgerIds: [record._id],
          format: configuration.format,
        });
      }
      deps.logger.info(
        { configuration: configuration.id, format: configuration.format, count: credentials.length },
        'credentials issued',
      );
    };
    return { credentials, notificationId, commit };
  }

  /** Runs `work` after spending `values`; gives them back when `work` throws. */
  async function withNonces<T>(values: readonly string[], work: () => Promise<T>): Promise<T> {
    await spendNonces(values);
    try {
      return await work();
    } catch (error) {
      await releaseNonces(values);
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
      const kyc = await claimsFor(grant, request.configuration);
      if (kyc.pending) {
        // §9: the identity system is not ready; keep only what is needed to finish later (no claims).
        const transactionId = randomId(32);
        const id = hash(transactionId);
        await withNonces(proofs.nonces, () =>
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
            await releaseNonces(proofs.nonces);
          },
        };
      }
      const mapped = mapSubject(request.configuration, kyc.claims);
      const signed = await withNonces(proofs.nonces, () =>
        sign(request.configuration, mapped, holders, grant),
      );
      return {
        kind: 'issued',
        ...signed,
        configurationId: request.configuration.id,
        format: request.configuration.format,
        abandon: () => releaseNonces(proofs.nonces),
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
      const mapped = mapSubject(configuration, kyc.claims);
      const taken = await deferred.consume(id);
      if (!taken) throw new InvalidTransactionId('the transaction was already completed');
      // Put back as it was (unconsumed): the wallet may poll again for what it never received.
      const restore = () => deferred.put(taken);
      let signed: Awaited<ReturnType<typeof sign>>;
      try {
        signed = await sign(configuration, mapped, doc.holders, grant);
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
