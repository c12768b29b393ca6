import { errors } from 'oidc-provider';
import type { VerificationRecord } from '../kyc/spi.ts';

/**
 * OpenID Connect for Identity Assurance 1.0 (final, 2024) `verified_claims` in the claims
 * parameter, and the answer built from the identity system's verification records. Schema: OpenID
 * Identity Assurance Schema Definition 1.0 (its request schema `verified_claims_request.json`, which
 * eSignet ships as claims_request_schema.json). Pure functions; provider.ts wires them in.
 *
 * Request: `claims.userinfo.verified_claims` / `claims.id_token.verified_claims` is one object or a
 * non-empty array of objects (Identity Assurance §5.5, "Requesting sets of Claims with different
 * verification requirements"), each with `verification` (with `trust_framework`) and `claims` (at
 * least one claim). Constraints: `value` / `values` on any verification element, `max_age` on
 * `time`, `type` of `evidence` entries; `essential` and `purpose` (3..300 characters) on claims.
 *
 * Answer: what can be met is released, nothing else (§5.4 "Handling Unfulfillable Requests and
 * Unavailable Data": an element whose constraints the OP cannot meet is left out, no error). The
 * `verification` element carries `trust_framework` and the verification data the request named
 * (data minimisation); `claims` only claims the person consented to and the record covers.
 */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Claims `oidc-provider` keeps under this name (registered in claimsConfig). */
export const VERIFIED_CLAIMS = 'verified_claims';

export interface VerifiedClaimsRequest {
  readonly verification: Json;
  readonly claims: Record<string, Json | null>;
}

const invalid = (description: string) => new errors.InvalidRequest(description);

function checkPurpose(where: string, request: unknown): void {
  if (!isObject(request) || request.purpose === undefined) return;
  const { purpose } = request;
  if (typeof purpose !== 'string' || purpose.length < 3 || purpose.length > 300) {
    throw invalid(`${where}.purpose must be a string of 3 to 300 characters`);
  }
}

/** `null` or `{ essential?, purpose?, value?, values? , max_age? }` (the schema's constrainable element). */
function checkConstraint(where: string, value: unknown): void {
  if (value === null) return;
  if (!isObject(value)) throw invalid(`${where} must be null or an object`);
  if (value.essential !== undefined && typeof value.essential !== 'boolean')
    throw invalid(`${where}.essential must be a boolean`);
  checkPurpose(where, value);
  if (value.value !== undefined && typeof value.value !== 'string')
    throw invalid(`${where}.value must be a string`);
  if (
    value.values !== undefined &&
    (!Array.isArray(value.values) ||
      value.values.length === 0 ||
      value.values.some((v) => typeof v !== 'string'))
  )
    throw invalid(`${where}.values must be a non-empty array of strings`);
  if (value.max_age !== undefined && !(Number.isInteger(value.max_age) && (value.max_age as number) >= 0))
    throw invalid(`${where}.max_age must be a non-negative integer`);
}

function checkVerification(where: string, verification: unknown): void {
  if (!isObject(verification)) throw invalid(`${where}.verification must be an object`);
  if (!('trust_framework' in verification))
    throw invalid(`${where}.verification.trust_framework is required`);
  for (const [name, value] of Object.entries(verification)) {
    if (name === 'evidence') {
      if (value === null) continue;
      if (!Array.isArray(value) || value.length === 0 || !value.every(isObject))
        throw invalid(`${where}.verification.evidence must be null or a non-empty array of objects`);
      for (const [i, evidence] of value.entries())
        if (evidence.type !== undefined)
          checkConstraint(`${where}.verification.evidence[${i}].type`, evidence.type);
      continue;
    }
    if (
      isObject(value) &&
      ['trust_framework', 'assurance_level', 'time', 'verification_process'].includes(name)
    )
      checkConstraint(`${where}.verification.${name}`, value);
    else if (value !== null && !isObject(value))
      throw invalid(`${where}.verification.${name} must be null or an object`);
  }
}

function checkElement(where: string, element: unknown): void {
  if (!isObject(element)) throw invalid(`${where} must be an object`);
  checkVerification(where, element.verification);
  const { claims } = element;
  if (!isObject(claims) || Object.keys(claims).length === 0)
    throw invalid(`${where}.claims must be an object naming at least one claim`);
  for (const [name, request] of Object.entries(claims)) {
    if (name === VERIFIED_CLAIMS) throw invalid(`${where}.claims must not contain verified_claims`);
    checkConstraint(`${where}.claims.${name}`, request);
  }
}

/** Checks one container's `verified_claims` (object or non-empty array form). */
export function checkVerifiedClaimsRequest(container: string, value: unknown): void {
  const where = `claims.${container}.verified_claims`;
  if (Array.isArray(value)) {
    if (value.length === 0) throw invalid(`${where} must not be an empty array`);
    value.forEach((element, i) => {
      checkElement(`${where}[${i}]`, element);
    });
    return;
  }
  checkElement(where, value);
}

/**
 * `features.claimsParameter.assertClaimsParameter`: oidc-provider's own rule (members are null or
 * objects), except `verified_claims`, which may also be an array and is checked against the Identity
 * Assurance request schema; `purpose` anywhere is 3..300 characters. Throws invalid_request (400).
 */
export async function assertClaimsParameter(_ctx: unknown, claims: Json): Promise<void> {
  for (const container of ['userinfo', 'id_token']) {
    const members = claims[container];
    if (!isObject(members)) continue;
    for (const [name, value] of Object.entries(members)) {
      if (name === VERIFIED_CLAIMS) {
        checkVerifiedClaimsRequest(container, value);
        continue;
      }
      if (value !== null && !isObject(value))
        throw invalid(`claims.${container} members must be null or objects`);
      checkPurpose(`claims.${container}.${name}`, value);
    }
  }
}

/** The elements of a (checked) request, whichever form it came in. */
export function requestElements(value: unknown): VerifiedClaimsRequest[] {
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list.filter(
    (e): e is VerifiedClaimsRequest => isObject(e) && isObject(e.verification) && isObject(e.claims),
  );
}

/** Claims asked for as verified in a claims parameter container: base name → essential. */
export function verifiedClaimNames(container: unknown): Map<string, boolean> {
  const names = new Map<string, boolean>();
  if (!isObject(container)) return names;
  for (const element of requestElements(container[VERIFIED_CLAIMS])) {
    for (const [name, request] of Object.entries(element.claims)) {
      const base = name.split('#')[0]!;
      names.set(base, names.get(base) === true || (isObject(request) && request.essential === true));
    }
  }
  return names;
}

function meets(constraint: unknown, actual: unknown): boolean {
  if (!isObject(constraint)) return true;
  if (typeof constraint.value === 'string') return actual === constraint.value;
  if (Array.isArray(constraint.values)) return constraint.values.includes(actual);
  return true;
}

function recentEnough(constraint: unknown, time: unknown, now: number): boolean {
  if (!isObject(constraint) || typeof constraint.max_age !== 'number') return true;
  const at = typeof time === 'string' ? Date.parse(time) : Number.NaN;
  return Number.isFinite(at) && now - at <= constraint.max_age * 1000;
}

/** The record's evidence that the request's `evidence` entries accept; undefined when none does. */
function acceptedEvidence(requested: unknown, evidence: unknown): unknown[] | undefined {
  const list = Array.isArray(evidence) ? evidence.filter(isObject) : [];
  if (!Array.isArray(requested)) return list;
  const kept = list.filter((e) =>
    requested.some((r) => !isObject(r) || meets(r.type, isObject(e.type) ? e.type.value : e.type)),
  );
  return kept.length > 0 ? kept : undefined;
}

/**
 * The `verification` element released for a record under a request's verification element, or
 * undefined when the record does not meet its constraints.
 */
function verificationFor(requested: Json, record: VerificationRecord, now: number): Json | undefined {
  const actual = record.verification as Json;
  for (const name of ['trust_framework', 'assurance_level', 'verification_process']) {
    if (isObject(requested[name]) && !meets(requested[name], actual[name])) return undefined;
  }
  if (!recentEnough(requested.time, actual.time, now)) return undefined;
  const out: Json = { trust_framework: actual.trust_framework };
  for (const name of Object.keys(requested)) {
    if (name === 'trust_framework' || actual[name] === undefined) continue;
    if (name === 'evidence') {
      const evidence = acceptedEvidence(requested.evidence, actual.evidence);
      if (!evidence) return undefined;
      out.evidence = evidence;
    } else out[name] = actual[name];
  }
  if (Array.isArray(requested.evidence) && actual.evidence === undefined) return undefined;
  return out;
}

/**
 * The `verified_claims` to release for one container's request: per request element, per
 * verification record that meets it, the requested claims the record covers, the person consented
 * to and the identity system returned (a claim's own `value` / `values` must match too). Elements
 * that end up with no claim are left out; undefined when nothing is left. An object request with
 * one answer gets an object, otherwise an array.
 */
export function buildVerifiedClaims(
  request: unknown,
  records: readonly VerificationRecord[],
  claims: Record<string, unknown>,
  consented: readonly string[],
  now: number,
): Json | Json[] | undefined {
  const answers: Json[] = [];
  for (const element of requestElements(request)) {
    const given = new Set<string>();
    for (const record of records) {
      const verification = verificationFor(element.verification, record, now);
      if (!verification) continue;
      const released: Json = {};
      for (const [name, constraint] of Object.entries(element.claims)) {
        const base = name.split('#')[0]!;
        if (given.has(name) || !record.claims.includes(base) || !consented.includes(base)) continue;
        if (!Object.hasOwn(claims, name) || !meets(constraint, claims[name])) continue;
        released[name] = claims[name];
        given.add(name);
      }
      if (Object.keys(released).length > 0) answers.push({ verification, claims: released });
    }
  }
  if (answers.length === 0) return undefined;
  return !Array.isArray(request) && answers.length === 1 ? answers[0] : answers;
}

/**
 * oidc-provider's claims mask keeps a requested claim only when its request is null or an object
 * (lib/helpers/claims.js `result()`); the array form of `verified_claims` is a list. The mask sees it
 * as a plain request for the claim; the list itself still reaches `findAccount` (accounts.ts), which
 * answers it.
 */
export function maskable(mask: unknown): unknown {
  if (!isObject(mask) || !Array.isArray(mask[VERIFIED_CLAIMS])) return mask;
  return { ...mask, [VERIFIED_CLAIMS]: null };
}

/** The provider's Claims class with `maskable` applied to every mask (installed in provider.ts). */
export function installVerifiedClaimsMask(provider: { Claims: new (...args: any[]) => any }): void {
  const Base = provider.Claims;
  class Claims extends Base {
    mask(value: unknown) {
      return super.mask(maskable(value));
    }
  }
  Object.defineProperty(provider, 'Claims', { value: Claims, configurable: true });
}

/** OP metadata of OpenID Connect for Identity Assurance 1.0 (its "OP Metadata" section). */
export function identityAssuranceMetadata(ida: {
  trustFrameworks: readonly string[];
  evidence: readonly string[];
  documents: readonly string[];
  claims: readonly string[];
}): Record<string, unknown> {
  return {
    verified_claims_supported: true,
    trust_frameworks_supported: [...ida.trustFrameworks],
    evidence_supported: [...ida.evidence],
    ...(ida.evidence.includes('document') ? { documents_supported: [...ida.documents] } : {}),
    claims_in_verified_claims_supported: [...ida.claims],
  };
}

/** How one detail asked for as verified is verified, as the consent page shows it. */
export interface ClaimVerification {
  readonly trust_framework: string;
  readonly assurance_level?: string;
  /** Evidence types (`document`, `electronic_record`, …). */
  readonly evidence: readonly string[];
}

/**
 * For each claim asked for as verified: the person's verification records covering it (trust
 * framework, assurance level, evidence types; no values), [] when none does.
 */
export function verifiedDetails(
  verified: readonly string[],
  records: readonly VerificationRecord[],
): Record<string, ClaimVerification[]> {
  const out: Record<string, ClaimVerification[]> = {};
  for (const claim of verified) {
    out[claim] = records
      .filter((r) => r.claims.includes(claim))
      .map((r) => {
        const { trust_framework, assurance_level, evidence } = r.verification;
        const types = (Array.isArray(evidence) ? evidence : []).flatMap((e) => {
          const type = isObject(e) ? e.type : undefined;
          const value = isObject(type) ? type.value : type;
          return typeof value === 'string' ? [value] : [];
        });
        return {
          trust_framework,
          ...(typeof assurance_level === 'string' ? { assurance_level } : {}),
          evidence: [...new Set(types)],
        };
      });
  }
  return out;
}
