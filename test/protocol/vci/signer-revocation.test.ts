import { parseIssuerSigned } from '@animo-id/mdoc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as x509 from '../../../src/credentials/x509/x509.ts';
import { holderKey, preAuthorizedCode, proofJwt, startVci, type VciHarness } from './harness.ts';

const MDOC = 'NationalIdCredential_mso_mdoc';
const DOCTYPE = 'org.example.national_id.1';

/**
 * Revoking the signer certificates of a rotated-out credential key: the IACA's CRL lists the
 * document signer certificate carried by the credentials that key signed, with the reason, and
 * keeps listing it; the new key's certificate stays valid.
 */
describe('signer certificate revocation (CRL entries)', () => {
  let h: VciHarness;
  let token: string;
  beforeAll(async () => {
    h = await startVci();
    const who = await h.person();
    token = (await h.token(preAuthorizedCode(await h.offer([MDOC], who.individualId)))).body.access_token;
  });
  afterAll(() => h.stop());

  /** Issues an mdoc and returns the document signer certificate from its issuerAuth x5chain. */
  async function issuedSigner(): Promise<x509.X509Certificate> {
    const key = await holderKey('ES256');
    const proof = await proofJwt(key, h.url, await h.nonce(), { iat: Math.floor(h.app.clock.now() / 1000) });
    const res = await h.post(
      '/credential',
      { credential_configuration_id: MDOC, proofs: { jwt: [proof] } },
      { authorization: `Bearer ${token}` },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const issuerSigned = parseIssuerSigned(
      Buffer.from(res.body.credentials[0].credential, 'base64url'),
      DOCTYPE,
    );
    return new x509.X509Certificate(issuerSigned.issuerSigned.issuerAuth.certificate);
  }

  async function fetchCrl(): Promise<x509.X509Crl> {
    const res = await fetch(`${h.url}/.well-known/iaca.crl`);
    expect(res.status).toBe(200);
    const crl = new x509.X509Crl(await res.arrayBuffer());
    const iaca = new x509.X509Certificate(await (await fetch(`${h.url}/.well-known/iaca.pem`)).text());
    expect(await crl.verify({ publicKey: await iaca.publicKey.export() })).toBe(true);
    return crl;
  }

  const crlNumber = (crl: x509.X509Crl): bigint =>
    BigInt(`0x${Buffer.from(crl.getExtension('2.5.29.20')!.value).subarray(2).toString('hex')}`);

  it('refuses the active key, names the reasons, lists a rotated key’s signer in the CRL and keeps it', async () => {
    const oldSigner = await issuedSigner();
    const keys = (await h.admin('GET', '/keys')).body.keys as {
      kid: string;
      alg: string;
      purpose: string;
      status: string;
    }[];
    const active = keys.find(
      (k) => k.purpose === 'credential' && k.alg === 'ES256' && k.status === 'active',
    )!;
    const before = await fetchCrl();
    expect(before.entries).toEqual([]);

    const refused = await h.admin('POST', `/keys/${active.kid}/revoke-certificates`, {
      reason: 'keyCompromise',
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('conflict');

    expect((await h.admin('POST', '/keys/rotate?purpose=credential')).status).toBe(201);
    const badReason = await h.admin('POST', `/keys/${active.kid}/revoke-certificates`, {
      reason: 'cACompromise',
    });
    expect(badReason.status).toBe(400);
    expect(badReason.body.error).toBe('invalid_request');
    const unknown = await h.admin('POST', '/keys/no-such-kid/revoke-certificates', {});
    expect(unknown.status).toBe(404);

    h.app.clock.advanceSeconds(5);
    const revoked = await h.admin('POST', `/keys/${active.kid}/revoke-certificates`, {
      reason: 'keyCompromise',
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked).toEqual([
      {
        profile: 'mdoc',
        serial_number: oldSigner.serialNumber,
        revoked_at: new Date(h.app.clock.now()).toISOString(),
        reason: 'keyCompromise',
      },
    ]);
    expect(revoked.body.crl).toBe(`${h.url}/.well-known/iaca.crl`);

    const after = await fetchCrl();
    expect(crlNumber(after)).toBeGreaterThan(crlNumber(before));
    expect(after.entries.map((e) => e.serialNumber)).toEqual([oldSigner.serialNumber]);
    const entry = after.findRevoked(oldSigner)!;
    expect(entry.reason).toBe(x509.X509CrlReason.keyCompromise);
    expect(entry.revocationDate.getTime()).toBe(Math.floor(h.app.clock.now() / 1000) * 1000);

    // The new key signs with a certificate the CRL does not list.
    const newSigner = await issuedSigner();
    expect(newSigner.serialNumber).not.toBe(oldSigner.serialNumber);
    expect((await fetchCrl()).findRevoked(newSigner)).toBeNull();

    // Revoking again keeps the first revocation (date and reason).
    h.app.clock.advanceSeconds(60);
    const again = await h.admin('POST', `/keys/${active.kid}/revoke-certificates`, {
      reason: 'superseded',
    });
    expect(again.status).toBe(200);
    expect(again.body.revoked[0]).toEqual(revoked.body.revoked[0]);
    expect((await fetchCrl()).findRevoked(oldSigner)!.reason).toBe(x509.X509CrlReason.keyCompromise);

    const audit = await h.admin('GET', '/audit?type=signer_certificates_revoked');
    expect(audit.body.records).toContainEqual(
      expect.objectContaining({
        type: 'signer_certificates_revoked',
        kid: active.kid,
        reason: 'keyCompromise',
        count: 1,
      }),
    );
  });
});
