import type { ClaimMapping, ClaimTransform, CredentialDefinition } from './types.ts';

/**
 * Claim mapping: identity claims (OIDC names, OIDC Core §5.1) in, credential subject out. Pure
 * functions; the issuance layer calls them at issuance time and keeps nothing afterwards.
 */

export interface MappingContext {
  /** Preferred languages, most preferred first (the request's claims locales, then defaults). */
  locales: readonly string[];
  /** Issuance instant, epoch ms (for derived values such as `ageOver`). */
  now: number;
}

export interface MappingResult {
  subject: Record<string, unknown>;
  /** Paths (dot-joined) of mandatory claims that had no value. */
  missing: string[];
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})/;

/** The identity claim names (top level, without language tag) a source reads: `address.locality` → `address`. */
export function identityClaimName(source: string): string {
  return source.split('#')[0]!.split('.')[0]!;
}

/**
 * Source `verification.<member>` (e.g. `verification.assurance_level`, `verification.trust_framework`,
 * `verification.time`): the OpenID Connect for Identity Assurance `verification` element of the
 * record that verifies the credential's claims (see `withVerification`). Not a claim of its own:
 * consent covers it through the claims it describes.
 */
export const VERIFICATION_SOURCE = 'verification';

/** Every identity claim name a definition reads: what consent must cover. */
export function identityClaimsOf(definition: CredentialDefinition): string[] {
  const names = new Set<string>();
  for (const claim of definition.claims) if (claim.source) names.add(identityClaimName(claim.source));
  names.delete(VERIFICATION_SOURCE);
  return [...names];
}

/** A verification record as identity systems report it: the element and the claims it covers. */
export interface ClaimsVerification {
  readonly verification: Record<string, unknown>;
  readonly claims: readonly string[];
}

/**
 * The claims with `verification` set to the element of the record that covers most of `reads`
 * (the claims the credential uses; the first such record on a tie), so `verification.*` sources
 * read it. Without a covering record there is no `verification`: a mandatory mapping then denies.
 */
export function withVerification(
  claims: Record<string, unknown>,
  records: readonly ClaimsVerification[] | undefined,
  reads: readonly string[],
): Record<string, unknown> {
  let best: ClaimsVerification | undefined;
  let covered = 0;
  for (const record of records ?? []) {
    const count = reads.filter((c) => record.claims.includes(c)).length;
    if (count > covered) [best, covered] = [record, count];
  }
  const { [VERIFICATION_SOURCE]: _ignored, ...rest } = claims;
  return best ? { ...rest, [VERIFICATION_SOURCE]: best.verification } : rest;
}

function read(claims: Record<string, unknown>, source: string): unknown {
  const [base, lang] = source.split('#') as [string, string | undefined];
  const [head, ...rest] = base.split('.') as [string, ...string[]];
  let value: unknown = Object.hasOwn(claims, lang ? `${head}#${lang}` : head)
    ? claims[lang ? `${head}#${lang}` : head]
    : undefined;
  for (const key of rest) {
    value =
      value && typeof value === 'object' && Object.hasOwn(value, key)
        ? (value as Record<string, unknown>)[key]
        : undefined;
  }
  return value;
}

function parseDate(value: unknown): { y: number; m: number; d: number } | undefined {
  if (typeof value !== 'string') return undefined;
  const match = ISO_DATE.exec(value);
  if (!match) return undefined;
  return { y: Number(match[1]), m: Number(match[2]), d: Number(match[3]) };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function ageAtLeast(birth: { y: number; m: number; d: number }, years: number, now: number): boolean {
  const today = new Date(now);
  const y = today.getUTCFullYear();
  const m = today.getUTCMonth() + 1;
  const d = today.getUTCDate();
  let age = y - birth.y;
  if (m < birth.m || (m === birth.m && d < birth.d)) age -= 1;
  return age >= years;
}

function languageVariant(
  claims: Record<string, unknown>,
  source: string,
  languages: readonly string[],
): unknown {
  for (const lang of languages) {
    const value = read(claims, `${source}#${lang}`);
    if (value !== undefined) return value;
    // BCP 47 prefix match: `ar` accepts `ar-EG`.
    const prefixed = Object.keys(claims).find((key) =>
      key.toLowerCase().startsWith(`${source}#${lang.toLowerCase()}-`),
    );
    if (prefixed) return claims[prefixed];
  }
  return read(claims, source);
}

function apply(
  transform: ClaimTransform | undefined,
  claims: Record<string, unknown>,
  source: string | undefined,
  context: MappingContext,
): unknown {
  if (!transform) return source === undefined ? undefined : read(claims, source);
  switch (transform.type) {
    case 'constant':
      return transform.value;
    case 'date': {
      const date = parseDate(read(claims, source!));
      if (!date) return undefined;
      const { y, m, d } = date;
      const formats = {
        'YYYY-MM-DD': `${pad(y, 4)}-${pad(m)}-${pad(d)}`,
        YYYY: pad(y, 4),
        'DD/MM/YYYY': `${pad(d)}/${pad(m)}/${pad(y, 4)}`,
        'MM/DD/YYYY': `${pad(m)}/${pad(d)}/${pad(y, 4)}`,
        YYYYMMDD: `${pad(y, 4)}${pad(m)}${pad(d)}`,
      };
      return formats[transform.format];
    }
    case 'year':
      return parseDate(read(claims, source!))?.y;
    case 'ageOver': {
      const date = parseDate(read(claims, source!));
      return date ? ageAtLeast(date, transform.years, context.now) : undefined;
    }
    case 'language':
      return languageVariant(claims, source!, [...context.locales, ...(transform.prefer ?? [])]);
    case 'languageMap': {
      const map: Record<string, unknown> = {};
      transform.languages.forEach((lang, i) => {
        const value = read(claims, `${source}#${lang}`) ?? (i === 0 ? read(claims, source!) : undefined);
        if (value !== undefined) map[lang] = value;
      });
      return Object.keys(map).length > 0 ? map : undefined;
    }
    case 'map': {
      const value = read(claims, source!);
      return typeof value === 'string' && Object.hasOwn(transform.values, value)
        ? transform.values[value]
        : undefined;
    }
  }
}

function place(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!node[key] || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

/** Builds the credential subject for one definition from identity claims. */
export function mapClaims(
  mappings: readonly ClaimMapping[],
  claims: Record<string, unknown>,
  context: MappingContext,
): MappingResult {
  const subject: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const mapping of mappings) {
    const value = apply(mapping.transform, claims, mapping.source, context);
    if (value === undefined || value === null || value === '') {
      if (mapping.mandatory) missing.push(mapping.path.join('.'));
      continue;
    }
    place(subject, mapping.path, value);
  }
  return { subject, missing };
}

/** A sample person used to check every definition's mapping against its schema at load. */
export const SAMPLE_IDENTITY: Record<string, unknown> = {
  sub: 'sample',
  name: 'Amina Hassan',
  'name#en': 'Amina Hassan',
  'name#ar': 'أمينة حسن',
  'name#fr': 'Amina Hassan',
  given_name: 'Amina',
  'given_name#ar': 'أمينة',
  family_name: 'Hassan',
  'family_name#ar': 'حسن',
  middle_name: 'Said',
  nickname: 'Mina',
  birthdate: '1990-04-12',
  gender: 'female',
  email: 'amina@example.org',
  email_verified: true,
  phone_number: '+255700000001',
  phone_number_verified: true,
  picture: 'data:image/png;base64,iVBORw0KGgo=',
  nationality: 'TZ',
  locale: 'en',
  verification: { trust_framework: 'sample', assurance_level: 'substantial', time: '2020-01-01T00:00:00Z' },
  address: {
    formatted: '12 Uhuru Street, Dar es Salaam 11101, TZ',
    street_address: '12 Uhuru Street',
    locality: 'Dar es Salaam',
    region: 'Dar es Salaam',
    postal_code: '11101',
    country: 'TZ',
  },
};
