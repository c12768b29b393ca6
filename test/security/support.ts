import { request } from 'undici';
import type { TestApp } from '../helpers/app.ts';
import {
  admin,
  IDENTITY,
  obtainCode,
  redeem,
  registerClient,
  type TestClient,
} from '../protocol/oidc/helpers.ts';
import { holderKey, proofJwt, startVci, type VciHarness } from '../protocol/vci/harness.ts';

/**
 * Pieces shared by the cross-cutting security tests (SECURITY.md rows 13, 21, 22, 26, 62). Flows are
 * driven with the feature teams' helpers (test/protocol/oidc/helpers.ts, test/protocol/vci/harness.ts);
 * this file only composes them into one started app that has everything a test may want to poke at.
 */

export const PRE_AUTH = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';
export const CONFIGURATION = 'AgeCredential_ldp_vc';

export interface Fixture {
  h: VciHarness;
  app: TestApp;
  client: TestClient;
  /** An access token from the authorization code flow (userinfo works with it). */
  oidcAccessToken: string;
  /** An access token from a redeemed pre-authorized code (the credential endpoint works with it). */
  vciAccessToken: string;
  /** A credential_offer_uri not fetched yet. */
  offerUri: string;
  /** The status list URLs referenced by an issued credential. */
  statusLists: string[];
  notificationId: string;
}

/**
 * One app with the OIDC test identity and a private_key_jwt client, a completed code flow, a
 * redeemed pre-authorized offer, one issued credential and one unfetched offer URI.
 */
export async function startFixture(overrides: Record<string, unknown> = {}): Promise<Fixture> {
  const h = await startVci({ overrides });
  const app = h.app;
  await admin(app, 'POST', '/identities', {
    individual_id: IDENTITY.individualId,
    pin: IDENTITY.pin,
    password: IDENTITY.password,
    claims: IDENTITY.claims,
  });
  const client = await registerClient(app);
  const { code, verifier } = await obtainCode(app, client);
  const token = await redeem(app, client, code, verifier);
  if (token.status !== 200) throw new Error(`code redemption failed: ${JSON.stringify(token.body)}`);

  const who = await h.person();
  const offer = await h.offer([CONFIGURATION], who.individualId, false);
  const preAuthorized = offer.credential_offer.grants[PRE_AUTH]['pre-authorized_code'];
  const vci = await h.token(preAuthorized);
  if (vci.status !== 200) throw new Error(`pre-authorized redemption failed: ${JSON.stringify(vci.body)}`);
  const key = await holderKey();
  const issued = await h.post(
    '/credential',
    {
      credential_configuration_id: CONFIGURATION,
      proofs: { jwt: [await proofJwt(key, h.url, await h.nonce())] },
    },
    { authorization: `Bearer ${vci.body.access_token}` },
  );
  if (issued.status !== 200) throw new Error(`issuance failed: ${issued.text}`);
  const statusLists = [
    ...new Set(
      JSON.stringify(issued.body)
        .match(/"statusListCredential":"([^"]+)"/g)
        ?.map((m) => JSON.parse(m.slice(m.indexOf(':') + 1)) as string) ?? [],
    ),
  ];
  const unfetched = await h.offer([CONFIGURATION], who.individualId, false);
  return {
    h,
    app,
    client,
    oidcAccessToken: token.body.access_token,
    vciAccessToken: vci.body.access_token,
    offerUri: unfetched.credential_offer_uri,
    statusLists,
    notificationId: issued.body.notification_id,
  };
}

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  ms: number;
}

/** One request with nothing added: any method, any headers, a raw body; redirects not followed. */
export async function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawReply> {
  const started = performance.now();
  const response = await request(url, {
    method: (options.method ?? 'GET') as 'GET',
    headers: options.headers,
    body: options.body,
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text, ms: performance.now() - started };
}

export const header = (
  reply: { headers: Record<string, string | string[] | undefined> },
  name: string,
): string => [reply.headers[name.toLowerCase()] ?? []].flat().join(', ');
