import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { Ed25519Signature2020 } from '@digitalbazaar/ed25519-signature-2020';
import * as vc from '@digitalbazaar/vc';
import jsonld from 'jsonld';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newWalletKey, receiveFromOffer } from '../../scripts/demo-wallet.ts';
import {
  createDocumentLoader,
  type DocumentLoader,
  type JsonLdObject,
  packagedContextUrls,
} from '../../src/credentials/jsonld/document-loader.ts';
import { base58btcDecode } from '../../src/crypto/multibase.ts';
import { didDocumentUrl, didWebFromUrl } from '../../src/keys/documents.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

/**
 * An Ed25519Signature2020 credential issued in demo mode, checked as Inji Verify checks it: by the
 * rules of the MOSIP vc-verifier (the Kotlin library Inji Verify and Inji Wallet embed), written
 * here from its source, and by @digitalbazaar/vc with the Ed25519Signature2020 suite.
 *
 * Source, cited as VCV:<file>:<lines>: mosip/vc-verifier, tag v1.5.0, commit
 * 7e51435c91469b65995f662d658e39eb0ee4a0c8, files under
 * vc-verifier/kotlin/vcverifier/src/main/java/io/mosip/vercred/vcverifier/.
 * Its canonicalization comes from its dependency ld-signatures-java 1.5.0
 * (VCV gradle/libs.versions.toml: `ldSignaturesJava = "1.5.0"`), cited as LDS:<file>:<lines>:
 * WebOfTrustInfo/ld-signatures-java, tag 1.5.0, commit 413bd6f8679a80341417a3b119f6593e1119af45.
 */

type Credential = Record<string, any>;

const VC_V1 = 'https://www.w3.org/2018/credentials/v1';

/** VCV constants/CredentialValidatorConstants.kt:109-114 `PROOF_TYPES_SUPPORTED`. */
const PROOF_TYPES_SUPPORTED = [
  'RsaSignature2018',
  'Ed25519Signature2018',
  'Ed25519Signature2020',
  'EcdsaSecp256k1Signature2019',
];
/**
 * VCV keyResolver/Utils.kt:51-55 `PUBLIC_KEY_ALGORITHM` (type names from
 * constants/CredentialVerifierConstants.kt:31-36): the only verification method types whose
 * `publicKeyMultibase` (or PEM) becomes a key; any other type gives `KeyFactory.getInstance(null)`,
 * which fails as `PublicKeyNotFoundException` (Utils.kt:125-137).
 */
const PUBLIC_KEY_ALGORITHM: Record<string, string> = {
  RsaVerificationKey2018: 'RSA',
  Ed25519VerificationKey2018: 'Ed25519',
  Ed25519VerificationKey2020: 'Ed25519',
};
/** VCV constants/CredentialVerifierConstants.kt:46 `DER_PUBLIC_KEY_PREFIX`: SPKI header of an Ed25519 key. */
const DER_PUBLIC_KEY_PREFIX = '302a300506032b6570032100';

class MosipRuleError extends Error {
  override name = 'MosipRuleError';
}

/** VCV utils/DateUtils.kt:37-49: ISO offset date-time, else ISO local date-time read as UTC. */
function parseDate(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const offset = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value);
  const local = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value);
  if (!offset && !local) return undefined;
  const ms = Date.parse(offset ? value : `${value}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** VCV utils/DateUtils.kt:97-113 `isFutureDateWithTolerance` (3 s), on the test's clock. */
const isFuture = (value: unknown, now: number) => {
  const at = parseDate(value);
  return at !== undefined && at > now + 3000;
};

/** VCV utils/Util.kt:81-92 `isValidUri`: a scheme, and a host for http(s). */
function isValidUri(value: unknown): boolean {
  if (typeof value !== 'string' || !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value)) return false;
  if (/^https?:/i.test(value)) {
    try {
      return new URL(value).hostname !== '';
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * VCV credentialverifier/validator/LdpValidator.kt:57-98 (`validate`), the Data Model 1.1 branch.
 * Returns the error code, or '' (valid). Expiry is reported, not fatal (LdpValidator.kt:71-75).
 */
function mosipValidate(credential: Credential, now: number): string {
  const contexts = credential['@context'];
  if (contexts === undefined) return 'ERR_MISSING_@CONTEXT';
  // VCV utils/Util.kt:107-117 `getContextVersion`: the first context selects the data model.
  if (!Array.isArray(contexts) || contexts[0] !== VC_V1) return 'ERR_INVALID_@CONTEXT';
  // LdpValidator.kt:36-42 + 103-107: common mandatory fields plus issuanceDate (ValidationHelper.kt:37-56).
  for (const field of ['@context', 'type', 'credentialSubject', 'issuer', 'proof', 'issuanceDate']) {
    if (!(field in credential)) return `ERR_MISSING_${field.toUpperCase()}`;
  }
  // VCV utils/DateUtils.kt:51-70 `validateV1DateFields`.
  for (const field of ['issuanceDate', 'expirationDate']) {
    if (field in credential && parseDate(credential[field]) === undefined)
      return `ERR_INVALID_${field.toUpperCase()}`;
  }
  if (isFuture(credential.issuanceDate, now)) return 'ERR_ISSUANCE_DATE_IS_FUTURE_DATE';
  // LdpValidator.kt:111-125 + ValidationHelper.kt:146-196: each of these is an object (or array of
  // objects) with a type; credentialStatus, refreshService, credentialSchema also need an id URI.
  for (const field of [
    'proof',
    'credentialStatus',
    'evidence',
    'credentialSchema',
    'refreshService',
    'termsOfUse',
  ]) {
    if (!(field in credential)) continue;
    const value = credential[field];
    const objects = Array.isArray(value) ? value : [value];
    for (const object of objects) {
      if (!object || typeof object !== 'object') return `ERR_INVALID_${field.toUpperCase()}`;
      if (!object.type) return `ERR_MISSING_${field.toUpperCase()}_TYPE`;
      const idRequired = ['credentialStatus', 'refreshService', 'credentialSchema'].includes(field);
      if (idRequired && !object.id) return `ERR_MISSING_${field.toUpperCase()}_ID`;
      if (object.id && !isValidUri(object.id)) return `ERR_INVALID_${field.toUpperCase()}_ID`;
    }
  }
  // LdpValidator.kt:155-167 `validateCommonFields`.
  const subjects = Array.isArray(credential.credentialSubject)
    ? credential.credentialSubject
    : [credential.credentialSubject];
  for (const subject of subjects) {
    // ValidationHelper.kt:139-175
    if (!subject || typeof subject !== 'object') return 'ERR_INVALID_CREDENTIALSUBJECT';
    if (subject.id !== undefined && !isValidUri(subject.id)) return 'ERR_INVALID_credentialSubjectID';
  }
  // ValidationHelper.kt:58-76 `validateProof`: a `jws` must use a listed algorithm; the proof type must be listed.
  if (credential.proof.jws !== undefined) return 'ERR_INVALID_ALGORITHM'; // we never sign with jws here
  if (!PROOF_TYPES_SUPPORTED.includes(credential.proof.type)) return 'ERR_INVALID_PROOF_TYPE';
  // ValidationHelper.kt:78-103: id and issuer are URIs, type lists VerifiableCredential.
  if (credential.id !== undefined && !isValidUri(credential.id)) return 'ERR_INVALID_id';
  if (Array.isArray(credential.type) && !credential.type.includes('VerifiableCredential'))
    return 'ERR_INVALID_TYPE';
  const issuer = typeof credential.issuer === 'string' ? credential.issuer : credential.issuer?.id;
  if (!isValidUri(issuer)) return 'ERR_INVALID_ISSUER';
  // LdpValidator.kt:71-75 with DateUtils.kt:93-95: expired when expirationDate is not in the future.
  if ('expirationDate' in credential && !isFuture(credential.expirationDate, now)) return 'ERR_VC_EXPIRED';
  return '';
}

/** A DID URL split as VCV keyResolver/types/did/DidPublicKeyResolver.kt:10-20 (`DID_MATCHER`) and :45-74 do. */
function parseDidUrl(didUrl: string): { method: string; id: string; didUrl: string } {
  const idChar = '(?:[a-zA-Z0-9._-]|(?:%[0-9a-fA-F]{2}))';
  const matcher = new RegExp(
    `^did:([a-z0-9]+):((?:${idChar}*:)*(${idChar}+))((;[a-zA-Z0-9_.:%-]+=[a-zA-Z0-9_.:%-]*)*)(/[^#?]*)?([?][^#]*)?(#.*)?$`,
  );
  const match = matcher.exec(didUrl);
  if (!match) throw new MosipRuleError('UnsupportedDidUrl');
  // VCV constants/DidMethod.kt: web, key, jwk; DidPublicKeyResolver.kt:37-43 dispatches web to DidWebPublicKeyResolver.
  if (!['web', 'key', 'jwk'].includes(match[1]!)) throw new MosipRuleError('UnsupportedDidUrl');
  return { method: match[1]!, id: match[2]!, didUrl };
}

/**
 * VCV keyResolver/types/did/DidWebPublicKeyResolver.kt:93-104 `constructDIDUrl`, exactly: the
 * method-specific id split on `:`, the first part is the host as is (no percent-decoding, so a
 * `%3A`-encoded port stays in the host), the rest the path; always `https://`.
 */
function mosipDidWebUrl(id: string): string {
  const [baseDomain, ...rest] = id.split(':');
  const path = rest.join('/');
  return `https://${baseDomain}/${path === '' ? '.well-known/did.json' : `${path}/did.json`}`;
}

/**
 * VCV keyResolver/types/did/DidWebPublicKeyResolver.kt:32-80 `extractPublicKey` with keyId null
 * (PublicKeyResolverFactory.kt:14-20 passes only the URI): the method whose `id` equals the whole
 * DID URL; the first of publicKeyPem, publicKeyMultibase, publicKeyJwk, publicKeyHex (:45-49);
 * publicKeyMultibase turned into a key by Utils.kt:125-137.
 */
function mosipExtractPublicKey(didDocument: JsonLdObject, didUrl: string): KeyObject {
  const methods = didDocument.verificationMethod;
  if (!Array.isArray(methods)) throw new MosipRuleError('PublicKeyNotFoundException');
  const method = (methods as JsonLdObject[]).find((m) => m.id === didUrl);
  if (!method) throw new MosipRuleError('PublicKeyResolutionFailedException');
  const keyType = String(method.type);
  if (typeof method.publicKeyMultibase !== 'string')
    throw new MosipRuleError('PublicKeyTypeNotSupportedException');
  // Utils.kt:127-131: base58 after the multibase prefix, the 2-byte multicodec header dropped, the
  // DER SPKI prefix added, KeyFactory for PUBLIC_KEY_ALGORITHM[type].
  const algorithm = PUBLIC_KEY_ALGORITHM[keyType];
  if (!algorithm) throw new MosipRuleError('PublicKeyNotFoundException');
  const raw = base58btcDecode(method.publicKeyMultibase.slice(1)).slice(2);
  return createPublicKey({
    key: Buffer.concat([Buffer.from(DER_PUBLIC_KEY_PREFIX, 'hex'), raw]),
    format: 'der',
    type: 'spki',
  });
}

/**
 * The proof's default context as ld-signatures-java builds the proof options: LDS
 * canonicalizer/URDNA2015Canonicalizer.java:24-28 (`defaultContexts(true)`, proof values removed)
 * with LDS LdProof.java:17 (`DEFAULT_JSONLD_CONTEXTS = { JSONLD_CONTEXT_W3ID_SECURITY_V3 }`), i.e.
 * `https://w3id.org/security/v3` (LDS jsonld/LDSecurityContexts.java:17, 38-39), read from the
 * bundled security-v3-unstable.jsonld. Only the term definitions our proof uses are written out
 * here, as that file has them at lines 4-5 and 73-133 (the Ed25519Signature2020 scoped context).
 */
const SECURITY_V3 = 'https://w3id.org/security/v3';
const SEC = 'https://w3id.org/security#';
const securityV3Subset = {
  '@context': {
    '@version': 1.1,
    id: '@id',
    type: '@type',
    Ed25519Signature2020: {
      '@id': `${SEC}Ed25519Signature2020`,
      '@context': {
        '@protected': true,
        id: '@id',
        type: '@type',
        created: {
          '@id': 'http://purl.org/dc/terms/created',
          '@type': 'http://www.w3.org/2001/XMLSchema#dateTime',
        },
        proofPurpose: {
          '@id': `${SEC}proofPurpose`,
          '@type': '@vocab',
          '@context': {
            '@version': 1.1,
            '@protected': true,
            id: '@id',
            type: '@type',
            assertionMethod: { '@id': `${SEC}assertionMethod`, '@type': '@id', '@container': '@set' },
          },
        },
        verificationMethod: { '@id': `${SEC}verificationMethod`, '@type': '@id' },
      },
    },
  },
};

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * VCV credentialverifier/verifier/LdpVerifier.kt:32-76 `verify` for a proof with `proofValue`
 * (:57-63): canonicalHashBytes (LDS URDNA2015Canonicalizer.java:38-49: SHA-256 of the URDNA2015
 * proof options ‖ SHA-256 of the URDNA2015 document without proof), the key from the proof's
 * verificationMethod (LdpVerifier.kt:45-46), the multibase-decoded proofValue verified with Ed25519
 * (signature/impl/ED25519SignatureVerifierImpl.kt:15-33).
 */
async function mosipVerify(
  credential: Credential,
  resolveDidDocument: (url: string) => Promise<JsonLdObject>,
  documentLoader: DocumentLoader,
): Promise<boolean> {
  const { proofValue, ...proofOptions } = credential.proof;
  const { proof: _proof, ...document } = credential;
  const options = {
    algorithm: 'URDNA2015',
    format: 'application/n-quads',
    documentLoader,
    safe: false,
  } as const;
  const canonicalProof = (await jsonld.canonize(
    { '@context': SECURITY_V3, ...proofOptions },
    options as never,
  )) as string;
  const canonicalDocument = (await jsonld.canonize(document, options as never)) as string;
  const data = Buffer.concat([sha256(canonicalProof), sha256(canonicalDocument)]);
  // PublicKeyResolverFactory.kt:14-20: a `did:` verification method goes to the DID resolver.
  const parsed = parseDidUrl(String(credential.proof.verificationMethod));
  if (parsed.method !== 'web') throw new Error('this test covers did:web only');
  const didDocument = await resolveDidDocument(mosipDidWebUrl(parsed.id));
  const key = mosipExtractPublicKey(didDocument, parsed.didUrl);
  // java-multibase Multibase.decode: `z` = base58btc.
  if (typeof proofValue !== 'string' || !proofValue.startsWith('z')) return false;
  return cryptoVerify(null, data, key, base58btcDecode(proofValue.slice(1)));
}

const getJson = async (url: string) => {
  const res = await request(url);
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode}`);
  return (await res.body.json()) as JsonLdObject;
};

describe('MOSIP vc-verifier (Inji Verify) profile: Ed25519Signature2020 credentials issued in demo mode', () => {
  let app: TestApp;
  let credential: Credential;
  let dataIntegrityCredential: Credential;
  /** The URL MOSIP's resolver builds, and the one this test fetches on the loopback service. */
  const fetched: string[] = [];
  // A deployment behind https on the default port (README, "Keys and key discovery") serves the
  // document at exactly the URL MOSIP builds. The test service listens on 127.0.0.1:<port> over
  // http, so its did:web carries `%3A<port>`, which MOSIP keeps in the host (DidWebPublicKeyResolver.kt:94-103);
  // the test therefore keeps MOSIP's path and swaps only scheme and authority for the loopback's.
  const resolveOverLoopback = async (mosipUrl: string) => {
    // Split by hand: a WHATWG URL parser refuses the `%3A` MOSIP leaves in the host.
    const match = /^https:\/\/([^/]+)(\/.*)$/.exec(mosipUrl);
    expect(match, mosipUrl).not.toBeNull();
    const local = `${new URL(app.url).origin}${match![2]}`;
    fetched.push(mosipUrl, local);
    return getJson(local);
  };
  /** The contexts: the standard ones from npm packages, ours fetched from the service, as MOSIP's loader would (VCV utils/Util.kt:52-60 enables http(s) loading). */
  let loader: DocumentLoader;
  const now = () => app.clock.now();

  const issue = async (configurationId: string): Promise<Credential> => {
    const offer = await request(`${app.url}/admin/credential-offers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${app.adminToken}`, 'content-type': 'application/json' },
      // A demo identity (src/kyc/demo-identities.json), seeded because the service runs in demo mode.
      body: JSON.stringify({
        credential_configuration_ids: [configurationId],
        individual_id: '2841650973',
        tx_code: false,
      }),
    });
    const body = (await offer.body.json()) as { credential_offer_url: string };
    expect(offer.statusCode, JSON.stringify(body)).toBe(201);
    const result = await receiveFromOffer({
      offerUrl: body.credential_offer_url,
      keys: [await newWalletKey('EdDSA')],
    });
    return result.credentials[0] as Credential;
  };

  beforeAll(async () => {
    app = await startTestApp({ env: { DEMO: 'on' }, overrides: { kyc: { scryptCost: 1024 } } });
    const packaged = createDocumentLoader({ publicUrl: 'https://unused.invalid' });
    const standard = new Set(packagedContextUrls());
    loader = async (url) => {
      if (standard.has(url)) return packaged(url);
      if (url === SECURITY_V3) return { contextUrl: null, documentUrl: url, document: securityV3Subset };
      if (url.startsWith(`${app.url}/contexts/`))
        return { contextUrl: null, documentUrl: url, document: await getJson(url) };
      throw new Error(`no document for ${url}`);
    };
    credential = await issue('NationalIdCredential_ldp_vc_ed25519_2020');
    dataIntegrityCredential = await issue('NationalIdCredential_ldp_vc');
  });
  afterAll(() => app?.stop());

  it('issues a VCDM 1.1 credential whose proof names the Ed25519VerificationKey2020 method of our did:web', async () => {
    const did = didWebFromUrl(app.url);
    expect(credential['@context']).toEqual([
      VC_V1,
      `${app.url}/contexts/claims-v1.jsonld`,
      'https://w3id.org/security/suites/ed25519-2020/v1',
    ]);
    expect(credential.type).toEqual(['VerifiableCredential', 'NationalIdCredential']);
    expect(credential.issuer).toBe(did);
    expect(parseDate(credential.issuanceDate)).toBeDefined();
    expect(credential.validFrom).toBeUndefined();
    expect(credential.credentialStatus).toBeUndefined();
    expect(credential.credentialSubject.id).toMatch(/^did:/);
    expect(credential.proof).toMatchObject({
      type: 'Ed25519Signature2020',
      proofPurpose: 'assertionMethod',
      verificationMethod: expect.stringMatching(new RegExp(`^${did}#.+-ed25519-2020$`)),
      proofValue: expect.stringMatching(/^z/),
    });
  });

  it('passes the vc-verifier validation rules (Data Model 1.1, accepted proof type, dates on the test clock)', () => {
    expect(mosipValidate(credential, now())).toBe('');
    // The default configuration (VCDM 2.0, DataIntegrityProof eddsa-rdfc-2022) is what it refuses.
    expect(mosipValidate(dataIntegrityCredential, now())).toBe('ERR_INVALID_@CONTEXT');
    expect(
      mosipValidate(
        { ...dataIntegrityCredential, '@context': [VC_V1], issuanceDate: credential.issuanceDate },
        now(),
      ),
    ).toBe('ERR_INVALID_PROOF_TYPE');
    // DateUtils.kt:64-68, on the test's clock: an issuanceDate more than 3 s ahead is refused.
    expect(mosipValidate(credential, Date.parse(credential.issuanceDate) - 60_000)).toBe(
      'ERR_ISSUANCE_DATE_IS_FUTURE_DATE',
    );
  });

  it('resolves the key from our DID document over HTTP as the vc-verifier does and verifies the signature', async () => {
    fetched.length = 0;
    expect(await mosipVerify(credential, resolveOverLoopback, loader)).toBe(true);
    const port = new URL(app.url).port;
    // What MOSIP's resolver asks for (with the port left %3A-encoded in the host) and what was fetched.
    expect(fetched).toEqual([
      `https://127.0.0.1%3A${port}/.well-known/did.json`,
      `${new URL(app.url).origin}/.well-known/did.json`,
    ]);
  });

  it('maps a deployed did:web to the URL our service publishes its DID document at (https, no port, path)', () => {
    for (const publicUrl of [
      'https://id.example.gov',
      'https://id.example.gov/issuer',
      'https://example.org/a/b',
    ]) {
      const { id } = parseDidUrl(`${didWebFromUrl(publicUrl)}#key`);
      expect(mosipDidWebUrl(id)).toBe(didDocumentUrl(publicUrl));
    }
    // A port cannot work: MOSIP keeps the percent-encoded port in the host.
    const { id } = parseDidUrl(didWebFromUrl('https://id.example.gov:8443/issuer'));
    expect(mosipDidWebUrl(id)).toBe('https://id.example.gov%3A8443/issuer/did.json');
    expect(didDocumentUrl('https://id.example.gov:8443/issuer')).not.toBe(mosipDidWebUrl(id));
  });

  it('rejects a tampered credential under the vc-verifier rules', async () => {
    const tampered = structuredClone(credential);
    tampered.credentialSubject.givenName = 'Someone Else';
    expect(mosipValidate(tampered, now())).toBe('');
    expect(await mosipVerify(tampered, resolveOverLoopback, loader)).toBe(false);
  });

  it('would find no key in a DID document that lists the key only as a Multikey', async () => {
    const published = await getJson(`${app.url}/.well-known/did.json`);
    const method = (published.verificationMethod as JsonLdObject[]).find(
      (m) => m.id === credential.proof.verificationMethod,
    )!;
    expect(method.type).toBe('Ed25519VerificationKey2020');
    expect(published.assertionMethod).toContain(method.id);
    // The same key, the same id, typed Multikey (what the DID document had before).
    const multikeyOnly = { ...published, verificationMethod: [{ ...method, type: 'Multikey' }] };
    expect(() => mosipExtractPublicKey(multikeyOnly, String(method.id))).toThrow(
      'PublicKeyNotFoundException',
    );
    await expect(mosipVerify(credential, async () => multikeyOnly, loader)).rejects.toThrow(
      'PublicKeyNotFoundException',
    );
    // The eddsa-rdfc-2022 credential's method is a Multikey in the published document.
    const dataIntegrityMethod = String(dataIntegrityCredential.proof.verificationMethod);
    expect(() => mosipExtractPublicKey(published, dataIntegrityMethod)).toThrow('PublicKeyNotFoundException');
  });

  describe('@digitalbazaar/vc with the Ed25519Signature2020 suite, DID document from the service', () => {
    let verifierLoader: DocumentLoader;
    beforeAll(async () => {
      const did = String(credential.issuer);
      // did:web §3.3 over the loopback's http (the document itself comes from the running service).
      const didDoc = await getJson(`${new URL(app.url).origin}/.well-known/did.json`);
      expect(didDoc.id).toBe(did);
      const standard = createDocumentLoader({
        publicUrl: app.url,
        resolveDid: (d) => (d === did ? didDoc : undefined),
      });
      verifierLoader = async (url) => (url.startsWith(`${app.url}/contexts/`) ? loader(url) : standard(url));
    });

    it('verifies the credential', async () => {
      const result = await vc.verifyCredential({
        credential,
        suite: new Ed25519Signature2020(),
        documentLoader: verifierLoader,
        now: new Date(now()),
      });
      expect(result.error).toBeUndefined();
      expect(result.verified).toBe(true);
    });

    it('refuses the tampered credential', async () => {
      const tampered = structuredClone(credential);
      tampered.credentialSubject.birthdate = '1970-01-01';
      const result = await vc.verifyCredential({
        credential: tampered,
        suite: new Ed25519Signature2020(),
        documentLoader: verifierLoader,
        now: new Date(now()),
      });
      expect(result.verified).toBe(false);
    });
  });
});
