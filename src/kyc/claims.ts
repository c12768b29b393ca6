/**
 * Claim selection and localization. Identities keep claims as OIDC Core §5.2 language-tagged
 * members: `name` holds the value in the default language (`kyc.defaultClaimsLocale`), `name#ar`
 * the Arabic one. https://openid.net/specs/openid-connect-core-1_0.html#ClaimsLanguagesAndScripts
 */

export type Claims = Record<string, unknown>;

const language = (tag: string) => tag.toLowerCase().split('-')[0]!;

/** The variant of `claim` for one requested locale (exact tag first, then its language), if any. */
function variant(
  claims: Claims,
  claim: string,
  locale: string,
  defaultLocale: string,
): [string, unknown] | undefined {
  if (language(locale) === language(defaultLocale) && claims[claim] !== undefined) {
    return [`${claim}#${defaultLocale}`, claims[claim]];
  }
  for (const tag of [locale, language(locale)]) {
    const key = Object.keys(claims).find((k) => k.toLowerCase() === `${claim}#${tag}`.toLowerCase());
    if (key) return [key, claims[key]];
  }
  return undefined;
}

/**
 * Returns only the accepted claims. For a plain claim name, the untagged member carries the best
 * match for `claimsLocales` (else the default language), and every requested locale the identity
 * has is also returned tagged (`claims_locales=ar en` → `name`, `name#ar`, `name#en`). An accepted tagged name (`name#ar`) is
 * returned as is. Claims the identity lacks are left out.
 */
export function selectClaims(
  claims: Claims,
  accepted: readonly string[],
  claimsLocales: readonly string[],
  defaultLocale: string,
): Claims {
  const out: Claims = {};
  for (const name of accepted) {
    if (name.includes('#')) {
      const found = variant(claims, name.split('#')[0]!, name.split('#')[1]!, defaultLocale);
      if (found) out[name] = found[1];
      continue;
    }
    // Only claims the identity holds in several languages are localized; `email` stays `email`.
    const localized = Object.keys(claims).some((key) => key.startsWith(`${name}#`));
    const variants = (localized ? claimsLocales : [])
      .map((locale) => variant(claims, name, locale, defaultLocale))
      .filter((v) => v !== undefined);
    const best = variants[0]?.[1] ?? claims[name];
    if (best !== undefined) out[name] = best;
    for (const [key, value] of variants) out[key] = value;
  }
  return out;
}

/** OIDC Core §5.4 scope → claims, plus eSignet's `profile` extras. */
export const SCOPE_CLAIMS: Record<string, readonly string[]> = {
  profile: [
    'name',
    'given_name',
    'family_name',
    'middle_name',
    'nickname',
    'preferred_username',
    'picture',
    'gender',
    'birthdate',
    'locale',
    'updated_at',
  ],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  address: ['address'],
};

/**
 * The standard claims an identity may hold (OIDC Core §5.1), plus `picture` as a data URI: those
 * the scopes ask for and `zoneinfo`; `updated_at` is not held (the identity system says when it
 * changed).
 */
export const STANDARD_CLAIMS = new Set([
  ...Object.values(SCOPE_CLAIMS)
    .flat()
    .filter((claim) => claim !== 'updated_at'),
  'zoneinfo',
]);

/** Claims that may carry language-tagged variants. */
export const LOCALIZABLE_CLAIMS = new Set([
  'name',
  'given_name',
  'family_name',
  'middle_name',
  'nickname',
  'address',
]);
