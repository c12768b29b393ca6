import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import {
  AccessTokenClient,
  CredentialOfferClientV1_0_13,
  CredentialRequestClientBuilderV1_0_13,
  MetadataClientV1_0_13,
  ProofOfPossessionBuilder,
} from 'sphereon-oid4vci-client-draft13';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holderKey, startVci, type VciHarness } from '../protocol/vci/harness.ts';
import { verifyJwtVc, verifyLdpVc } from './verifiers.ts';

/**
 * @sphereon/oid4vci-client 0.16.0 (installed as `sphereon-oid4vci-client-draft13`), the last release
 * whose client speaks OpenID4VCI draft 13: offer parsing, metadata discovery, pre-authorized code
 * token request with the tx_code, then credential requests by `format` + `credential_definition` with
 * a single `jwt` proof built by its ProofOfPossessionBuilder. The credential requests go through a
 * small recording proxy so the test sees the bytes the wallet sent; the credentials are checked by
 * the independent verifiers (keys from the published did:web document / JWKS).
 */

// The client's own oid4vci-common (0.16.0), not the hoisted 0.20.1 one.
const common = createRequire(createRequire(import.meta.url).resolve('sphereon-oid4vci-client-draft13'))(
  '@sphereon/oid4vci-common',
) as { OpenId4VCIVersion: { VER_1_0_13: number } };
type Version = Parameters<CredentialRequestClientBuilderV1_0_13['withVersion']>[0];
const VER_1_0_13 = common.OpenId4VCIVersion.VER_1_0_13 as Version;

/** Forwards every request to `target` and keeps the JSON bodies it saw. */
async function recordingProxy(target: string) {
  const seen: { path: string; body: any }[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    seen.push({ path: req.url ?? '', body: raw ? JSON.parse(raw) : undefined });
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'content-type', 'accept', 'dpop']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const upstream = await request(`${target}${req.url}`, {
      method: req.method as 'POST',
      headers,
      ...(raw ? { body: raw } : {}),
    });
    const contentType = upstream.headers['content-type'];
    res.writeHead(
      upstream.statusCode,
      typeof contentType === 'string' ? { 'content-type': contentType } : {},
    );
    res.end(Buffer.from(await upstream.body.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The public JWK inside a did:jwk (the holder DID this issuer writes for a `jwk` proof). */
const jwkOfDid = (did: string): Record<string, string> => {
  expect(did).toMatch(/^did:jwk:/);
  return JSON.parse(Buffer.from(did.slice('did:jwk:'.length).split('#')[0]!, 'base64url').toString());
};

describe('@sphereon/oid4vci-client 0.16 wallet (draft 13), pre-authorized code flow', () => {
  let h: VciHarness;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  beforeAll(async () => {
    h = await startVci();
    proxy = await recordingProxy(h.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await h?.stop();
  });

  it('receives a verifiable ldp_vc and jwt_vc_json by format + credential_definition with a tx_code, answered in the draft-13 shape', async () => {
    const who = await h.person();
    const offer = await h.offer(
      ['AgeCredential_ldp_vc', 'NationalIdCredential_jwt_vc_json'],
      who.individualId,
      true,
    );
    const offerRequest = await CredentialOfferClientV1_0_13.fromURI(offer.credential_offer_url);
    expect(offerRequest.userPinRequired).toBe(true);
    const metadata = await MetadataClientV1_0_13.retrieveAllMetadataFromCredentialOffer(offerRequest);
    expect(metadata.credential_endpoint).toBe(`${h.url}/credential`);
    const supported = metadata.credentialIssuerMetadata?.credential_configurations_supported as Record<
      string,
      any
    >;

    // Draft 13 §6.1: the client sends the code as `tx_code` (0.16 also adds the older `user_pin`).
    const tokenResponse = await new AccessTokenClient().acquireAccessToken({
      credentialOffer: offerRequest,
      metadata,
      pin: await h.txCode(who.email),
    });
    expect(tokenResponse.errorBody, JSON.stringify(tokenResponse.errorBody)).toBeUndefined();
    const token = tokenResponse.successBody!;
    expect(token.access_token).toEqual(expect.any(String));

    const key = await holderKey('ES256');
    const client = CredentialRequestClientBuilderV1_0_13.fromCredentialOfferRequest({
      request: offerRequest,
      metadata,
      version: VER_1_0_13,
    })
      .withCredentialEndpoint(`${proxy.url}/credential`)
      .withTokenFromResponse(token)
      .withVersion(VER_1_0_13)
      .build();
    const proof = (nonce: string | undefined) => {
      const builder = ProofOfPossessionBuilder.manual({
        version: VER_1_0_13,
        mode: 'pop',
        callbacks: {
          signCallback: async (jwt) =>
            new SignJWT(jwt.payload as Record<string, unknown>)
              .setProtectedHeader(jwt.header as { alg: string })
              .sign(key.privateKey),
        },
      })
        .withJWK(key.jwk as never)
        .withAlg('ES256')
        .withIssuer(h.url);
      return nonce ? builder.withAccessTokenNonce(nonce) : builder;
    };

    // The server's c_nonce: from the token response, or from a draft-13 invalid_proof answer
    // (§7.3.2) when a wallet's nonce went stale, as a draft-13 wallet would get it.
    let cNonce: string | undefined = token.c_nonce;
    const ldpContext = supported.AgeCredential_ldp_vc.credential_definition['@context'];
    const ask = async (format: 'ldp_vc' | 'jwt_vc_json', types: string[]) => {
      const input = {
        format,
        credentialTypes: types,
        ...(format === 'ldp_vc' ? { context: ldpContext } : {}),
      };
      let res = await client.acquireCredentialsUsingProof({ ...input, proofInput: proof(cNonce) });
      const error = res.errorBody as { error?: string; c_nonce?: string } | undefined;
      if (error?.error === 'invalid_proof' && error.c_nonce) {
        cNonce = error.c_nonce;
        res = await client.acquireCredentialsUsingProof({ ...input, proofInput: proof(cNonce) });
      }
      expect(res.errorBody, JSON.stringify(res.errorBody)).toBeUndefined();
      const body = res.successBody! as Record<string, any>;
      // Draft 13 §7.3: one `credential` at the top level and a fresh c_nonce, no 1.0 `credentials`.
      expect(body.credential).toBeDefined();
      expect(body.credentials).toBeUndefined();
      expect(body.c_nonce).toEqual(expect.any(String));
      expect(body.c_nonce_expires_in).toEqual(expect.any(Number));
      cNonce = body.c_nonce;
      return body.credential;
    };

    const ldp = await ask('ldp_vc', ['VerifiableCredential', 'AgeCredential']);
    const jwtVc = await ask('jwt_vc_json', ['VerifiableCredential', 'NationalIdCredential']);

    // On the wire: draft-13 requests, never a 1.0 `credential_configuration_id` or `proofs`.
    const sent = proxy.seen.filter((r) => r.path === '/credential').map((r) => r.body);
    // The token response carries the first c_nonce (draft 13 §6.2), so no request is retried.
    expect(token.c_nonce).toEqual(expect.any(String));
    expect(sent).toHaveLength(2);
    expect(decodeJwt(sent[0].proof.jwt).nonce).toBe(token.c_nonce);
    for (const body of sent) {
      expect(body).not.toHaveProperty('credential_configuration_id');
      expect(body).not.toHaveProperty('credential_identifier');
      expect(body).not.toHaveProperty('proofs');
      expect(body.proof.proof_type).toBe('jwt');
      expect(decodeProtectedHeader(body.proof.jwt)).toMatchObject({
        typ: 'openid4vci-proof+jwt',
        alg: 'ES256',
        jwk: { kty: 'EC', x: key.jwk.x },
      });
      expect(decodeJwt(body.proof.jwt).aud).toBe(h.url);
    }
    const accepted = sent.slice(-2);
    expect(accepted[0]).toMatchObject({
      format: 'ldp_vc',
      credential_definition: { type: ['VerifiableCredential', 'AgeCredential'], '@context': ldpContext },
    });
    expect(accepted[1]).toMatchObject({
      format: 'jwt_vc_json',
      credential_definition: { type: ['VerifiableCredential', 'NationalIdCredential'] },
    });
    // The jwt_vc_json proof carries the c_nonce the ldp_vc response handed out.
    expect(decodeJwt(accepted[1].proof.jwt).nonce).toEqual(expect.any(String));
    expect(decodeJwt(accepted[1].proof.jwt).nonce).not.toBe(decodeJwt(accepted[0].proof.jwt).nonce);

    expect(ldp.credentialSubject.ageOver18).toBe(true);
    expect(await verifyLdpVc(ldp, h.url, new Date(h.app.clock.now()))).toMatchObject({
      verified: true,
      revoked: false,
    });

    expect(typeof jwtVc).toBe('string');
    const { payload } = await verifyJwtVc(jwtVc, h.url, new Date(h.app.clock.now()));
    expect((payload.vc as any).credentialSubject.familyName).toBe('Mansour');
    // Both credentials are bound to the key that signed the proofs.
    expect(jwkOfDid(String(payload.sub)).x).toBe(key.jwk.x);
    expect(jwkOfDid(ldp.credentialSubject.id).x).toBe(key.jwk.x);
  });
});
