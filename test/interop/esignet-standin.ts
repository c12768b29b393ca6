import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import * as x509 from '@peculiar/x509';
import { CompactEncrypt, exportJWK, type JWK, SignJWT } from 'jose';

/**
 * A stand-in eSignet authorization server on 127.0.0.1 for the external-AS tests: it issues access
 * tokens exactly as eSignet's token service builds them and serves eSignet's JWKS and userinfo
 * shapes. Sources: mosip/esignet, commit 201264c86e98113762451f4a306163233fa79e24 (v1.8.0), cited
 * per wire detail as file:line below. Login is not replayed (the person is fixed per test): the
 * subject of these tests is the token the credential issuer receives.
 *
 * Paths: eSignet's backend lives under server.servlet.path /v1/esignet
 * (esignet-service/src/main/resources/bootstrap.properties), the issuer id is the domain URL
 * (application-default.properties:248 mosip.esignet.discovery.issuer-id=${mosip.esignet.domain.url}),
 * the authorization endpoint is the UI's /authorize at the host root (oidc-ui Authorize.js).
 */
const TOKEN_SERVICE = 'oidc-service-impl/src/main/java/io/mosip/esignet/services/TokenServiceImpl.java';
export const ESIGNET_SOURCES = { commit: '201264c86e98113762451f4a306163233fa79e24', TOKEN_SERVICE };

export interface StandinPerson {
  /** Partner-specific user token: eSignet's `sub` (TokenServiceImpl.java:134). */
  psut: string;
  /** What the identity system's KYC exchange releases (userinfo claims). */
  claims: Record<string, unknown>;
}

interface SigningKey {
  kid: string;
  privateKey: webcrypto.CryptoKey;
  jwk: Record<string, unknown>;
}

/** An RS256 key with the X.509 certificate eSignet's keymanager holds for it (getJwk reads the cert). */
async function newKey(kid: string, notAfter: Date): Promise<SigningKey> {
  x509.cryptoProvider.set(webcrypto as never);
  const alg = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${kid}`,
    keys,
    signingAlgorithm: alg,
    notBefore: new Date(notAfter.getTime() - 3 * 365 * 86_400_000),
    notAfter,
  });
  const pub = await exportJWK(keys.publicKey);
  const der = Buffer.from(cert.rawData);
  // OAuthServiceImpl.java:211-228 getJwk: kid, (alg when the cert names one: it does not), kty,
  // (use: none), exp (certificate expiry, epoch seconds), x5c, x5t#S256, e, n.
  const jwk = {
    kid,
    kty: 'RSA',
    exp: Math.floor(notAfter.getTime() / 1000),
    x5c: [der.toString('base64')],
    'x5t#S256': createHash('sha256').update(der).digest('base64url'),
    e: pub.e,
    n: pub.n,
  };
  return { kid, privateKey: keys.privateKey, jwk };
}

export interface EsignetStandin {
  /** Issuer id (the domain URL). */
  readonly issuer: string;
  readonly jwksUri: string;
  readonly userinfoEndpoint: string;
  /** Requests the stand-in served, by path (JWKS fetches are counted to show caching). */
  readonly hits: Map<string, number>;
  person: StandinPerson;
  /** Credential endpoint URL per credential scope (mosip.esignet.credential.scope-resource-mapping). */
  scopeResources: Record<string, string>;
  /** Encrypt userinfo to this public key (client userinfo_response_type JWE). */
  userinfoEncryptionKey?: JWK;
  /** Not eSignet: answer userinfo with this JSON text instead (a misbehaving server). */
  userinfoJson?: string;
  /** Answer 503 / drop connections on every path when set (the server is down). */
  down: boolean;
  /** Issues an access token as TokenServiceImpl.getAccessToken does, signed by the current key. */
  accessToken(options: {
    clientId: string;
    scopes: string[];
    cNonce?: string;
    dpopJkt?: string;
    /** Not eSignet: a confirmation claim as another server might bind its tokens (RFC 8705). */
    cnf?: Record<string, unknown>;
    iat?: number;
    lifetimeSeconds?: number;
  }): Promise<string>;
  /** New OIDC_SERVICE key (keymanager key policy rotation); the old one stays in the JWKS when `keepOld`. */
  rotate(keepOld: boolean): Promise<void>;
  stop(): Promise<void>;
}

export async function startEsignetStandin(options: {
  now: () => number;
  person: StandinPerson;
  scopeResources?: Record<string, string>;
}): Promise<EsignetStandin> {
  const far = new Date(options.now() + 2 * 365 * 86_400_000);
  let serviceKeys = [await newKey('oidc-service-1', far)];
  let generation = 1;
  // The identity system's KYC signing key: userinfo is usually signed by it and eSignet's JWKS
  // publishes it next to its own (OAuthServiceImpl.java:160-171 getAllKycSigningCertificates).
  const kycKey = await newKey('kyc-signing-1', far);
  const codes = new Map<
    string,
    { challenge: string; scopes: string[]; clientId: string; redirectUri: string }
  >();
  const hits = new Map<string, number>();
  let server: Server;
  const port = await new Promise<number>((resolve) => {
    server = createServer((req, res) => {
      handle(req, res).catch((error) => {
        res.writeHead(500).end(String(error));
      });
    }).listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
  const issuer = `http://127.0.0.1:${port}`;
  const base = `${issuer}/v1/esignet`;

  const sign = (payload: Record<string, unknown>, key: SigningKey) =>
    // TokenServiceImpl.java:262-273 getSignedJWT: keymanager jwsSign, RS256 over the JSON payload,
    // no certificate or cert hash in the header (setIncludeCertificate(false), setIncludeCertHash(false));
    // the header names the key by its id, as the JWKS does. No `typ` (not an RFC 9068 at+jwt).
    new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: key.kid }).sign(key.privateKey);

  const standin: EsignetStandin = {
    issuer,
    jwksUri: `${base}/oauth/.well-known/jwks.json`,
    userinfoEndpoint: `${base}/oidc/userinfo`,
    hits,
    person: options.person,
    scopeResources: options.scopeResources ?? {},
    down: false,
    async accessToken({ clientId, scopes, cNonce, dpopJkt, cnf, iat, lifetimeSeconds }) {
      // TokenServiceImpl.java:131-162 getAccessToken, claim by claim:
      const payload: Record<string, unknown> = {};
      payload.iss = issuer; // :133 issuerId (mosip.esignet.discovery.issuer-id, :72-73)
      payload.sub = standin.person.psut; // :134 the transaction's partner-specific user token
      payload.aud = clientId; // :135 the client id ...
      const issueTime = iat ?? Math.floor(options.now() / 1000);
      payload.iat = issueTime; // :136-137 epoch seconds
      payload.azp = clientId; // :138
      // :139 no jti ("TODO Need to discuss")
      if (scopes.length > 0) {
        payload.scope = scopes.join(' '); // :140-141 permitted scopes, space-joined
        // :142-149 ... replaced by the first permitted credential scope's resource
        // (mosip.esignet.credential.scope-resource-mapping, :81-82), default "".
        const credentialScope = scopes.find((s) => s in standin.scopeResources);
        if (credentialScope) payload.aud = standin.scopeResources[credentialScope];
      }
      payload.exp = issueTime + (lifetimeSeconds ?? 3600); // :151 (access-token-expire-seconds, properties:11)
      payload.client_id = clientId; // :152
      if (cNonce) {
        payload.c_nonce = cNonce; // :154-155
        payload.c_nonce_expires_in = 60; // :156 cNonceExpireSeconds (:78-79, default 60)
      }
      if (dpopJkt) payload.cnf = { jkt: dpopJkt }; // :158-159
      if (cnf) payload.cnf = cnf;
      return sign(payload, serviceKeys.at(-1)!);
    },
    async rotate(keepOld) {
      generation += 1;
      const next = await newKey(`oidc-service-${generation}`, far);
      serviceKeys = keepOld ? [...serviceKeys, next] : [next];
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url!, issuer);
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    if (standin.down) {
      req.socket.destroy();
      return;
    }
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/.well-known/oauth-authorization-server') {
      // OAuthController.java:94 (mosip.esignet.oauth.key-values, application-default.properties:256).
      return json(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${base}/oauth/v2/token`,
        jwks_uri: standin.jwksUri,
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
      });
    }
    if (url.pathname === '/v1/esignet/oauth/.well-known/jwks.json') {
      // OAuthServiceImpl.java:149-178 getJwks: every OIDC_SERVICE certificate, then the KYC certs.
      return json(200, { keys: [...serviceKeys.map((k) => k.jwk), kycKey.jwk] });
    }
    if (url.pathname === '/authorize') {
      // The person logs in at eSignet's UI (not replayed) and consents; the UI redirects with code,
      // state and iss (oidc-ui Consent.js).
      const q = url.searchParams;
      const code = randomBytes(32).toString('base64url');
      codes.set(code, {
        challenge: q.get('code_challenge') ?? '',
        scopes: (q.get('scope') ?? '').split(' ').filter(Boolean),
        clientId: q.get('client_id') ?? '',
        redirectUri: q.get('redirect_uri') ?? '',
      });
      const to = new URL(q.get('redirect_uri')!);
      to.searchParams.set('code', code);
      if (q.get('state')) to.searchParams.set('state', q.get('state')!);
      to.searchParams.set('iss', issuer);
      res.writeHead(302, { location: to.href }).end();
      return;
    }
    if (url.pathname === '/v1/esignet/oauth/v2/token' && req.method === 'POST') {
      const form = new URLSearchParams(await body(req));
      const grant = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (!grant || createHash('sha256').update(verifier).digest('base64url') !== grant.challenge)
        return json(400, { error: 'invalid_grant' });
      // Client authentication: eSignet takes private_key_jwt only; the wallet library here is a
      // public client, which this stand-in accepts (the token, not client auth, is under test).
      // OAuthServiceImpl.java:271 c_nonce = generateSecureRandomString(20) for VC-scoped transactions.
      const cNonce = randomBytes(15).toString('base64url');
      const accessToken = await standin.accessToken({
        clientId: grant.clientId,
        scopes: grant.scopes,
        cNonce,
      });
      // OAuthServiceImpl.java:269-287 getTokenResponse: access_token, expires_in, token_type Bearer,
      // c_nonce and c_nonce_expires_in (OAuthServiceImpl.java:85-86, default 300); no id_token.
      return json(200, {
        access_token: accessToken,
        expires_in: 3600,
        token_type: 'Bearer',
        c_nonce: cNonce,
        c_nonce_expires_in: 300,
      });
    }
    if (url.pathname === '/v1/esignet/oidc/userinfo') {
      // OpenIdConnectController.java:33 produces application/jwt; OpenIdConnectServiceImpl.java:47-63
      // finds the transaction by the token; UserInfoResponseHelper.java:55-76: the identity system's
      // signed KYC JWT, encrypted to the client's key when its userinfo_response_type is JWE.
      const token = /^(?:Bearer|DPoP) (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!token) return json(401, { error: 'invalid_token' });
      if (standin.userinfoJson !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(standin.userinfoJson);
        return;
      }
      const now = Math.floor(options.now() / 1000);
      let jwt = await sign(
        { sub: standin.person.psut, iss: issuer, aud: 'wallet', iat: now, ...standin.person.claims },
        kycKey,
      );
      if (standin.userinfoEncryptionKey) {
        jwt = await new CompactEncrypt(new TextEncoder().encode(jwt))
          .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT' })
          .encrypt(standin.userinfoEncryptionKey);
      }
      res.writeHead(200, { 'content-type': 'application/jwt' }).end(jwt);
      return;
    }
    json(404, { error: 'not_found' });
  }
  return standin;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
