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
  AppError,
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
import type { IssuanceGrant } from '../oidc/bridge.ts';
import { randomId } from '../random.ts';
import type { Store, StoredDoc } from '../store/spi.ts';
import { type KeyAttestationTrust, verifyKeyAttestation } from './key-attestation.ts';
import type { Ledger, LedgerRecord } from './ledger.ts';
import type { Nonces } from './nonces.ts';
import { type VerifiedProof, verifyProofJwt } from './proof.ts';

/**
 * The credential request, from body to credentials (OpenID4VCI 1.0 §8, draft 13 §7). Protocol
 * logic only: the endpoint files hand in the parsed body and the verified grant. Claims come from
 * the identity system at issuance time, limited to what the grant's consent covers, and are
 * dropped once the credentials are signed; the ledger keeps no claims.
 */

export type RequestVersion = 'v1' | 'draft13';

export interface ParsedCredentialRequest {
  version: RequestVersion;
  configuration: ResolvedConfiguration;
  /** `jwt`: one key proof per credential; `attestation`: one key attestation naming every key. */
  proofType: 'jwt' | 'attestation';
  proofJwts: string[];
  encryption: unknown;
}

/** Draft 13 §7.3.1 error codes, for draft-13 requests only. */
const UnsupportedCredentialType = (description: string) =>
  new AppError(400, 'unsupported_credential_type', description);
const UnsupportedCredentialFormat = (description: string) =>
  new AppError(400, 'unsupported_credential_format', description);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Which configuration a request is for, and its proofs. Throws the spec's error codes. */
export function parseCredentialRequest(
  body: Record<string, unknown>,
  grant: IssuanceGrant,
  registry: ConfigurationRegistry,
  batchSize: number,
): ParsedCredentialRequest {
  // Draft 13 names the credential by `format` (+ type); drafts 14–15 already use
  // credential_configuration_id but may still send a single `proof`, which is accepted as a batch of one.
  const draft13 = body.format !== undefined && body.credential_configuration_id === undefined;
  if (body.proof !== undefined && body.proofs !== undefined) {
    throw new InvalidCredentialRequest('proof and proofs must not both be present');
  }
  const granted = (id: string) => grant.credentialConfigurationIds.includes(id);

  let configuration: ResolvedConfiguration | undefined;
  if (body.credential_identifier !== undefined) {
    // §8.2: credential_identifier comes from the Token Response's authorization_details.
    if (body.credential_configuration_id !== undefined || body.format !== undefined) {
      throw new InvalidCredentialRequest(
        'credential_identifier must not be combined with credential_configuration_id or format',
      );
    }
    const identifier = body.credential_identifier;
    const detail = grant.authorizationDetails.find(
      (d) =>
        typeof identifier === 'string' &&
        Array.isArray(d.credential_identifiers) &&
        d.credential_identifiers.includes(identifier),
    );
    const id = detail?.credential_configuration_id;
    configuration = typeof id === 'string' ? registry.get(id) : undefined;
    if (!configuration || !granted(configuration.id)) {
      throw new UnknownCredentialIdentifier('the credential_identifier is not known for this access token');
    }
  } else if (!draft13) {
    const id = body.credential_configuration_id;
    if (typeof id !== 'string') {
      throw new InvalidCredentialRequest('credential_configuration_id or credential_identifier is required');
    }
    configuration = registry.get(id);
    if (!configuration)
      throw new UnknownCredentialConfiguration('the credential_configuration_id is not supported');
    if (!granted(id))
      throw new UnknownCredentialConfiguration(
        'the access token does not cover this credential configuration',
      );
  } else {
    if (typeof body.format !== 'string') throw new InvalidCredentialRequest('format must be a string');
    const definition = isObject(body.credential_definition) ? body.credential_definition : undefined;
    const types = Array.isArray(definition?.type)
      ? (definition.type as unknown[]).filter((t) => typeof t === 'string')
      : undefined;
    const candidates = registry.findByFormat(body.format, {
      ...(types ? { types: types as string[] } : {}),
      ...(typeof body.vct === 'string' ? { vct: body.vct } : {}),
      ...(typeof body.doctype === 'string' ? { doctype: body.doctype } : {}),
    });
    if (candidates.length === 0) {
      if (
        registry.list().every((c) => c.format !== (body.format === 'vc+sd-jwt' ? 'dc+sd-jwt' : body.format))
      ) {
        throw UnsupportedCredentialFormat('this credential format is not supported');
      }
      throw UnsupportedCredentialType('no credential of this type is offered in this format');
    }
    configuration = candidates.find((c) => granted(c.id));
    if (!configuration) throw UnsupportedCredentialType('the access token does not cover this credential');
  }

  let proofJwts: string[] = [];
  let proofType: 'jwt' | 'attestation' = 'jwt';
  if (body.proof !== undefined) {
    const proof = body.proof;
    if (!isObject(proof) || proof.proof_type !== 'jwt' || typeof proof.jwt !== 'string') {
      throw new InvalidProof('proof must be {proof_type: "jwt", jwt}');
    }
    proofJwts = [proof.jwt];
  } else if (body.proofs !== undefined) {
    // §8.2: proofs is an object with exactly one proof type, whose value is a non-empty array.
    if (!isObject(body.proofs) || Object.keys(body.proofs).length !== 1) {
      throw new InvalidCredentialRequest('proofs must hold exactly one proof type');
    }
    const [type, list] = Object.entries(body.proofs)[0]!;
    if (type !== 'jwt' && type !== 'attestation')
      throw new InvalidProof(`proof type ${type} is not supported`);
    if (!Array.isArray(list) || list.length === 0) {
      throw new InvalidCredentialRequest(`proofs.${type} must be a non-empty array`);
    }
    if (list.length > batchSize)
      throw new InvalidCredentialRequest(`at most ${batchSize} proofs per request`);
    // Appendix F.3: the attestation proof type carries exactly one key attestation.
    if (type === 'attestation' && list.length !== 1) {
      throw new InvalidProof('proofs.attestation must hold exactly one key attestation');
    }
    proofType = type;
    proofJwts = list as string[];
  }
  if (configuration.definition.binding && proofJwts.length === 0) {
    throw new InvalidProof('this credential is bound to a key: a proof is required');
  }
  if (!configuration.definition.binding && proofJwts.length > 0) {
    throw new InvalidCredentialRequest('this credential takes no key proof');
  }
  return {
    version: draft13 ? 'draft13' : 'v1',
    configuration,
    proofType,
    proofJwts,
    encryption: body.credential_response_encryption,
  };
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
  version: RequestVersion;
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
    parsed: ParsedCredentialRequest,
    grant: IssuanceGrant,
  ): Promise<VerifiedProofs> {
    const binding = parsed.configuration.definition.binding;
    if (!binding) return { holders: [], nonces: [] };
    const now = clock.now();
    const required = binding.keyAttestationsRequired;
    if (parsed.proofType === 'attestation') {
      // Appendix F.3: the key attestation is the proof; its nonce is the c_nonce; one credential per attested key.
      const attested = await verifyKeyAttestation(parsed.proofJwts[0], {
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
    for (const jwt of parsed.proofJwts) {
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
    // of the canonical key (src/vci/jwk.ts), so two spellings of one key are one key.
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
  async function claimsFor(grant: IssuanceGrant, configuration: ResolvedConfiguration) {
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
    grant: IssuanceGrant,
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
      parsed: ParsedCredentialRequest,
      proofs: VerifiedProofs,
      grant: IssuanceGrant,
    ): Promise<IssuanceOutcome> {
      const { holders } = proofs;
      const kyc = await claimsFor(grant, parsed.configuration);
      if (kyc.pending) {
        // §9: the identity system is not ready; keep only what is needed to finish later (no claims).
        const transactionId = randomId(32);
        const id = hash(transactionId);
        await withNonces(proofs.nonces, () =>
          deferred.insert({
            _id: id,
            grantHash: hash(grant.grantId),
            configurationId: parsed.configuration.id,
            version: parsed.version,
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
      const mapped = mapSubject(parsed.configuration, kyc.claims);
      const signed = await withNonces(proofs.nonces, () =>
        sign(parsed.configuration, mapped, holders, grant),
      );
      return {
        kind: 'issued',
        ...signed,
        configurationId: parsed.configuration.id,
        format: parsed.configuration.format,
        abandon: () => releaseNonces(proofs.nonces),
      };
    },

    /** §9.1: one poll of a deferred transaction; single use once it yields credentials. */
    async poll(
      transactionId: unknown,
      grant: IssuanceGrant,
    ): Promise<IssuanceOutcome & { version?: RequestVersion }> {
      if (typeof transactionId !== 'string' || transactionId.length > 200)
        throw new InvalidTransactionId('transaction_id is invalid');
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
        version: doc.version,
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
      grant: IssuanceGrant,
    ): Promise<boolean> {
      const records = await ledger.byNotification(notificationId);
      const own = records.filter((r) => r.grantHash === hash(grant.grantId));
      for (const record of own) await ledger.setEvent(record._id, event);
      return own.length > 0;
    },
  };
}

export type Issuer = ReturnType<typeof createIssuer>;
