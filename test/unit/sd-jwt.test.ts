import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  randomBytes,
  sign,
  verify,
  X509Certificate,
} from 'node:crypto';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import type { JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSdJwtFormat, disclosureFrameOf, packClaims } from '../../src/credentials/formats/sd-jwt.ts';
import type {
  CredentialFormat,
  IssueRequest,
  TokenStatusEntry,
} from '../../src/credentials/formats/types.ts';
import { createStatusService, type StatusService } from '../../src/credentials/status/service.ts';
import { jwtVcIssuerMetadata } from '../../src/keys/documents.ts';
import { type CredentialDeps, credentialDeps, START, testIssuerCa } from '../helpers/credential-deps.ts';

const holder = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const holderJwk = holder.publicKey.export({ format: 'jwk' }) as JWK;

/**
 * A verifier that knows only what the issuer publishes: `<iss>/.well-known/jwt-vc-issuer`
 * (SD-JWT VC §4) with the JWKS inline; keys matched by the header `kid`.
 */
function verifierFor(metadata: { issuer: string; jwks: { keys: JWK[] } }) {
  return async (data: string, signature: string): Promise<boolean> => {
    const header = JSON.parse(Buffer.from(data.split('.')[0]!, 'base64url').toString()) as Record<
      string,
      string
    >;
    const payload = JSON.parse(Buffer.from(data.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      string
    >;
    if (payload['iss'] !== metadata.issuer) return false;
    const jwk = metadata.jwks.keys.find((key) => key.kid === header['kid']);
    if (!jwk) return false;
    const keyObject = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    const sig = Buffer.from(signature, 'base64url');
    return header['alg'] === 'EdDSA'
      ? verify(null, Buffer.from(data), keyObject, sig)
      : verify('sha256', Buffer.from(data), { key: keyObject, dsaEncoding: 'ieee-p1363' }, sig);
  };
}

describe('dc+sd-jwt format', () => {
  let deps: CredentialDeps;
  let format: CredentialFormat;
  let status: StatusService;
  let verifier: SDJwtVcInstance;

  const request = (entry: TokenStatusEntry, alg: 'ES256' | 'EdDSA' = 'ES256'): IssueRequest => ({
    profile: {
      configurationId: 'NationalId_sd',
      types: [],
      contexts: [],
      alg,
      vct: 'https://issuer.example/vct/national-id',
      selectivelyDisclosable: [
        'given_name',
        'family_name',
        'birthdate',
        'address.locality',
        'missing_optional',
      ],
    },
    claims: {
      given_name: 'Ava',
      family_name: 'Jöns',
      birthdate: '2001-02-03',
      nationality: 'UT',
      address: { locality: 'Nairobi', country: 'KE' },
    },
    holder: { jwk: holderJwk },
    status: [entry],
    validFrom: new Date(START - (START % 3_600_000)),
    validUntil: new Date(START - (START % 3_600_000) + 365 * 86_400_000),
  });

  beforeAll(async () => {
    deps = await credentialDeps('https://issuer.example');
    format = createSdJwtFormat(deps);
    status = createStatusService(deps);
    // Exactly what the service serves at /.well-known/jwt-vc-issuer.
    const metadata = jwtVcIssuerMetadata(deps.publicUrl, deps.keys);
    verifier = new SDJwtVcInstance({
      verifier: verifierFor(metadata),
      hasher: async (data, alg) => {
        expect(alg).toBe('sha-256');
        const { createHash } = await import('node:crypto');
        return createHash('sha256')
          .update(typeof data === 'string' ? data : new Uint8Array(data))
          .digest();
      },
      statusListFetcher: async (uri) => (await status.resolve(uri))!.body as string,
    });
  });

  for (const alg of ['ES256', 'EdDSA'] as const) {
    it(`issues an ${alg} SD-JWT VC that @sd-jwt/sd-jwt-vc verifies, status list included`, async () => {
      const [entry] = (await status.allocate('dc+sd-jwt', `ledger-${alg}`)) as TokenStatusEntry[];
      const sdJwt = (await format.issue(request(entry!, alg))) as string;
      const result = await verifier.verify(sdJwt, { currentDate: START / 1000 });
      expect(result.header).toEqual({ typ: 'dc+sd-jwt', kid: deps.keys.active('credential', alg).kid, alg });
      const { payload } = result;
      expect(payload).toMatchObject({
        iss: 'https://issuer.example',
        vct: 'https://issuer.example/vct/national-id',
        given_name: 'Ava',
        family_name: 'Jöns',
        birthdate: '2001-02-03',
        nationality: 'UT',
        address: { locality: 'Nairobi', country: 'KE' },
        cnf: { jwk: { kty: 'EC', crv: 'P-256', x: holderJwk.x, y: holderJwk.y } },
        status: { status_list: { idx: entry!.idx, uri: entry!.uri } },
      });
      // iat rounded down to the hour (SECURITY.md row 36).
      expect(payload.iat).toBe(Math.floor(START / 3_600_000) * 3600);
      expect(payload.nbf).toBe(payload.iat);
      expect(payload.exp).toBe((payload.nbf as number) + 365 * 86_400);
    });
  }

  it('makes exactly the configured claims selectively disclosable, nested paths included', async () => {
    const [entry] = (await status.allocate('dc+sd-jwt', 'ledger-sd')) as TokenStatusEntry[];
    const sdJwt = (await format.issue(request(entry!))) as string;
    const decoded = await verifier.decode(sdJwt);
    const disclosed = (decoded.disclosures ?? []).map((d) => d.key).sort();
    expect(disclosed).toEqual(['birthdate', 'family_name', 'given_name', 'locality']);
    const signed = decoded.jwt!.payload as Record<string, any>;
    expect(signed['_sd_alg']).toBe('sha-256');
    expect(signed['given_name']).toBeUndefined();
    expect(signed['nationality']).toBe('UT');
    expect(signed['address']['country']).toBe('KE');
    expect(signed['address']['locality']).toBeUndefined();
    expect(signed['address']['_sd']).toHaveLength(1);
    for (const d of decoded.disclosures ?? [])
      expect(Buffer.from(d.salt, 'base64url').length).toBeGreaterThanOrEqual(16);

    // A presentation with only given_name still verifies and hides the rest.
    const presented = await verifier.present(sdJwt, { given_name: true });
    const { payload } = await verifier.verify(presented, { currentDate: START / 1000 });
    expect(payload['given_name']).toBe('Ava');
    expect(payload['family_name']).toBeUndefined();
    expect((payload['address'] as Record<string, unknown>)['locality']).toBeUndefined();
  });

  it('uses fresh salts per issuance, so two credentials with equal claims share no digest', async () => {
    const [entry] = (await status.allocate('dc+sd-jwt', 'ledger-salts')) as TokenStatusEntry[];
    const a = (await format.issue(request(entry!))) as string;
    deps.clock.advanceSeconds(5);
    const b = (await format.issue(request(entry!))) as string;
    const saltsOf = (sdJwt: string) =>
      sdJwt
        .split('~')
        .slice(1)
        .filter(Boolean)
        .map((d) => JSON.parse(Buffer.from(d, 'base64url').toString())[0] as string);
    const saltsA = saltsOf(a);
    expect(saltsA).toHaveLength(4);
    expect(saltsOf(b).filter((salt) => saltsA.includes(salt))).toEqual([]);
    const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());
    expect(claims(a).iat).toBe(claims(b).iat);
  });

  it('fails verification once the credential is revoked and the list is refreshed', async () => {
    const statusEntries = await status.allocate('dc+sd-jwt', 'ledger-revoked');
    const sdJwt = (await format.issue(request(statusEntries[0] as TokenStatusEntry))) as string;
    await expect(verifier.verify(sdJwt, { currentDate: START / 1000 })).resolves.toBeDefined();
    await status.revoke({ statusEntries });
    await expect(verifier.verify(sdJwt, { currentDate: START / 1000 })).rejects.toThrow(/[Ss]tatus/);
  });

  it('refuses claims that collide with the claims the format sets', async () => {
    const [entry] = (await status.allocate('dc+sd-jwt', 'ledger-x')) as TokenStatusEntry[];
    const req = request(entry!);
    await expect(format.issue({ ...req, claims: { ...req.claims, cnf: 'x' } })).rejects.toThrow(/reserved/);
  });

  it('builds disclosure frames from claim paths and skips absent optional claims', () => {
    expect(
      disclosureFrameOf(['a', 'b.c', 'b.d.e', 'zz', 'b.nope'], { a: 1, b: { c: 2, d: { e: 3 } } }),
    ).toEqual({
      // Absent `zz` and `b.nope` leave a decoy digest each in their object.
      _sd: ['a'],
      _sd_decoy: 1,
      b: { _sd: ['c'], _sd_decoy: 1, d: { _sd: ['e'] } },
    });
    // A path through an absent object adds nothing: the object itself is not there.
    expect(disclosureFrameOf(['a', 'x.y'], { a: 1 })).toEqual({ _sd: ['a'] });
  });

  it('pads each object with decoy digests so the digest count does not reveal absent optional claims', async () => {
    const [entry] = (await status.allocate('dc+sd-jwt', 'ledger-decoys')) as TokenStatusEntry[];
    const full = request(entry!);
    const { birthdate: _, ...withoutBirthdate } = full.claims;
    const digests = async (req: IssueRequest) => {
      const sdJwt = (await format.issue(req)) as string;
      const decoded = await verifier.decode(sdJwt);
      // The status list may have been re-signed by an earlier test, after START.
      await expect(verifier.verify(sdJwt, { currentDate: deps.clock.now() / 1000 })).resolves.toBeDefined();
      const payload = decoded.jwt!.payload as Record<string, any>;
      return { top: payload['_sd'].length, disclosures: decoded.disclosures?.length ?? 0 };
    };
    // Five configured paths, four at the top level (`missing_optional` is never present).
    const a = await digests(full);
    const b = await digests({ ...full, claims: withoutBirthdate });
    expect(a).toEqual({ top: 4, disclosures: 4 });
    expect(b).toEqual({ top: 4, disclosures: 3 });
  });

  it('carries an x5c certificate for ES256 keys that chains to the IACA and names the issuer URL', async () => {
    const ca = await testIssuerCa(deps);
    const withCa = createSdJwtFormat({ ...deps, issuerCa: ca });
    const [entry] = (await status.allocate('dc+sd-jwt', 'ledger-x5c')) as TokenStatusEntry[];
    const sdJwt = (await withCa.issue(request(entry!))) as string;
    const issuerJwt = sdJwt.split('~')[0]!;
    const header = JSON.parse(Buffer.from(issuerJwt.split('.')[0]!, 'base64url').toString());
    expect(header.kid).toBe(deps.keys.active('credential', 'ES256').kid);
    expect(header.x5c).toHaveLength(1);

    // A verifier with only the IACA as trust anchor: chain, name, then the signature with the leaf key.
    const leaf = new X509Certificate(Buffer.from(header.x5c[0], 'base64'));
    const iaca = new X509Certificate(ca.caCertificatePem());
    expect(leaf.checkIssued(iaca)).toBe(true);
    expect(leaf.verify(iaca.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toContain('URI:https://issuer.example');
    expect(leaf.checkHost('issuer.example')).toBe('issuer.example');
    // Not an mDL document signer: no extended key usage limits it to mdoc.
    expect(leaf.keyUsage ?? []).not.toContain('1.0.18013.5.1.2');
    const [data, signature] = [issuerJwt.slice(0, issuerJwt.lastIndexOf('.')), issuerJwt.split('.')[2]!];
    const sig = Buffer.from(signature, 'base64url');
    expect(verify('sha256', Buffer.from(data), { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' }, sig)).toBe(
      true,
    );
    // The same certificate for every credential of the key; none for an EdDSA key (IACA profile is P-256).
    const again = (await withCa.issue(request(entry!))) as string;
    expect(JSON.parse(Buffer.from(again.split('.')[0]!, 'base64url').toString()).x5c).toEqual(header.x5c);
    const ed = (await withCa.issue(request(entry!, 'EdDSA'))) as string;
    expect(JSON.parse(Buffer.from(ed.split('.')[0]!, 'base64url').toString()).x5c).toBeUndefined();
  });
});

describe('packClaims (RFC 9901 §4.2) against @sd-jwt/core', () => {
  /** The payload with every digest replaced by its count and each disclosure by [name, value]. */
  const shape = (payload: unknown): unknown =>
    Array.isArray(payload)
      ? payload.map(shape)
      : payload && typeof payload === 'object'
        ? Object.fromEntries(
            Object.entries(payload).map(([k, v]) => [k, k === '_sd' ? (v as string[]).length : shape(v)]),
          )
        : payload;

  it('packs what the library packs: the same objects, digests, decoys and disclosures', async () => {
    const claims = {
      vct: 'https://issuer.example/vct/id',
      given_name: 'Åsa',
      family_name: 'Nyström',
      nationalities: ['SE', 'KE'],
      address: { street_address: 'Storgatan 1', locality: 'Umeå', country: 'SE' },
      place_of_birth: { locality: 'Kiruna', region: { name: 'Norrbotten', code: 'BD' } },
    };
    const paths = [
      'given_name',
      'nationalities',
      'address.locality',
      'address.postal_code',
      'place_of_birth',
      'place_of_birth.region.code',
      'email',
    ];
    const frame = disclosureFrameOf(paths, claims);
    const out: string[] = [];
    const ours: Record<string, any> = {
      ...packClaims(structuredClone(claims), frame, out),
      _sd_alg: 'sha-256',
    };
    for (const list of [ours['_sd'] as string[], (ours['address'] as { _sd: string[] })._sd])
      expect(list).toEqual([...list].sort());

    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const hasher = (data: string | ArrayBuffer) =>
      new Uint8Array(
        createHash('sha256')
          .update(typeof data === 'string' ? data : Buffer.from(data))
          .digest(),
      );
    const library = new SDJwtVcInstance({
      signer: (data: string) =>
        sign('sha256', Buffer.from(data), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString(
          'base64url',
        ),
      signAlg: 'ES256',
      hasher,
      hashAlg: 'sha-256',
      saltGenerator: () => randomBytes(16).toString('base64url'),
    });
    const theirs = await library.issue(structuredClone(claims), frame as never);
    const theirPayload = JSON.parse(Buffer.from(theirs.split('.')[1]!, 'base64url').toString());
    expect(shape(ours)).toEqual(shape(theirPayload));
    expect(Object.keys(ours)).toEqual(Object.keys(theirPayload));

    // The same disclosures, in the same order.
    const disclosed = (encoded: string[]) =>
      encoded.map((d) => (JSON.parse(Buffer.from(d, 'base64url').toString('utf8')) as unknown[]).slice(1));
    const theirDisclosures = theirs.split('~').slice(1, -1);
    expect(disclosed(out).map(shape)).toEqual(disclosed(theirDisclosures).map(shape));
    // Each digest is in the payload, or in the disclosure of the object that holds it.
    const digests = JSON.stringify([ours, disclosed(out)]);
    for (const d of out) expect(digests).toContain(createHash('sha256').update(d).digest('base64url'));
    // place_of_birth is disclosed whole, carrying its own packed region.
    const birth = disclosed(out).find(([name]) => name === 'place_of_birth')![1] as Record<string, any>;
    expect(birth['region']['_sd']).toHaveLength(1);
    expect(birth['region']['code']).toBeUndefined();
  });
});
