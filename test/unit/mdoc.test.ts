import { createHash, generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  cborDecode,
  cborEncode,
  DataItem,
  DeviceResponse,
  MDoc,
  parseIssuerSigned,
  type VerificationAssessment,
  Verifier,
} from '@animo-id/mdoc';
import { decodeProtectedHeader, importX509, type JWK, jwtVerify } from 'jose';
import Koa from 'koa';
import { beforeAll, describe, expect, it } from 'vitest';
import { embeddedCbor } from '../../src/credentials/formats/mdoc.ts';
import type {
  CredentialFormat,
  IssueRequest,
  TokenStatusEntry,
} from '../../src/credentials/formats/types.ts';
import { createStatusService } from '../../src/credentials/status/service.ts';
import { createIssuerCa, type IssuerCa } from '../../src/credentials/x509/issuer-ca.ts';
import { iacaUrl } from '../../src/credentials/x509/urls.ts';
import * as x509 from '../../src/credentials/x509/x509.ts';
import { iacaRoutes } from '../../src/http/well-known.ts';
import { type CredentialDeps, credentialDeps, mdocIssuer, START } from '../helpers/credential-deps.ts';
import { mdlRequest, mdocContext as mdocContextAt } from '../helpers/mdoc-context.ts';

const device = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const deviceJwk = device.publicKey.export({ format: 'jwk' }) as JWK;
const DOCTYPE = 'org.iso.18013.5.1.mDL';
const NAMESPACE = 'org.iso.18013.5.1';
const hour = START - (START % 3_600_000);
/** The independent verifier checks certificate validity at the issuer's test instant, not the real clock. */
const mdocContext = mdocContextAt(() => new Date(START));

const request = (status?: TokenStatusEntry): IssueRequest => ({
  profile: { configurationId: 'mDL', types: [], contexts: [], doctype: DOCTYPE, namespace: NAMESPACE },
  claims: {
    family_name: 'Jones',
    given_name: 'Ava',
    birth_date: '2007-03-25',
    issuing_country: 'UT',
    age_over_18: true,
  },
  holder: { jwk: deviceJwk },
  ...(status ? { status: [status] } : {}),
  validFrom: new Date(hour),
  validUntil: new Date(hour + 365 * 86_400_000),
});

/** Reads a CBOR map member whether the decoder gave a Map or a plain object. */
const field = (value: unknown, key: string): unknown =>
  value instanceof Map ? value.get(key) : (value as Record<string, unknown>)[key];

/** Runs the library verifier's issuer checks and collects every check it makes. */
async function verifyIssuerSigned(encoded: string, trusted: Uint8Array[]) {
  const document = parseIssuerSigned(Buffer.from(encoded, 'base64url'), DOCTYPE);
  const checks: VerificationAssessment[] = [];
  const onCheckG = (check: VerificationAssessment) => checks.push(check);
  const verifier = new Verifier();
  await verifier.verifyIssuerSignature(
    {
      trustedCertificates: trusted,
      issuerAuth: document.issuerSigned.issuerAuth,
      now: new Date(START),
      disableCertificateChainValidation: false,
      onCheckG,
    },
    mdocContext,
  );
  await verifier.verifyData({ mdoc: document, onCheckG }, mdocContext);
  return { document, checks, failed: checks.filter((check) => check.status === 'FAILED') };
}

describe('mso_mdoc format', () => {
  let deps: CredentialDeps;
  let ca: IssuerCa;
  let format: CredentialFormat;
  beforeAll(async () => {
    ({ deps, ca, format } = await mdocIssuer());
  });

  it('issues IssuerSigned that the @animo-id/mdoc verifier accepts with the published IACA as trust anchor', async () => {
    const entry: TokenStatusEntry = {
      kind: 'token',
      uri: 'https://issuer.example/status/token/abcdefghijklmnop',
      idx: 4242,
    };
    const encoded = (await format.issue(request(entry))) as string;
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    const iaca = new x509.X509Certificate(ca.caCertificatePem());
    const { document, checks, failed } = await verifyIssuerSigned(encoded, [new Uint8Array(iaca.rawData)]);
    expect(failed).toEqual([]);
    expect(checks.filter((check) => check.check.startsWith('The calculated digest'))).toHaveLength(5);

    const claims = document.getIssuerNameSpace(NAMESPACE)!;
    expect(claims.get('family_name')).toBe('Jones');
    expect(claims.get('age_over_18')).toBe(true);
    expect(String(claims.get('birth_date'))).toBe('2007-03-25');

    const mso = document.issuerSigned.issuerAuth.decodedPayload as unknown as Record<string, any>;
    expect(mso['docType']).toBe(DOCTYPE);
    expect(mso['digestAlgorithm']).toBe('SHA-256');
    expect(mso['validityInfo'].signed.getTime()).toBe(hour);
    // Device key = the holder's key.
    const deviceKey = field(mso['deviceKeyInfo'], 'deviceKey') as Map<number, unknown>;
    expect(Buffer.from(deviceKey.get(-2) as Uint8Array).toString('base64url')).toBe(deviceJwk.x);
    expect(Buffer.from(deviceKey.get(-3) as Uint8Array).toString('base64url')).toBe(deviceJwk.y);
    // Token status list reference in the MSO.
    const statusList = field(mso['status'], 'status_list');
    expect({ idx: field(statusList, 'idx'), uri: field(statusList, 'uri') }).toEqual({
      idx: 4242,
      uri: entry.uri,
    });
  });

  it('chains the document signer to an IACA with the configured country, and rejects an unknown anchor', async () => {
    const iaca = new x509.X509Certificate(ca.caCertificatePem());
    expect(iaca.subject).toBe('C=UT, CN=Test Issuer IACA');
    expect(iaca.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(true);
    const ds = new x509.X509Certificate(await ca.documentSigner(deps.keys.active('credential', 'ES256')));
    expect(ds.issuer).toBe(iaca.subject);
    expect(ds.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual(['1.0.18013.5.1.2']);

    const other = createIssuerCa({
      ...deps,
      store: (await credentialDeps()).store,
      encryptionSecret: 'x'.repeat(40),
    });
    await other.init();
    const encoded = (await format.issue(request())) as string;
    const { failed } = await verifyIssuerSigned(encoded, [other.caCertificateDer()]);
    expect(failed.map((check) => check.check)).toContain('Issuer certificate must be valid');
  });

  it('binds the credential to the device key: a device response signed by the holder verifies', async () => {
    const encoded = (await format.issue(request())) as string;
    const issuerSigned = parseIssuerSigned(Buffer.from(encoded, 'base64url'), DOCTYPE);
    const mdoc = new MDoc([issuerSigned]).encode();
    const devicePrivate = device.privateKey.export({ format: 'jwk' }) as JWK;
    const transcript = {
      mdocGeneratedNonce: 'mdoc-nonce',
      clientId: 'client',
      responseUri: 'https://verifier.example/cb',
      verifierGeneratedNonce: 'verifier-nonce',
    };
    const presentation = await DeviceResponse.from(mdoc)
      .usingPresentationDefinition(mdlRequest(['given_name']))
      .usingSessionTranscriptForOID4VP(transcript)
      .authenticateWithSignature(devicePrivate, 'ES256')
      .sign(mdocContext);
    const verified = await new Verifier().verifyDeviceResponse(
      {
        encodedDeviceResponse: presentation.encode(),
        encodedSessionTranscript: await DeviceResponse.calculateSessionTranscriptBytesForOID4VP({
          ...transcript,
          context: mdocContext,
        }),
        trustedCertificates: [ca.caCertificateDer()],
        now: new Date(START),
      },
      mdocContext,
    );
    const disclosed = verified.documents[0]!.getIssuerNameSpace(NAMESPACE)!;
    expect([...disclosed.keys()]).toEqual(['given_name']);
  });

  it('keeps the IACA across restarts (private key encrypted at rest) and refuses a wrong secret', async () => {
    const again = createIssuerCa({ ...deps, encryptionSecret: 'test-secret-test-secret-test-secret-0123' });
    await again.init();
    expect(again.caCertificatePem()).toBe(ca.caCertificatePem());
    const stored = await deps.store.collection({ name: 'x509' }).get('iaca');
    expect(JSON.stringify(stored)).not.toContain('PRIVATE KEY');
    const wrong = createIssuerCa({ ...deps, encryptionSecret: 'another-secret-another-secret-another-1' });
    await expect(wrong.init()).rejects.toThrow(/does not decrypt/);
  });

  /** GET `path` from the IACA routes over real HTTP. */
  async function fetchIacaRoute(path: string): Promise<Response> {
    const app = new Koa();
    app.use(iacaRoutes({ issuerCa: ca }).routes());
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
      // Read before the server closes.
      return new Response(await response.arrayBuffer(), {
        status: response.status,
        headers: response.headers,
      });
    } finally {
      server.close();
    }
  }

  it('publishes the IACA certificate at /.well-known/iaca.pem with cache headers', async () => {
    const response = await fetchIacaRoute('/.well-known/iaca.pem');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=86400');
    expect(await response.text()).toBe(ca.caCertificatePem());
    expect(iacaUrl('https://issuer.example/tenant')).toBe(
      'https://issuer.example/tenant/.well-known/iaca.pem',
    );
  });

  it('names the CRL in the IACA and signer certificates and serves it signed by the IACA', async () => {
    const url = 'https://issuer.example/.well-known/iaca.crl';
    const distributionPoints = (cert: x509.X509Certificate) =>
      cert
        .getExtension(x509.CRLDistributionPointsExtension)
        ?.distributionPoints.flatMap(
          (point) => point.distributionPoint?.fullName?.map((name) => name.uniformResourceIdentifier) ?? [],
        );
    const iaca = new x509.X509Certificate(ca.caCertificatePem());
    const signer = new x509.X509Certificate(await ca.documentSigner(deps.keys.active('credential', 'ES256')));
    expect(distributionPoints(iaca)).toEqual([url]);
    expect(distributionPoints(signer)).toEqual([url]);

    const response = await fetchIacaRoute('/.well-known/iaca.crl');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pkix-crl');
    expect(response.headers.get('cache-control')).toBe('public, max-age=3600');
    const crl = new x509.X509Crl(await response.arrayBuffer());
    expect(await crl.verify({ publicKey: await iaca.publicKey.export() })).toBe(true);
    expect(crl.issuer).toBe(iaca.subject);
    expect(crl.entries).toEqual([]);
    expect(crl.thisUpdate.getTime()).toBeLessThanOrEqual(deps.clock.now());
    expect(crl.nextUpdate!.getTime()).toBeGreaterThan(deps.clock.now());
    // RFC 5280 §5.2: CRL number and authority key identifier.
    const oids = crl.extensions.map((extension) => extension.type);
    expect(oids).toEqual(expect.arrayContaining(['2.5.29.20', '2.5.29.35']));
    // A CRL signed by another CA does not verify against this IACA.
    const other = createIssuerCa({
      ...deps,
      store: (await credentialDeps()).store,
      encryptionSecret: 'x'.repeat(40),
    });
    await other.init();
    const foreign = new x509.X509Crl(await other.crl());
    expect(await foreign.verify({ publicKey: await iaca.publicKey.export() })).toBe(false);
  });

  it('signs token status lists with an x5c chain to the IACA, so mdoc verifiers can check them', async () => {
    const status = createStatusService({ ...deps, tokenX5c: (key) => ca.x5c(key) });
    const [entry] = (await status.allocate('mso_mdoc', 'ledger-x5c')) as TokenStatusEntry[];
    const jwt = (await status.resolve(entry!.uri))!.body as string;
    const header = decodeProtectedHeader(jwt);
    const ds = new x509.X509Certificate(Buffer.from(header.x5c![0]!, 'base64'));
    expect(ds.issuer).toBe('C=UT, CN=Test Issuer IACA');
    const pem = `-----BEGIN CERTIFICATE-----\n${header.x5c![0]}\n-----END CERTIFICATE-----`;
    const { payload } = await jwtVerify(jwt, await importX509(pem, 'ES256'), {
      currentDate: new Date(START),
    });
    expect(payload.sub).toBe(entry!.uri);
  });

  it('uses fresh randoms and shuffled digest ids per issuance', async () => {
    const a = cborDecode(Buffer.from((await format.issue(request())) as string, 'base64url')) as Map<
      string,
      any
    >;
    const b = cborDecode(Buffer.from((await format.issue(request())) as string, 'base64url')) as Map<
      string,
      any
    >;
    const randoms = (doc: Map<string, any>) =>
      (doc.get('nameSpaces').get(NAMESPACE) as { data: Map<string, unknown> }[]).map((item) =>
        Buffer.from(item.data.get('random') as Uint8Array).toString('hex'),
      );
    expect(randoms(a).filter((r) => randoms(b).includes(r))).toEqual([]);
    // 32 bytes each, all different within one credential too (they come from one shared pool).
    expect(randoms(a).every((r) => r.length === 64)).toBe(true);
    expect(new Set([...randoms(a), ...randoms(b)]).size).toBe(2 * randoms(a).length);
  });

  it('digests each element over the same tag-24 bytes the library encodes, at every length boundary', () => {
    for (const length of [0, 1, 23, 24, 255, 256, 65_535, 65_536, 70_000]) {
      const bytes = new Uint8Array(length).map((_, i) => (i * 7 + length) & 0xff);
      expect(
        Buffer.compare(embeddedCbor(bytes), Buffer.from(cborEncode(new DataItem({ buffer: bytes })))),
      ).toBe(0);
    }
  });

  it('writes IssuerSigned byte for byte as the library encodes what it decodes from it', async () => {
    const token: TokenStatusEntry = { kind: 'token', uri: 'https://issuer.example/status/token/x', idx: 7 };
    for (const status of [undefined, token]) {
      const bytes = Buffer.from((await format.issue(request(status))) as string, 'base64url');
      const decoded = cborDecode(bytes) as Map<string, any>;
      expect([...decoded.keys()]).toEqual(['nameSpaces', 'issuerAuth']);
      expect(decoded.get('nameSpaces').get(NAMESPACE)).toHaveLength(5);
      expect(decoded.get('nameSpaces').get(NAMESPACE)[0]).toBeInstanceOf(DataItem);
      expect(Buffer.compare(Buffer.from(cborEncode(decoded)), bytes)).toBe(0);
    }
  });

  it('gives value digests that match the issued items (the verifier recomputes them)', async () => {
    const doc = cborDecode(Buffer.from((await format.issue(request())) as string, 'base64url')) as Map<
      string,
      any
    >;
    const mso = (cborDecode((doc.get('issuerAuth') as unknown[])[2] as Uint8Array) as DataItem).data as Map<
      string,
      any
    >;
    const digests = mso.get('valueDigests').get(NAMESPACE) as Map<number, Uint8Array>;
    const items = doc.get('nameSpaces').get(NAMESPACE) as DataItem[];
    expect(digests.size).toBe(items.length);
    for (const item of items) {
      const id = (item.data as Map<string, unknown>).get('digestID') as number;
      const expected = createHash('sha256').update(cborEncode(item)).digest();
      expect(Buffer.from(digests.get(id) as Uint8Array).equals(expected)).toBe(true);
    }
  });
});
