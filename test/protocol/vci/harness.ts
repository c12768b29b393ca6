import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { request } from 'undici';
import { didKeyFromJwk } from '../../../src/crypto/did.ts';
import type { IssuanceGrant, TokenVerifier } from '../../../src/oidc/bridge.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { assertAdminExchange, parseMaybe } from '../../helpers/openapi.ts';

/**
 * The issuer over real HTTP for protocol tests. Access tokens come from the OpenID Provider's token
 * endpoint; with `fakeTokens` a stand-in TokenVerifier, passed at construction, accepts only tokens
 * minted here from a redeemed pre-authorized code, so the issuer's own rules are tested either way.
 */
export interface VciHarness {
  app: TestApp;
  url: string;
  admin(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  post(
    path: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Record<string, unknown>; text: string }>;
  /** Creates a person in the mock identity system; returns their individual ID and e-mail. */
  person(overrides?: {
    claims?: Record<string, unknown>;
    kyc_pending?: boolean;
  }): Promise<{ individualId: string; email: string; accountId: string }>;
  offer(ids: string[], individualId: string, txCode?: boolean): Promise<any>;
  /** The newest tx_code sent to this e-mail address (from the outbox). */
  txCode(email: string): Promise<string>;
  /** Token endpoint (or the stand-in): redeems a pre-authorized code. */
  token(code: string, txCode?: string): Promise<{ status: number; body: any }>;
  /** A token for a grant built directly (authz tests: other clients, other configurations). */
  mintToken(grant: Partial<IssuanceGrant> & { accountId: string }): string;
  nonce(): Promise<string>;
  stop(): Promise<void>;
  realTokens: boolean;
}

export async function startVci(
  options: { overrides?: Record<string, unknown>; pathPrefix?: string; fakeTokens?: boolean } = {},
): Promise<VciHarness> {
  const minted = new Map<string, IssuanceGrant>();
  // Tokens minted by the test (for grants the provider would not hand out) are checked first; every
  // other token goes to the provider's verifier unless `fakeTokens`.
  const tokens = (provider: TokenVerifier): TokenVerifier => ({
    async verify(input) {
      const bearer = input.authorization?.startsWith('Bearer ') ? input.authorization.slice(7) : undefined;
      const grant = bearer ? minted.get(bearer) : undefined;
      if (grant) return grant;
      if (!options.fakeTokens) return provider.verify(input);
      const { InvalidToken } = await import('../../../src/errors.ts');
      throw new InvalidToken('the access token is invalid', {
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      });
    },
  });
  const app = await startTestApp({
    overrides: { kyc: { scryptCost: 1024, notify: { outboxEnabled: true } }, ...options.overrides },
    ...(options.pathPrefix ? { pathPrefix: options.pathPrefix } : {}),
    compose: { tokens },
  });
  const url = app.url;
  const realTokens = !options.fakeTokens;
  const mintToken = (grant: Partial<IssuanceGrant> & { accountId: string }) => {
    const token = randomBytes(16).toString('base64url');
    minted.set(token, {
      grantId: randomBytes(8).toString('hex'),
      identitySystem: 'mock',
      credentialConfigurationIds: [],
      authorizationDetails: [],
      consentedClaims: [],
      expiresAt: app.clock.now() + 300_000,
      ...grant,
    });
    return token;
  };

  const call = async (
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
    base = url,
  ) => {
    const res = await request(`${base}${path}`, {
      method: method as 'GET',
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {}
    return {
      status: res.statusCode,
      body: parsed as any,
      headers: res.headers as Record<string, unknown>,
      text,
    };
  };
  // The admin API sits at the host root, whatever path the public URL has.
  // Every admin call is checked against docs/openapi/admin.yaml (test/helpers/openapi.ts).
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await call(
      method,
      `/admin${path}`,
      body,
      { authorization: `Bearer ${app.adminToken}` },
      new URL(url).origin,
    );
    await assertAdminExchange({
      method,
      url: `/admin${path}`,
      ...(body !== undefined
        ? { requestBody: typeof body === 'string' ? parseMaybe(body, 'json') : body }
        : {}),
      status: res.status,
      responseBody: res.body,
      responseContentType: res.text ? String(res.headers['content-type'] ?? '') : null,
    });
    return res;
  };

  return {
    app,
    url,
    realTokens,
    admin,
    post: (path, body, headers = {}) => call('POST', path, body, headers),
    async person(overrides = {}) {
      const individualId = String(1_000_000_000 + Math.floor(Math.random() * 8_999_999_999));
      const email = `p${individualId}@example.org`;
      const res = await admin('POST', '/identities', {
        individual_id: individualId,
        claims: {
          name: 'Layla Mansour',
          'name#ar': 'ليلى منصور',
          given_name: 'Layla',
          family_name: 'Mansour',
          birthdate: '1994-07-21',
          gender: 'female',
          email,
          phone_number: '+212600000001',
          address: {
            street_address: '3 Avenue Hassan II',
            locality: 'Rabat',
            postal_code: '10000',
            country: 'MA',
          },
          ...overrides.claims,
        },
        pin: '135790',
        ...(overrides.kyc_pending !== undefined ? { kyc_pending: overrides.kyc_pending } : {}),
      });
      if (res.status !== 201) throw new Error(`cannot create identity: ${JSON.stringify(res.body)}`);
      return { individualId, email, accountId: res.body.account_id ?? res.body.accountId };
    },
    async offer(ids, individualId, txCode = false) {
      const res = await admin('POST', '/credential-offers', {
        credential_configuration_ids: ids,
        individual_id: individualId,
        tx_code: txCode,
      });
      if (res.status !== 201)
        throw new Error(`cannot create offer: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async txCode(email) {
      const res = await admin('GET', `/outbox?to=${encodeURIComponent(email)}`);
      const text: string =
        res.body.messages.find((m: { purpose: string }) => m.purpose === 'tx_code')?.text ?? '';
      const code = /\b(\d{4,12})\b/.exec(text)?.[1];
      if (!code) throw new Error('no tx_code in the outbox');
      return code;
    },
    async token(code, txCode) {
      if (realTokens) {
        const meta = await call('GET', '/.well-known/openid-configuration', undefined, {});
        const form = new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code',
          'pre-authorized_code': code,
        });
        if (txCode !== undefined) form.set('tx_code', txCode);
        const res = await request(meta.body.token_endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
        });
        return { status: res.statusCode, body: await res.body.json() };
      }
      try {
        const grant = await app.running.parts.grants.preAuthorizedCodes.redeem(code, txCode);
        const token = mintToken({ ...grant });
        return { status: 200, body: { access_token: token, token_type: 'Bearer', expires_in: 300 } };
      } catch (error) {
        const e = error as { status: number; code: string; description: string };
        return { status: e.status, body: { error: e.code, error_description: e.description } };
      }
    },
    mintToken,
    async nonce() {
      const res = await call('POST', '/nonce', undefined, {});
      return res.body.c_nonce;
    },
    stop: () => app.stop(),
  };
}

/** OpenID4VCI 1.0 §8.3.1.2: a c_nonce the issuer did not make, that expired or was spent. */
export const UNKNOWN_NONCE = {
  error: 'invalid_nonce',
  error_description: 'the c_nonce is unknown, expired or already used',
};
/** OpenID4VCI 1.0 §8.3.1.2: a proof without a c_nonce is invalid_nonce too. */
export const NO_NONCE = {
  error: 'invalid_nonce',
  error_description: 'the proof must carry a c_nonce from the nonce endpoint',
};
/** RFC 6750 §3 and RFC 9449 §7.1: the credential endpoint's challenges for a token it refuses. */
export const INVALID_TOKEN_CHALLENGE =
  'DPoP algs="ES256 EdDSA Ed25519 PS256 RS256", error="invalid_token", Bearer realm="credential", error="invalid_token"';

/** The pre-authorized code inside an admin offer response (OpenID4VCI 1.0 §4.1.1). */
export function preAuthorizedCode(offer: { credential_offer: any }): string {
  return offer.credential_offer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code'][
    'pre-authorized_code'
  ];
}

export interface HolderKey {
  jwk: JWK;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  alg: 'ES256' | 'EdDSA';
  did: string;
}

export async function holderKey(alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<HolderKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, {
    crv: alg === 'EdDSA' ? 'Ed25519' : undefined,
    extractable: true,
  });
  const jwk = await exportJWK(publicKey);
  return { jwk, privateKey, alg, did: didKeyFromJwk(jwk) };
}

/** A proof JWT as OpenID4VCI 1.0 Appendix F.1 describes it; `tweak` breaks one thing at a time. */
export async function proofJwt(
  key: HolderKey,
  issuer: string,
  nonce: string | undefined,
  tweak: {
    header?: Record<string, unknown>;
    payload?: Record<string, unknown>;
    binding?: 'jwk' | 'did:key';
    iat?: number;
  } = {},
): Promise<string> {
  const binding = tweak.binding ?? 'jwk';
  const header = {
    alg: key.alg,
    typ: 'openid4vci-proof+jwt',
    ...(binding === 'jwk' ? { jwk: key.jwk } : { kid: `${key.did}#${key.did.slice('did:key:'.length)}` }),
    ...tweak.header,
  };
  const payload = { aud: issuer, ...(nonce ? { nonce } : {}), ...tweak.payload };
  return new SignJWT(payload)
    .setProtectedHeader(header as { alg: string })
    .setIssuedAt(tweak.iat ?? Math.floor(Date.now() / 1000))
    .sign(key.privateKey);
}

/** Runs `n` copies of `task` at once. */
export const burst = <T>(n: number, task: (i: number) => Promise<T>): Promise<T[]> =>
  Promise.all(Array.from({ length: n }, (_, i) => task(i)));
