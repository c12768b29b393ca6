import { sha256 } from '../../crypto/hash.ts';
import { publicJwk } from '../../crypto/jwk.ts';
import { randomId } from '../../random.ts';
import { encodedHeader, hourFloor, seconds, signCompact } from './jws.ts';
import type { CredentialFormat, FormatBaseDeps, IssueRequest, IssuerCaSource } from './types.ts';

/**
 * `dc+sd-jwt`: SD-JWT VC (draft-ietf-oauth-sd-jwt-vc, https://datatracker.ietf.org/doc/draft-ietf-oauth-sd-jwt-vc/)
 * over SD-JWT (RFC 9901). `iss` is the issuer's HTTPS identifier, so verifiers find the key
 * through `<iss>/.well-known/jwt-vc-issuer` (its `jwks`, matched by `kid` = JWK thumbprint).
 *
 * Disclosures are made here (packClaims) rather than by @sd-jwt/sd-jwt-vc's `issue`: the library
 * encodes through a pure-JS base64 and awaits every salt and digest, ~10% of a credential request's
 * CPU; the output has the same shape (test/unit/sd-jwt.test.ts reads ours with the library).
 */

/** Claims the format sets itself (SD-JWT VC §3.2.2, SD-JWT §4.1); a configuration may not map onto them. */
const RESERVED = new Set([
  'iss',
  'iat',
  'nbf',
  'exp',
  'vct',
  'vct#integrity',
  'cnf',
  'status',
  '_sd',
  '_sd_alg',
  '...',
]);

/** 128-bit salts from the CSPRNG (RFC 9901 §4.2.1 recommends at least 128 bits). */
const salt = (): string => randomId(16);
/** base64url SHA-256 of an ASCII string: a disclosure's digest (RFC 9901 §4.2.3), or a decoy's. */
const digestOf = (value: string): string => Buffer.from(sha256(value)).toString('base64url');

type Frame = { _sd?: string[]; _sd_decoy?: number; [claim: string]: unknown };

/**
 * Applies a disclosure frame (disclosureFrameOf) to an object, RFC 9901 §4.2: each claim named in
 * `_sd` leaves the object for a disclosure, base64url(JSON [salt, name, value]), and its digest goes
 * into the object's `_sd`, with `_sd_decoy` decoy digests (§4.2.5), sorted so that their order
 * tells nothing (§4.2.4.1). Nested frames are packed first, so a disclosed object carries its own
 * `_sd`. Disclosures are appended to `out` innermost first, then in claim order (as @sd-jwt/core does).
 */
export function packClaims(
  claims: Record<string, unknown>,
  frame: Frame,
  out: string[],
): Record<string, unknown> {
  // Nested frames first (in the frame's order), so their disclosures precede this object's own.
  const nested = new Map<string, Record<string, unknown>>();
  for (const [name, inner] of Object.entries(frame)) {
    const value = claims[name];
    if (name !== '_sd' && name !== '_sd_decoy' && isObject(inner) && isObject(value))
      nested.set(name, packClaims(value, inner as Frame, out));
  }
  const sd = frame._sd ?? [];
  const packed: Record<string, unknown> = {};
  const digests: string[] = [];
  for (const [name, value] of Object.entries(claims)) {
    const claim = nested.get(name) ?? value;
    if (sd.includes(name)) {
      const disclosure = Buffer.from(JSON.stringify([salt(), name, claim]), 'utf8').toString('base64url');
      out.push(disclosure);
      digests.push(digestOf(disclosure));
    } else {
      packed[name] = claim;
    }
  }
  for (let i = 0; i < (frame._sd_decoy ?? 0); i++) digests.push(digestOf(salt()));
  if (digests.length > 0) packed['_sd'] = digests.sort();
  return packed;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Turns dot-separated claim paths (`given_name`, `address.locality`) into the library's disclosure
 * frame. A path whose value is absent from the claims is skipped, so optional claims stay optional;
 * in its place the object gets a decoy digest (SD-JWT §4.2.5), so every credential of a
 * configuration carries as many digests per object as the configuration names, and the count does
 * not tell which optional claims a person lacks. Array elements are not addressed by paths; a
 * whole array claim can be disclosable.
 */
export function disclosureFrameOf(paths: string[], claims: Record<string, unknown>): Frame {
  const frame: Frame = {};
  const configured = new Map<Frame, Set<string>>();
  for (const path of paths) {
    const segments = path.split('.');
    let node = frame;
    let value: unknown = claims;
    for (const [i, segment] of segments.entries()) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) break;
      const present = segment in (value as object);
      if (i === segments.length - 1) {
        const names = configured.get(node) ?? new Set<string>();
        configured.set(node, names.add(segment));
        if (present) {
          node._sd ??= [];
          if (!node._sd.includes(segment)) node._sd.push(segment);
        }
        break;
      }
      if (!present) break;
      value = (value as Record<string, unknown>)[segment];
      node[segment] ??= {};
      node = node[segment] as Frame;
    }
  }
  for (const [node, names] of configured) {
    const missing = names.size - (node._sd?.length ?? 0);
    if (missing > 0) node._sd_decoy = missing;
  }
  return frame;
}

export interface SdJwtDeps extends FormatBaseDeps {
  /** `x5c` for an ES256 credential key (issuer-ca.ts joseX5c); absent: keys only through jwt-vc-issuer metadata. */
  issuerCa?: Pick<IssuerCaSource, 'joseX5c'>;
}

/** The SD-JWT VC payload before selective disclosure is applied (`publicUrl` is `iss`; `now` epoch ms). */
export function sdJwtVcPayload(
  req: IssueRequest,
  publicUrl: string,
  now: number,
): Record<string, unknown> & { vct: string } {
  const { vct } = req.profile;
  if (!vct) throw new Error(`configuration ${req.profile.configurationId} has no vct`);
  for (const claim of Object.keys(req.claims)) {
    if (RESERVED.has(claim))
      throw new Error(`claim ${claim} of ${req.profile.configurationId} is reserved in SD-JWT VC`);
  }
  const payload: Record<string, unknown> & { vct: string } = {
    iss: publicUrl,
    // SECURITY.md row 36: issuance time rounded down to the hour so two issuances do not link.
    iat: hourFloor(now),
    nbf: seconds(req.validFrom),
    vct,
    ...req.claims,
  };
  if (req.validUntil) payload['exp'] = seconds(req.validUntil);
  // SD-JWT VC §3.2.2.2: holder binding through a confirmation key (RFC 7800).
  if (req.holder) payload['cnf'] = { jwk: publicJwk(req.holder.jwk) };
  const token = (req.status ?? []).find((entry) => entry.kind === 'token');
  if (req.status?.some((entry) => entry.kind !== 'token')) {
    throw new Error('dc+sd-jwt takes token status list entries only');
  }
  // draft-ietf-oauth-status-list §6.1: the Referenced Token's `status` claim.
  if (token?.kind === 'token') payload['status'] = { status_list: { idx: token.idx, uri: token.uri } };
  return payload;
}

export function createSdJwtFormat(deps: SdJwtDeps): CredentialFormat {
  return {
    id: 'dc+sd-jwt',
    async issue(req) {
      const key = deps.keys.active('credential', req.profile.alg ?? 'ES256');
      const payload = sdJwtVcPayload(req, deps.publicUrl, deps.clock.now());
      const frame = disclosureFrameOf(req.profile.selectivelyDisclosable ?? [], req.claims);
      // SD-JWT VC §3.5: verifiers find the key through `iss` + `kid` (jwt-vc-issuer metadata) or,
      // for ES256, through the certificate in `x5c`, which chains to the published IACA.
      const x5c = deps.issuerCa && key.alg === 'ES256' ? await deps.issuerCa.joseX5c(key) : undefined;
      // The header is encoded once per key and certificate (a renewed certificate is a new shape).
      const header = encodedHeader(key, `dc+sd-jwt ${x5c?.[0] ?? ''}`, () => ({
        typ: 'dc+sd-jwt',
        kid: key.kid,
        ...(x5c ? { x5c } : {}),
      }));
      const disclosures: string[] = [];
      const packed = packClaims(payload, frame, disclosures);
      // RFC 9901 §4.1.1: `_sd_alg` names the digest algorithm whenever there is a frame to apply.
      const jwt = signCompact(key, header, { ...packed, _sd_alg: 'sha-256' });
      // §4: <issuer-signed JWT>~<disclosure>~…~ (no key binding JWT from the issuer).
      return `${[jwt, ...disclosures].join('~')}~`;
    },
  };
}
