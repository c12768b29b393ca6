import type { VerificationRecord } from './spi.ts';

/**
 * Verification records (OpenID Connect for Identity Assurance 1.0): how an identity system says a
 * person's claims were verified. Accepted forms, from the mock system's identities and the HTTP
 * registry contract (docs/identity-registry-api.md):
 * - a list `[{ "verification": { "trust_framework": "…", … }, "claims": ["name", …] }, …]`;
 * - one `verification` element (the earlier form), which then covers every claim of the person.
 */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Thrown for a record list that does not have the shape above; the message says where. */
export class BadVerificationRecords extends Error {
  override name = 'BadVerificationRecords';
}

function checkVerification(where: string, verification: unknown): asserts verification is Json {
  if (!isObject(verification)) throw new BadVerificationRecords(`${where} must be an object`);
  const { trust_framework, evidence, time } = verification;
  if (typeof trust_framework !== 'string' || trust_framework === '')
    throw new BadVerificationRecords(`${where}.trust_framework must be a non-empty string`);
  if (time !== undefined && (typeof time !== 'string' || !Number.isFinite(Date.parse(time))))
    throw new BadVerificationRecords(`${where}.time must be an ISO 8601 date-time`);
  if (evidence !== undefined && (!Array.isArray(evidence) || !evidence.every(isObject)))
    throw new BadVerificationRecords(`${where}.evidence must be an array of objects`);
}

/**
 * The records in `raw` (either form; `claimNames` are the claims a single `verification` element
 * covers). Undefined or null: none.
 */
export function parseVerificationRecords(raw: unknown, claimNames: readonly string[]): VerificationRecord[] {
  if (raw === undefined || raw === null) return [];
  if (isObject(raw)) {
    checkVerification('verification', raw);
    return [{ verification: raw as VerificationRecord['verification'], claims: baseNames(claimNames) }];
  }
  if (!Array.isArray(raw)) throw new BadVerificationRecords('verifications must be an array');
  return raw.map((record, i) => {
    const where = `verifications[${i}]`;
    if (!isObject(record)) throw new BadVerificationRecords(`${where} must be an object`);
    checkVerification(`${where}.verification`, record.verification);
    const { claims } = record;
    if (!Array.isArray(claims) || claims.length === 0 || claims.some((c) => typeof c !== 'string' || !c))
      throw new BadVerificationRecords(`${where}.claims must be a non-empty array of claim names`);
    return {
      verification: record.verification as VerificationRecord['verification'],
      claims: baseNames(claims),
    };
  });
}

function baseNames(names: readonly string[]): string[] {
  return [...new Set(names.map((n) => n.split('#')[0]!))];
}

/** The records that cover any of `claims`, each narrowed to those claims. */
export function recordsCovering(
  records: readonly VerificationRecord[],
  claims: readonly string[],
): VerificationRecord[] {
  const wanted = new Set(baseNames(claims));
  return records.flatMap((record) => {
    const covered = record.claims.filter((c) => wanted.has(c));
    return covered.length > 0 ? [{ verification: record.verification, claims: covered }] : [];
  });
}

/** The records without claim values or document details: what the consent page may show. */
export function recordSummaries(records: readonly VerificationRecord[]): VerificationRecord[] {
  return records.map((record) => {
    const { trust_framework, assurance_level, evidence } = record.verification;
    const types = Array.isArray(evidence)
      ? evidence.flatMap((e) => {
          const type = isObject(e) ? e.type : undefined;
          const value = isObject(type) ? type.value : type;
          return typeof value === 'string' ? [{ type: value }] : [];
        })
      : [];
    return {
      verification: {
        trust_framework,
        ...(typeof assurance_level === 'string' ? { assurance_level } : {}),
        ...(types.length ? { evidence: types } : {}),
      },
      claims: record.claims,
    };
  });
}
