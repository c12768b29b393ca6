import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

/**
 * A generic external authorization server for the external-AS tests: a second oidc-provider 9
 * instance on 127.0.0.1 (not ours: its own issuer, keys, clients and store) that logs the test
 * person in programmatically and issues access tokens for our credential issuer as the resource
 * (RFC 8707 resource indicators): RFC 9068 JWT access tokens (`format: 'jwt'`, typ at+jwt, signed
 * by the key it publishes at /jwks) or opaque ones (`format: 'opaque'`) that only its RFC 7662
 * introspection endpoint can tell about. It reads the real clock (oidc-provider's epochTime).
 */
export interface ExternalOp {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly introspectionEndpoint: string;
  /** The resource server client our credential issuer introspects with (client_secret_basic). */
  readonly introspectionClient: { clientId: string; clientSecret: string };
  /** Requests served, by path. */
  readonly hits: Map<string, number>;
  /** Drop every connection when set (the server is down). */
  down: boolean;
  /**
   * Serves the provider for `resource` (our credential issuer identifier): `scopes` are the credential
   * scopes it grants there; the wallet client is public with PKCE and `redirectUri`.
   */
  attach(options: { resource: string; scopes: string[]; walletClientId: string; redirectUri: string }): void;
  /**
   * Follows an authorization request URL through the login and consent interactions (the test person
   * logs in, no browser) to the redirect with the code.
   */
  authorize(authorizationRequestUrl: string, redirectUri: string): Promise<URL>;
  /** RFC 7009 revocation by the wallet (a public client). */
  revoke(token: string, clientId: string): Promise<number>;
  stop(): Promise<void>;
}

export async function startExternalOp(options: {
  format: 'jwt' | 'opaque';
  /** The person's subject at this server (its account id) and extra token claims. */
  person: () => { accountId: string; claims?: Record<string, unknown> };
}): Promise<ExternalOp> {
  const hits = new Map<string, number>();
  let provider: any;
  let server: Server;
  const port = await new Promise<number>((resolve) => {
    server = createServer((req, res) => {
      handle(req, res).catch((error) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
    }).listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingJwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig' };
  const introspectionClient = {
    clientId: 'credential-issuer',
    clientSecret: randomBytes(24).toString('base64url'),
  };
  const state = { down: false };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url!, issuer).pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (op.down) {
      req.socket.destroy();
      return;
    }
    if (!provider) {
      res.writeHead(503).end();
      return;
    }
    if (path.startsWith('/interaction/')) return interaction(req, res);
    provider.callback()(req, res);
  }

  /** The login and consent prompts answered in code: the person is logged in and grants what was asked. */
  async function interaction(req: IncomingMessage, res: ServerResponse) {
    const details = await provider.interactionDetails(req, res);
    const { accountId } = options.person();
    const params = details.params as Record<string, string>;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: params.client_id });
    const scope = String(params.scope ?? '');
    for (const resource of [params.resource].flat().filter(Boolean)) grant.addResourceScope(resource, scope);
    if (scope.split(' ').includes('openid')) grant.addOIDCScope('openid');
    const grantId = await grant.save();
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }

  const op: ExternalOp = {
    issuer,
    jwksUri: `${issuer}/jwks`,
    introspectionEndpoint: `${issuer}/token/introspection`,
    introspectionClient,
    hits,
    get down() {
      return state.down;
    },
    set down(value) {
      state.down = value;
    },
    attach({ resource, scopes, walletClientId, redirectUri }) {
      provider = new Provider(issuer, {
        clients: [
          {
            client_id: walletClientId,
            token_endpoint_auth_method: 'none',
            redirect_uris: [redirectUri],
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
          {
            client_id: introspectionClient.clientId,
            client_secret: introspectionClient.clientSecret,
            token_endpoint_auth_method: 'client_secret_basic',
            redirect_uris: [],
            grant_types: [],
            response_types: [],
          },
        ],
        jwks: { keys: [signingJwk] },
        cookies: { keys: [randomBytes(32).toString('base64url')] },
        scopes: ['openid'],
        pkce: { required: () => true },
        findAccount: async (_ctx: unknown, id: string) => ({
          accountId: id,
          claims: async () => ({ sub: id }),
        }),
        interactions: {
          url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
        },
        extraTokenClaims: async () => options.person().claims,
        features: {
          devInteractions: { enabled: false },
          introspection: {
            enabled: true,
            // Only the resource server (our credential issuer) learns about tokens.
            allowedPolicy: async (_ctx: unknown, client: { clientId: string }) =>
              client.clientId === introspectionClient.clientId,
          },
          revocation: { enabled: true },
          resourceIndicators: {
            enabled: true,
            defaultResource: async () => resource,
            useGrantedResource: async () => true,
            getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
              if (indicator !== resource) throw new Error(`unknown resource ${indicator}`);
              return {
                scope: scopes.join(' '),
                audience: resource,
                accessTokenTTL: 600,
                accessTokenFormat: options.format,
                ...(options.format === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}),
              };
            },
          },
        },
      });
    },
    async authorize(authorizationRequestUrl, redirectUri) {
      // A browser's cookie jar, reduced to what the provider sets on this host.
      const jar = new Map<string, string>();
      let next = authorizationRequestUrl;
      for (let hop = 0; hop < 10; hop++) {
        if (next.startsWith(redirectUri)) return new URL(next);
        const res = await fetch(next, {
          redirect: 'manual',
          headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
        });
        for (const line of res.headers.getSetCookie()) {
          const [pair] = line.split(';');
          const at = pair!.indexOf('=');
          jar.set(pair!.slice(0, at), pair!.slice(at + 1));
        }
        const location = res.headers.get('location');
        if (!location) throw new Error(`authorization stopped at ${next}: ${res.status} ${await res.text()}`);
        next = new URL(location, next).href;
      }
      throw new Error('too many redirects');
    },
    async revoke(token, clientId) {
      const res = await fetch(`${issuer}/token/revocation`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, client_id: clientId, token_type_hint: 'access_token' }),
      });
      return res.status;
    },
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return op;
}
