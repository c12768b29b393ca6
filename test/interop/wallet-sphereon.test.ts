import { OpenID4VCIClient } from '@sphereon/oid4vci-client';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVci, type VciHarness } from '../protocol/vci/harness.ts';
import { verifyLdpVc } from './verifiers.ts';

/**
 * @sphereon/oid4vci-client 0.20.1 (with the ssi-types override): its client speaks draft 15, a
 * pre-1.0 shape: `credential_configuration_id` with a single `proof` (not `proofs`), `pin` for the
 * tx_code, c_nonce from the nonce endpoint. 0.20.1 no longer ships the draft-13 client: the draft-13
 * `format` + `credential_definition` request is driven by the real 0.16.0 client in
 * wallet-sphereon-draft13.test.ts (and over raw HTTP in test/protocol/vci/credential-endpoint.test.ts).
 */
describe('@sphereon/oid4vci-client wallet, pre-authorized code flow', () => {
  let h: VciHarness;
  beforeAll(async () => {
    h = await startVci();
  });
  afterAll(() => h.stop());

  it('receives a verifiable ldp_vc with a single proof and a tx_code (draft 15 shape)', async () => {
    const who = await h.person();
    const offer = await h.offer(['AgeCredential_ldp_vc'], who.individualId, true);
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const client = await OpenID4VCIClient.fromURI({
      uri: offer.credential_offer_url,
      alg: 'ES256',
      retrieveServerMetadata: true,
    });
    const token = await client.acquireAccessToken({ pin: await h.txCode(who.email) });
    expect(token.access_token).toEqual(expect.any(String));
    const response = await client.acquireCredentials({
      credentialTypes: ['VerifiableCredential', 'AgeCredential'],
      format: 'ldp_vc',
      jwk,
      alg: 'ES256',
      proofCallbacks: {
        signCallback: async (jwt) =>
          new SignJWT(jwt.payload as Record<string, unknown>)
            .setProtectedHeader({ ...(jwt.header as { alg: string }), jwk })
            .sign(privateKey),
      },
    });
    const r = response as unknown as {
      credential?: Record<string, any>;
      credentials?: { credential: Record<string, any> }[];
    };
    const vc = r.credential ?? r.credentials?.[0]?.credential;
    expect(vc?.credentialSubject.ageOver18).toBe(true);
    expect(await verifyLdpVc(vc!, h.url, new Date(h.app.clock.now()))).toMatchObject({ verified: true });
  });
});
