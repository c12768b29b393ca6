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
import { sha256Base64url } from '../crypto/hash.ts';
import { CredentialRequestDenied, ServerError } from '../errors.ts';
import { timeOrderedId } from '../random.ts';
import type { Holder } from './holder-proofs.ts';
import type { Ledger, LedgerRecord } from './ledger.ts';
import type { CredentialGrant } from './wire/grant.ts';

/**
 * From identity claims to signed credentials: the subject a configuration maps the claims to
 * (checked against its schema), then one credential per holder key with its status entries. The
 * ledger and audit records wait for `commit`, once the answer is ready to go.
 */

export interface SigningDeps {
  config: Config;
  clock: Clock;
  logger: Logger;
  registry: ConfigurationRegistry;
  formats: FormatRegistry;
  status: StatusService | undefined;
  ledger: Ledger;
  audit?: AuditLog;
}

export interface MappedSubject {
  subject: Record<string, unknown>;
  now: number;
}

export interface SignedCredentials {
  credentials: IssuedCredential[];
  notificationId: string;
  commit(): Promise<void>;
}

/** The credential subject from the identity claims: pure, so a refusal here spends nothing. */
export function mapSubject(
  configuration: ResolvedConfiguration,
  identityClaims: Record<string, unknown>,
  deps: SigningDeps,
): MappedSubject {
  const def = configuration.definition;
  const now = deps.clock.now();
  const mapped = mapClaims(def.claims, identityClaims, { locales: [], now });
  if (mapped.missing.length > 0) {
    throw new CredentialRequestDenied(
      'the identity data released for this person does not cover the claims this credential requires',
    );
  }
  const validate = deps.registry.subjectSchema(configuration.id);
  if (!validate(mapped.subject)) {
    deps.logger.warn(
      { configuration: configuration.id, errors: validate.errors?.map((e) => e.instancePath) },
      'mapped claims rejected by the subject schema',
    );
    throw new CredentialRequestDenied('the identity data for this person does not fit this credential');
  }
  return { subject: mapped.subject, now };
}

function roundDown(epochMs: number, stepSeconds: number): number {
  const step = stepSeconds * 1000;
  return Math.floor(epochMs / step) * step;
}

/**
 * Allocates status entries and signs one credential per holder. Writes nothing else: the ledger
 * and audit records are made by `commit`, once the answer is ready to go.
 */
export async function signCredentials(
  configuration: ResolvedConfiguration,
  mapped: MappedSubject,
  holders: Holder[],
  grant: CredentialGrant,
  deps: SigningDeps,
): Promise<SignedCredentials> {
  const { ledger } = deps;
  const format = deps.formats.get(configuration.format);
  if (!format) throw new ServerError(`format ${configuration.format} is not available`);
  const def = configuration.definition;
  const { now } = mapped;
  // Time claims are rounded so the issuance instant does not link presentations (row 36).
  const validFrom = new Date(roundDown(now, deps.config.vci.timeRoundingSeconds));
  const validUntil = def.validitySeconds
    ? new Date(validFrom.getTime() + def.validitySeconds * 1000)
    : undefined;
  // Time first, like the ledger's ids: the notificationId index then grows at one end.
  const notificationId = timeOrderedId(now, 16);
  const grantHash = sha256Base64url(grant.grantId);
  const targets: (Holder | undefined)[] = holders.length > 0 ? holders : [undefined];
  const credentials: IssuedCredential[] = [];
  const records: (Omit<LedgerRecord, 'status'> & { _id: string })[] = [];
  for (const [i, holder] of targets.entries()) {
    const ledgerId = ledger.newId();
    let status: StatusEntry[] = [];
    if (def.status && deps.status) status = await deps.status.allocate(configuration.format, ledgerId);
    credentials.push(
      await format.issue({
        profile: configuration.profile,
        // A format may change what it is given: every credential but the last gets its own copy.
        claims: i < targets.length - 1 ? structuredClone(mapped.subject) : mapped.subject,
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
      grantHash,
      notificationId,
      issuedAt: now,
      validFrom: validFrom.getTime(),
      ...(validUntil ? { validUntil: validUntil.getTime() } : {}),
    });
  }
  const commit = async () => {
    for (const record of records) {
      await ledger.record(record, { identitySystem: grant.identitySystem, accountId: grant.accountId });
      await deps.audit?.record({
        type: 'credential_issued',
        clientId: grant.clientId,
        grantHash,
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
