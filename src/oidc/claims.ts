import { createHash } from 'node:crypto';
import { SCOPE_CLAIMS } from '../kyc/claims.ts';
import type { Factor } from '../kyc/spi.ts';
import { VERIFIED_CLAIMS, verifiedClaimNames } from './verified-claims.ts';

/**
 * Pure helpers for what a relying party asks for: scopes → claims (OIDC Core §5.4), the `claims`
 * parameter (§5.5, essential vs voluntary), ACR → factors (eSignet's amr_acr_mapping.json) and the
 * fingerprint a remembered consent is compared with.
 */

/** Claims that identity systems may return per language (`name#ar`, OIDC Core §5.2). */
export const LOCALIZABLE_CLAIMS = ['name', 'given_name', 'family_name', 'middle_name', 'address', 'gender'];

/**
 * Every claim the provider can release, by scope, with language-tagged variants for `locales`
 * (the other languages; untagged claims are in the default language).
 */
export function claimsConfig(locales: readonly string[]): Record<string, string[] | null> {
  const tagged = (claim: string) =>
    LOCALIZABLE_CLAIMS.includes(claim) ? [claim, ...locales.map((l) => `${claim}#${l}`)] : [claim];
  const config: Record<string, string[] | null> = {
    // ID tokens always say how and when the person authenticated.
    openid: ['sub', 'acr', 'amr', 'auth_time'],
    sid: null,
    iss: null,
    // OpenID Connect for Identity Assurance 1.0: asked for in the claims parameter only, built per
    // request (src/oidc/verified-claims.ts); its claims are consented one by one like any other.
    [VERIFIED_CLAIMS]: null,
  };
  for (const [scope, claims] of Object.entries(SCOPE_CLAIMS)) config[scope] = claims.flatMap(tagged);
  return config;
}

export const ALL_USER_CLAIMS: readonly string[] = [...new Set(Object.values(SCOPE_CLAIMS).flat())];

/** RFC 8176 `amr` values for our factors. */
export const AMR: Record<Factor, string> = {
  otp: 'otp',
  pin: 'pin',
  password: 'pwd',
  kbi: 'kba',
  biometric: 'face',
  wallet: 'hwk',
  // RFC 8176 §2 `pop`: proof of possession of a key, hardware- or software-secured unspecified (the
  // key-binding JWT of a credential presentation); the ACR says it was a wallet presentation.
  vp: 'pop',
};

export interface AcrRule {
  readonly acr: string;
  readonly factors: readonly Factor[];
}

/**
 * The ACRs a login may use: eSignet's order (`claims.id_token.acr.values` ∩ client ACRs, else
 * `acr_values` ∩ client ACRs, else all client ACRs); unknown values are dropped. Falls back to all
 * configured ACRs the client allows when the request names none it allows.
 */
export function resolveAcrs(
  table: readonly AcrRule[],
  requested: readonly string[],
  clientAllowed: readonly string[] | undefined,
): AcrRule[] {
  const allowed = table.filter((rule) => !clientAllowed?.length || clientAllowed.includes(rule.acr));
  const chosen = allowed.filter((rule) => requested.includes(rule.acr));
  return chosen.length > 0 ? chosen : allowed;
}

/** The first ACR (in the order given) whose factors were all verified. */
export function satisfiedAcr(rules: readonly AcrRule[], verified: readonly Factor[]): string | undefined {
  return rules.find((rule) => rule.factors.every((f) => verified.includes(f)))?.acr;
}

/** Requested ACR values from `claims.id_token.acr` (values/value) and `acr_values`. */
export function requestedAcrs(params: Record<string, unknown>): string[] {
  const claims = parseClaimsParam(params.claims);
  const acr = claims.id_token?.acr;
  const fromClaims = acr?.values ?? (typeof acr?.value === 'string' ? [acr.value] : []);
  const fromParam = typeof params.acr_values === 'string' ? params.acr_values.split(' ').filter(Boolean) : [];
  return fromClaims.length > 0 ? fromClaims.filter((v): v is string => typeof v === 'string') : fromParam;
}

interface ClaimRequest {
  essential?: boolean;
  value?: unknown;
  values?: unknown[];
}
type ClaimsParam = {
  userinfo?: Record<string, ClaimRequest | null> & { verified_claims?: unknown };
  id_token?: Record<string, ClaimRequest | null> & { verified_claims?: unknown };
};

export function parseClaimsParam(raw: unknown): ClaimsParam {
  if (typeof raw !== 'string' || raw === '') return {};
  try {
    const parsed = JSON.parse(raw) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as ClaimsParam) : {};
  } catch {
    return {};
  }
}

/** What the consent page shows and the consent record remembers. */
export interface ClaimSet {
  /** Claims the person cannot decline (`essential: true` in the claims parameter). */
  readonly essential: string[];
  /** Claims the person may decline (scope-implied, or not essential). */
  readonly voluntary: string[];
  /** Scopes requested (OIDC and credential scopes). */
  readonly scopes: string[];
  /** `authorization_details` as requested (RFC 9396), or []. */
  readonly authorizationDetails: Record<string, unknown>[];
  /**
   * Claims asked for as verified (`verified_claims`, OpenID Connect for Identity Assurance 1.0),
   * also listed in `essential` or `voluntary`; absent when none is.
   */
  readonly verified?: string[];
  /** SHA-256 over the sorted request: a changed request asks for consent again. */
  readonly fingerprint: string;
}

/**
 * The claims a request asks for, restricted to what the client may receive (requested ∩ client
 * allowed). Claims with a language tag are folded into their base claim; unknown claims are dropped.
 */
export function describeRequest(
  params: Record<string, unknown>,
  clientAllowedClaims: readonly string[] | undefined,
  extraClaims: readonly string[] = [],
): ClaimSet {
  const scopes =
    typeof params.scope === 'string' ? [...new Set(params.scope.split(' ').filter(Boolean))] : [];
  const known = new Set([...ALL_USER_CLAIMS, ...extraClaims]);
  const allowed = (claim: string) =>
    known.has(claim) && (!clientAllowedClaims || clientAllowedClaims.includes(claim));
  const essential = new Set<string>();
  const voluntary = new Set<string>();
  for (const scope of scopes) for (const claim of SCOPE_CLAIMS[scope] ?? []) voluntary.add(claim);
  for (const claim of extraClaims) voluntary.add(claim);
  const claims = parseClaimsParam(params.claims);
  const verified = new Set<string>();
  const verifiedRequests: unknown[] = [];
  for (const container of [claims.userinfo, claims.id_token]) {
    if (!container || typeof container !== 'object') continue;
    for (const [name, request] of Object.entries(container)) {
      if (name === VERIFIED_CLAIMS) continue;
      const base = name.split('#')[0]!;
      if ((request as ClaimRequest | null)?.essential === true) essential.add(base);
      else voluntary.add(base);
    }
    for (const [name, isEssential] of verifiedClaimNames(container)) {
      verified.add(name);
      (isEssential ? essential : voluntary).add(name);
    }
    if (container[VERIFIED_CLAIMS] !== undefined) verifiedRequests.push(container[VERIFIED_CLAIMS]);
  }
  for (const claim of essential) voluntary.delete(claim);
  const authorizationDetails = parseDetails(params.authorization_details);
  const verifiedAllowed = [...verified].filter(allowed).sort();
  const result = {
    essential: [...essential].filter(allowed).sort(),
    voluntary: [...voluntary].filter(allowed).sort(),
    scopes: scopes.sort(),
    authorizationDetails,
    ...(verifiedAllowed.length > 0 ? { verified: verifiedAllowed } : {}),
  };
  // A changed verified_claims request (trust framework, evidence…) asks for consent again.
  const hashed = verifiedRequests.length > 0 ? { ...result, verifiedRequests } : result;
  const fingerprint = createHash('sha256').update(JSON.stringify(hashed)).digest('base64url');
  return { ...result, fingerprint };
}

function parseDetails(raw: unknown): Record<string, unknown>[] {
  if (typeof raw !== 'string' || raw === '') return [];
  try {
    const parsed = JSON.parse(raw) as unknown;
    return Array.isArray(parsed) ? parsed.filter((d) => d && typeof d === 'object') : [];
  } catch {
    return [];
  }
}

/**
 * Released = requested ∩ client-allowed ∩ accepted. Essential claims are always released (the page
 * cannot submit without them); voluntary ones only when accepted.
 */
export function releasedClaims(
  set: ClaimSet,
  accepted: readonly string[],
): { released: string[]; declined: string[] } {
  const released = [...set.essential, ...set.voluntary.filter((c) => accepted.includes(c))];
  const declined = set.voluntary.filter((c) => !accepted.includes(c));
  return { released, declined };
}
