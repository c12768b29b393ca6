/**
 * Trusted external authorization servers (config `vci.externalAuthorizationServers`): an existing
 * eSignet, or any OAuth authorization server that publishes its keys, logs the person in and its
 * access tokens reach the credential endpoint (the role Inji Certify plays beside eSignet).
 *
 * Each entry:
 *   issuer        the `iss` of its access tokens (and the entry published in `authorization_servers`)
 *   jwksUri | jwks   where its signing keys come from: fetched through the SSRF-guarded fetcher
 *                 (oidc.jwksUriPolicy: timeout, size cap, cache bounds) and refetched on an unknown
 *                 `kid` (rotation), or a static JWK Set
 *   audiences     `aud` values meant for us (default: the credential endpoint URL and the issuer
 *                 identifier; eSignet puts the credential endpoint of the scope's resource mapping)
 *   profile       `esignet` (JWTs as eSignet's TokenServiceImpl.getAccessToken builds them: no `typ`)
 *                 or `rfc9068` (RFC 9068 §2.1: `typ` must be `at+jwt`)
 *   introspection {endpoint, clientId, clientSecret}: opaque tokens are checked by RFC 7662
 *   subject       how the token's subject becomes a person:
 *                   {mode: 'userinfo', endpoint, decryptionJwk?}  claims from the server's userinfo,
 *                       called with the wallet's token (signed JWT, possibly encrypted, or JSON)
 *                   {mode: 'claim', claim, identitySystem}  identity-system lookup of a token claim
 *                   {mode: 'spi', identitySystem}  the identity system's resolveExternalSubject
 *   clockToleranceSeconds  leeway on exp/nbf/iat (default 30)
 */
export interface ExternalAuthorizationServer {
  readonly issuer: string;
  readonly jwksUri?: string;
  readonly jwks?: { keys: Record<string, unknown>[] };
  readonly audiences?: readonly string[];
  readonly profile: 'esignet' | 'rfc9068';
  readonly introspection?: { endpoint: string; clientId: string; clientSecret: string };
  readonly subject: SubjectMapping;
  readonly clockToleranceSeconds: number;
}

export type SubjectMapping =
  | { readonly mode: 'userinfo'; readonly endpoint: string; readonly decryptionJwk?: Record<string, unknown> }
  | { readonly mode: 'claim'; readonly claim: string; readonly identitySystem: string }
  | { readonly mode: 'spi'; readonly identitySystem: string };

/** How our own provider takes part: issues credential tokens and is listed; issues them unlisted; does not. */
export type OwnAuthorizationServer = 'listed' | 'on' | 'off';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isUrl = (v: unknown) => {
  if (typeof v !== 'string') return false;
  try {
    const url = new URL(v);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
};
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

const KNOWN = new Set([
  'issuer',
  'jwksUri',
  'jwks',
  'audiences',
  'profile',
  'introspection',
  'subject',
  'clockToleranceSeconds',
]);

/** The problems of one entry (empty when it is valid), each naming the member. */
function entryProblems(raw: unknown, identitySystems?: readonly string[]): string[] {
  if (!isObject(raw)) return ['must be an object'];
  const problems: string[] = [];
  for (const key of Object.keys(raw)) if (!KNOWN.has(key)) problems.push(`${key}: unknown option`);
  if (!isUrl(raw.issuer)) problems.push('issuer: must be an http(s) URL');
  if (raw.jwksUri === undefined && raw.jwks === undefined && raw.introspection === undefined)
    problems.push('one of jwksUri, jwks or introspection is required');
  if (raw.jwksUri !== undefined && raw.jwks !== undefined) problems.push('jwksUri and jwks: give one');
  if (raw.jwksUri !== undefined && !isUrl(raw.jwksUri)) problems.push('jwksUri: must be an http(s) URL');
  if (
    raw.jwks !== undefined &&
    !(
      isObject(raw.jwks) &&
      Array.isArray(raw.jwks.keys) &&
      raw.jwks.keys.every((k) => isObject(k) && typeof k.kty === 'string' && k.d === undefined)
    )
  )
    problems.push('jwks: must be a JWK Set of public keys');
  if (
    raw.audiences !== undefined &&
    !(Array.isArray(raw.audiences) && raw.audiences.length > 0 && raw.audiences.every(nonEmpty))
  )
    problems.push('audiences: must be a non-empty array of strings');
  if (raw.profile !== 'esignet' && raw.profile !== 'rfc9068')
    problems.push('profile: must be esignet or rfc9068');
  if (raw.introspection !== undefined) {
    const i = raw.introspection;
    if (!isObject(i) || !isUrl(i.endpoint) || !nonEmpty(i.clientId) || !nonEmpty(i.clientSecret))
      problems.push('introspection: must be {endpoint (http(s) URL), clientId, clientSecret}');
  }
  if (
    raw.clockToleranceSeconds !== undefined &&
    !(
      Number.isInteger(raw.clockToleranceSeconds) &&
      (raw.clockToleranceSeconds as number) >= 0 &&
      (raw.clockToleranceSeconds as number) <= 300
    )
  )
    problems.push('clockToleranceSeconds: must be an integer from 0 to 300');
  const s = raw.subject;
  const knownSystem = (name: unknown) =>
    nonEmpty(name) && (identitySystems === undefined || identitySystems.includes(name));
  if (!isObject(s)) problems.push('subject: must be an object with a mode (userinfo, claim, spi)');
  else if (s.mode === 'userinfo') {
    if (!isUrl(s.endpoint)) problems.push('subject.endpoint: must be an http(s) URL');
    if (
      s.decryptionJwk !== undefined &&
      !(isObject(s.decryptionJwk) && typeof s.decryptionJwk.d === 'string')
    )
      problems.push('subject.decryptionJwk: must be a private JWK');
  } else if (s.mode === 'claim') {
    if (!nonEmpty(s.claim)) problems.push('subject.claim: must name a token claim');
    if (!knownSystem(s.identitySystem))
      problems.push('subject.identitySystem: must name a kyc.systems entry');
  } else if (s.mode === 'spi') {
    if (!knownSystem(s.identitySystem))
      problems.push('subject.identitySystem: must name a kyc.systems entry');
  } else problems.push('subject.mode: must be userinfo, claim or spi');
  return problems;
}

/**
 * Checks `vci.externalAuthorizationServers` (load.ts rule): every problem, path-qualified by index;
 * issuers must be distinct. `identitySystems`: the configured `kyc.systems` names, when known.
 */
export function externalServerProblems(raw: unknown, identitySystems?: readonly string[]): string[] {
  if (!Array.isArray(raw)) return ['must be an array'];
  const problems = raw.flatMap((entry, i) => entryProblems(entry, identitySystems).map((p) => `[${i}].${p}`));
  const issuers = raw.map((e) => (isObject(e) ? e.issuer : undefined));
  if (new Set(issuers).size !== issuers.length) problems.push('issuers must be distinct');
  return problems;
}

/**
 * Checks of `vci.externalAuthorizationServers` against the rest of the configuration (load.ts, after
 * the per-option rules): subject mappings name configured identity systems, and our own provider off
 * needs an external server to take its place (else no access token could reach the credential endpoint).
 */
export function authorizationServerCrossProblems(
  vci: { ownAuthorizationServer?: unknown; externalAuthorizationServers?: unknown },
  identitySystems: readonly string[],
): string[] {
  const servers = Array.isArray(vci.externalAuthorizationServers) ? vci.externalAuthorizationServers : [];
  const problems: string[] = [];
  if (vci.ownAuthorizationServer === 'off' && servers.length === 0)
    problems.push(
      'vci.ownAuthorizationServer: off needs at least one vci.externalAuthorizationServers entry',
    );
  servers.forEach((entry, i) => {
    const system = isObject(entry) && isObject(entry.subject) ? entry.subject.identitySystem : undefined;
    if (nonEmpty(system) && !identitySystems.includes(system))
      problems.push(
        `vci.externalAuthorizationServers[${i}].subject.identitySystem: "${system}" is not in kyc.systems`,
      );
  });
  return problems;
}

/** The validated entries with their defaults (call after externalServerProblems found none). */
export function parseExternalServers(raw: readonly Record<string, unknown>[]): ExternalAuthorizationServer[] {
  const problems = externalServerProblems(raw);
  if (problems.length > 0) throw new Error(`vci.externalAuthorizationServers${problems[0]}`);
  return raw.map((e) => ({
    ...(e as unknown as ExternalAuthorizationServer),
    clockToleranceSeconds: (e.clockToleranceSeconds as number | undefined) ?? 30,
  }));
}
