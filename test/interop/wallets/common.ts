import { createHash, randomUUID } from 'node:crypto';
import { parseIssuerSigned } from '@animo-id/mdoc';
import { calculateJwkThumbprint, decodeJwt, type JWK, SignJWT } from 'jose';
import { expect } from 'vitest';
import { http } from '../../helpers/http.ts';
import { Browser } from '../../protocol/oidc/helpers.ts';
import type { HolderKey, VciHarness } from '../../protocol/vci/harness.ts';
import { verifyJwtVc } from '../verifiers.ts';

/**
 * Pieces the wallet replays share: raw HTTP as a wallet sends it, a DPoP key, a person's login
 * through the JSON interaction API (the browser step every wallet hands to a browser), and the
 * checks a wallet's storage layer runs on what it received (SD-JWT VC and mdoc bound to its key).
 */

/** A wallet's HTTP call: a POST when it has a body (test/helpers/http.ts underneath). */
export const send = (
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
) => http(url, { ...init, method: init.method ?? (init.body === undefined ? 'GET' : 'POST') });

export const form = (params: Record<string, string | undefined>): string => {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) out.append(k, v);
  return out.toString();
};

/** A DPoP proof (RFC 9449 §4.2): typ dpop+jwt, the public jwk, jti/htm/htu/iat and ath/nonce when given. */
export function dpopProof(
  key: HolderKey,
  now: number,
  htm: string,
  htu: string,
  accessToken?: string,
  nonce?: string,
): Promise<string> {
  return new SignJWT({
    jti: randomUUID(),
    htm,
    htu,
    iat: Math.floor(now / 1000),
    ...(accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}),
    ...(nonce ? { nonce } : {}),
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk })
    .sign(key.privateKey);
}

/**
 * The person's part at the authorization endpoint, as the wallet's browser tab does it: follow the
 * authorization URL, log in with the PIN through the interaction API, consent to what is asked,
 * follow back to the wallet's redirect URI. Returns that redirect URL.
 */
export async function loginInBrowser(h: VciHarness, authorizationUrl: string, individualId: string) {
  const browser = new Browser(new URL(h.url).origin);
  const start = await browser.fetch(authorizationUrl);
  expect(start.location, `${start.status} ${start.text}`).toBeDefined();
  const interaction = start.location!;
  const details = (await browser.fetch(`${interaction}/api`)).json();
  const headers = { 'x-csrf-token': details.csrf_token as string, origin: new URL(h.url).origin };
  const auth = await browser.fetch(`${interaction}/api/authenticate`, {
    json: { individual_id: individualId, factor: 'pin', challenge: '135790' },
    headers,
  });
  expect(auth.status, auth.text).toBe(200);
  let to = auth.json().redirect_to as string | undefined;
  if (!to) {
    const body = auth.json();
    const consent = await browser.fetch(`${interaction}/api/consent`, {
      json: { accepted_claims: [...body.essential_claims, ...body.voluntary_claims] },
      headers,
    });
    expect(consent.status, consent.text).toBe(200);
    to = consent.json().redirect_to as string;
  }
  return new URL((await browser.follow(to)).url);
}

/** An SD-JWT VC as a wallet stores it: issuer signature from the published keys, vct, cnf bound to the holder key. */
export async function checkSdJwtVc(h: VciHarness, sdJwt: unknown, vct: string, holder: JWK) {
  expect(typeof sdJwt).toBe('string');
  const compact = sdJwt as string;
  expect(compact.endsWith('~')).toBe(true);
  const issuerJwt = compact.split('~')[0]!;
  const { payload } = await verifyJwtVc(issuerJwt, h.url, new Date(h.app.clock.now()));
  expect(payload.vct).toBe(vct);
  const cnf = (decodeJwt(issuerJwt).cnf as { jwk: JWK }).jwk;
  expect(await calculateJwkThumbprint(cnf)).toBe(await calculateJwkThumbprint(holder));
}

/** An mdoc (IssuerSigned, base64url) of this doctype whose device key is the holder's key. */
export function checkMdoc(credential: unknown, docType: string, holder: JWK) {
  expect(typeof credential).toBe('string');
  const document = parseIssuerSigned(Buffer.from(credential as string, 'base64url'), docType);
  expect(document.issuerSigned.issuerAuth.decodedPayload.docType).toBe(docType);
  // COSE_Key (RFC 9052 §7.1): -2 is x, -3 is y.
  const deviceKey = document.issuerSigned.issuerAuth.decodedPayload.deviceKeyInfo!.deviceKey;
  const coordinate = (label: number) => Buffer.from(deviceKey.get(label) as Uint8Array).toString('base64url');
  expect({ x: coordinate(-2), y: coordinate(-3) }).toEqual({ x: holder.x, y: holder.y });
}
