import { createHash, generateKeyPairSync } from 'node:crypto';
import { DeviceResponse, MDLError, parse, Verifier } from '@auth0/mdl';
import { cborDecode, cborEncode, DataItem } from '@auth0/mdl/lib/cbor/index.js';
import type { VerificationAssessment } from '@auth0/mdl/lib/mdoc/checkCallback.js';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CredentialFormat, IssueRequest } from '../../src/credentials/formats/types.ts';
import { createIssuerCa, type IssuerCa } from '../../src/credentials/x509/issuer-ca.ts';
import { type CredentialDeps, credentialDeps, mdocIssuer, START } from '../helpers/credential-deps.ts';
import { mdlRequest } from '../helpers/mdoc-context.ts';

/**
 * A second, independent mdoc verifier for our `mso_mdoc` credentials: @auth0/mdl (its own CBOR,
 * COSE (cose-kit) and X.509 path validation (pkijs)), next to the @animo-id/mdoc checks in
 * mdoc.test.ts. The test plays the wallet with @auth0/mdl's DeviceResponse builder, then the
 * relying party with its Verifier and the IACA PEM as the only trusted root.
 */

const device = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const devicePublic = device.publicKey.export({ format: 'jwk' }) as JWK;
const devicePrivate = device.privateKey.export({ format: 'jwk' }) as JWK;
const DOCTYPE = 'org.iso.18013.5.1.mDL';
const NAMESPACE = 'org.iso.18013.5.1';
const hour = START - (START % 3_600_000);

const CLAIMS = {
  family_name: 'Jones',
  given_name: 'Ava',
  birth_date: '2007-03-25',
  issuing_country: 'UT',
  age_over_18: true,
};
/** What the relying party asks for: everything but given_name (selective disclosure). */
const REQUESTED = ['family_name', 'birth_date', 'issuing_country', 'age_over_18'];

const request = (): IssueRequest => ({
  profile: { configurationId: 'mDL', types: [], contexts: [], doctype: DOCTYPE, namespace: NAMESPACE },
  claims: CLAIMS,
  holder: { jwk: devicePublic },
  status: [{ kind: 'token', uri: 'https://issuer.example/status/token/abcdefghijklmnop', idx: 7 }],
  validFrom: new Date(hour),
  validUntil: new Date(hour + 365 * 86_400_000),
});

/**
 * OpenID4VP 1.0 Appendix B.2.6.1 SessionTranscript, as `#6.24(bstr .cbor SessionTranscript)` (the
 * form both the builder and the Verifier of @auth0/mdl take):
 * `[null, null, ["OpenID4VPHandover", sha256(cbor([client_id, nonce, null, response_uri]))]]`.
 * Built explicitly because the library's `usingSessionTranscriptForOID4VP` implements the older
 * ISO 18013-7 draft handover.
 */
function sessionTranscript(nonce: string): Uint8Array {
  const info = cborEncode(['x509_san_dns:verifier.example', nonce, null, 'https://verifier.example/cb']);
  const handover = ['OpenID4VPHandover', createHash('sha256').update(info).digest()];
  return cborEncode(DataItem.fromData([null, null, handover]));
}

/** CBOR text string header + UTF-8 (all strings here are shorter than 256 bytes). */
const tstr = (text: string): Buffer => {
  const bytes = Buffer.from(text, 'utf8');
  const head = bytes.length < 24 ? [0x60 + bytes.length] : [0x78, bytes.length];
  return Buffer.concat([Buffer.from(head), bytes]);
};

/**
 * Our credential is the OpenID4VCI `mso_mdoc` form: the bare CBOR IssuerSigned. @auth0/mdl only
 * parses a DeviceResponse-shaped mdoc, `{version, documents: [{docType, issuerSigned}], status}`
 * (what a wallet holds after ISO 18013-5 issuance), so the IssuerSigned bytes are spliced,
 * unchanged, into that envelope and handed to the library's own `parse`.
 */
function wrapIssuerSigned(issuerSigned: Uint8Array) {
  const envelope = Buffer.concat([
    Buffer.from([0xa3]), // map(3)
    tstr('version'),
    tstr('1.0'),
    tstr('documents'),
    Buffer.from([0x81, 0xa2]), // array(1), map(2)
    tstr('docType'),
    tstr(DOCTYPE),
    tstr('issuerSigned'),
    Buffer.from(issuerSigned),
    tstr('status'),
    Buffer.from([0x00]),
  ]);
  return parse(envelope);
}

/** The wallet: a DeviceResponse disclosing REQUESTED, device-signed (ES256) over the transcript. */
async function present(issuerSigned: Uint8Array, transcript: Uint8Array): Promise<Uint8Array> {
  const response = await DeviceResponse.from(wrapIssuerSigned(issuerSigned))
    .usingPresentationDefinition(mdlRequest(REQUESTED))
    .usingSessionTranscriptBytes(Buffer.from(transcript))
    .authenticateWithSignature(devicePrivate, 'ES256')
    .sign();
  return response.encode();
}

/** Runs every check of the Verifier without stopping at the first failure. */
async function assess(rootPem: string, presentation: Uint8Array, transcript: Uint8Array) {
  const checks: VerificationAssessment[] = [];
  await new Verifier([rootPem]).verify(presentation, {
    encodedSessionTranscript: transcript,
    onCheck: (check) => checks.push(check),
  });
  const failed = checks.filter((check) => check.status !== 'PASSED');
  return {
    checks,
    failed: failed.map((check) => ({ id: check.id, check: check.check, reason: check.reason })),
  };
}

describe('mso_mdoc verified by @auth0/mdl', () => {
  let deps: CredentialDeps;
  let ca: IssuerCa;
  let format: CredentialFormat;
  beforeAll(async () => {
    // The Verifier has no "now" option (it checks the MSO and the chain against `new Date()`): pin
    // Date to the same fixed START the issuer's clock and certificates use.
    vi.useFakeTimers({ toFake: ['Date'], now: START + 60_000 });
    ({ deps, ca, format } = await mdocIssuer());
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  const issue = async () => Buffer.from((await format.issue(request())) as string, 'base64url');

  it('accepts a device response over our credential with the IACA as the only trusted root', async () => {
    const transcript = sessionTranscript('verifier-nonce-1');
    const presentation = await present(await issue(), transcript);

    // Default mode: any FAILED check throws an MDLError.
    const mdoc = await new Verifier([ca.caCertificatePem()]).verify(presentation, {
      encodedSessionTranscript: transcript,
    });
    expect(mdoc.documents).toHaveLength(1);
    const [document] = mdoc.documents;
    expect(document!.docType).toBe(DOCTYPE);
    const disclosed = document!.getIssuerNameSpace(NAMESPACE);
    expect(Object.keys(disclosed).sort()).toEqual([...REQUESTED].sort());
    expect(disclosed['family_name']).toBe('Jones');
    // full-date (tag 1004) decodes to the library's DateOnly, whose string form is the date.
    expect(String(disclosed['birth_date'])).toBe('2007-03-25');
    expect(disclosed['issuing_country']).toBe('UT');
    expect(disclosed['age_over_18']).toBe(true);
    expect(disclosed).not.toHaveProperty('given_name');

    // Every check, and that the ones that matter ran and passed.
    const { checks, failed } = await assess(ca.caCertificatePem(), presentation, transcript);
    expect(failed).toEqual([]);
    const passed = checks.map((check) => check.id);
    for (const id of [
      'ISSUER_CERTIFICATE_VALIDITY',
      'ISSUER_SIGNATURE_VALIDITY',
      'MSO_SIGNED_DATE_WITHIN_CERTIFICATE_VALIDITY',
      'MSO_VALIDITY_AT_VERIFICATION_TIME',
      'ISSUER_SUBJECT_COUNTRY_NAME_PRESENCE',
      'DEVICE_SIGNATURE_VALIDITY',
      'ISSUER_AUTH_DIGEST_ALGORITHM_SUPPORTED',
      'ISSUING_COUNTRY_MATCHES_CERTIFICATE',
    ])
      expect(passed).toContain(id);
    expect(passed.filter((id) => id === 'ATTRIBUTE_DIGEST_MATCH')).toHaveLength(REQUESTED.length);
  });

  it('rejects the credential when the trusted root is a different, freshly generated IACA', async () => {
    const other = createIssuerCa({
      ...deps,
      store: (await credentialDeps()).store,
      encryptionSecret: 'x'.repeat(40),
      country: 'UT',
      serviceName: 'Test Issuer',
    });
    await other.init();
    expect(other.caCertificatePem()).not.toBe(ca.caCertificatePem());
    const transcript = sessionTranscript('verifier-nonce-2');
    const presentation = await present(await issue(), transcript);

    const rejection = new Verifier([other.caCertificatePem()]).verify(presentation, {
      encodedSessionTranscript: transcript,
    });
    await expect(rejection).rejects.toBeInstanceOf(MDLError);
    await expect(rejection).rejects.toMatchObject({ code: 'ISSUER_CERTIFICATE_VALIDITY' });
    // Only the chain fails: the signature, data and device binding are still sound.
    const { failed } = await assess(other.caCertificatePem(), presentation, transcript);
    expect(failed.map((check) => check.id)).toEqual(['ISSUER_CERTIFICATE_VALIDITY']);
  });

  it('rejects the credential when one byte of the issuer signature is altered', async () => {
    const issuerSigned = await issue();
    const decoded = cborDecode(issuerSigned) as Map<string, unknown>;
    const signature = Buffer.from((decoded.get('issuerAuth') as Uint8Array[])[3]!);
    expect(signature).toHaveLength(64); // ES256 r || s
    const at = issuerSigned.indexOf(signature);
    expect(at).toBeGreaterThan(0);
    const tampered = Buffer.from(issuerSigned);
    tampered[at + 10]! ^= 0x01;

    const transcript = sessionTranscript('verifier-nonce-3');
    const presentation = await present(tampered, transcript);
    await expect(
      new Verifier([ca.caCertificatePem()]).verify(presentation, { encodedSessionTranscript: transcript }),
    ).rejects.toMatchObject({ code: 'ISSUER_SIGNATURE_VALIDITY' });
    const { failed } = await assess(ca.caCertificatePem(), presentation, transcript);
    expect(failed.map((check) => check.id)).toEqual(['ISSUER_SIGNATURE_VALIDITY']);
  });

  it('rejects the device response when the verifier computes a different session transcript', async () => {
    const presentation = await present(await issue(), sessionTranscript('verifier-nonce-4'));
    const { failed } = await assess(ca.caCertificatePem(), presentation, sessionTranscript('another-nonce'));
    expect(failed.map((check) => check.id)).toEqual(['DEVICE_SIGNATURE_VALIDITY']);
  });
});
