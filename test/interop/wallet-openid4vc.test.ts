import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newWalletKey, receiveFromOffer } from '../../scripts/demo-wallet.ts';
import { startVci, type VciHarness } from '../protocol/vci/harness.ts';
import { verifyJwtVc, verifyLdpVc } from './verifiers.ts';

/**
 * @openid4vc/openid4vci (OpenID4VCI 1.0 wallet) end to end against the whole service: offer by
 * reference, issuer and authorization server metadata, anonymous pre-authorized code token request
 * with tx_code, nonce endpoint, batch credential request; every credential then verified by an
 * independent verifier that resolves the issuer key over HTTP.
 */
describe('@openid4vc/openid4vci wallet (1.0), pre-authorized code flow', () => {
  let h: VciHarness;
  beforeAll(async () => {
    h = await startVci();
  });
  afterAll(() => h.stop());

  it('receives a batch of ldp_vc credentials with a tx_code, each bound to its own key and verifiable', async () => {
    const who = await h.person();
    const offer = await h.offer(['NationalIdCredential_ldp_vc'], who.individualId, true);
    const keys = [await newWalletKey('ES256'), await newWalletKey('ES256'), await newWalletKey('EdDSA')];
    const result = await receiveFromOffer({
      offerUrl: offer.credential_offer_uri_url,
      txCode: await h.txCode(who.email),
      keys,
    });
    expect(result.credentials).toHaveLength(3);
    const subjects = new Set<string>();
    for (const vc of result.credentials as Record<string, any>[]) {
      expect(vc.credentialSubject.givenName).toBe('Layla');
      subjects.add(vc.credentialSubject.id);
      expect(await verifyLdpVc(vc, h.url, new Date(h.app.clock.now()))).toMatchObject({
        verified: true,
        revoked: false,
      });
    }
    expect(subjects.size).toBe(3);
    expect(result.notificationId).toEqual(expect.any(String));
  });

  it('receives a jwt_vc_json credential from an offer by value, verified against the published JWKS', async () => {
    const configs = (await (await fetch(`${h.url}/.well-known/openid-credential-issuer`)).json()) as any;
    // Shipped in credential-configurations/national-id.json: a missing one is a failure, not a pass.
    expect(Object.keys(configs.credential_configurations_supported)).toContain(
      'NationalIdCredential_jwt_vc_json',
    );
    const who = await h.person();
    const offer = await h.offer(['NationalIdCredential_jwt_vc_json'], who.individualId, false);
    const key = await newWalletKey('ES256');
    const result = await receiveFromOffer({ offerUrl: offer.credential_offer_url, keys: [key] });
    const jwt = result.credentials[0] as string;
    const { payload } = await verifyJwtVc(jwt, h.url, new Date(h.app.clock.now()));
    expect((payload.vc as any).credentialSubject.familyName).toBe('Mansour');
    const claims = decodeJwt(jwt);
    // SECURITY.md row 36: the VC-JWT carries nbf (rounded to the hour) and no iat at all.
    expect(claims.nbf! % 3600).toBe(0);
    expect(claims.iat).toBeUndefined();
  });
});
