import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite as ecdsaRdfc2019 } from '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import { Ed25519Signature2020 } from '@digitalbazaar/ed25519-signature-2020';
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';
import { didJwkFromJwk } from '../../crypto/did.ts';
import { es256Sign } from '../../crypto/ecdsa.ts';
import { didWebFromUrl, ed25519VerificationKey2020Id, verificationMethodId } from '../../keys/documents.ts';
import type { KeyAlgorithm, ManagedKey } from '../../keys/spi.ts';
import {
  createDocumentLoader,
  type DocumentLoader,
  ED25519_2020_CONTEXT,
  type JsonLdObject,
  STATUS_LIST_V1_CONTEXT,
  VC_V1_CONTEXT,
  VC_V2_CONTEXT,
} from '../jsonld/document-loader.ts';
import { xsdDateTime } from '../jsonld/xsd.ts';
import { createLdpVcFastPath, type LdpVcFastPath } from './ldp-vc-fast.ts';
import type { CredentialFormat, FormatBaseDeps, FormatProfile, IssueRequest } from './types.ts';

/**
 * `ldp_vc`: W3C VCDM 2.0 + Data Integrity (`eddsa-rdfc-2022`, `ecdsa-rdfc-2019`) or VCDM 1.1 +
 * `Ed25519Signature2020`, signed with `@digitalbazaar/vc`. The fast path (ldp-vc-fast.ts) produces
 * byte-identical output for all three and falls back here for any shape it has not proven safe.
 */

export type LdpCryptosuite = NonNullable<FormatProfile['cryptosuite']>;

export const SUITE_ALG: Record<LdpCryptosuite, KeyAlgorithm> = {
  'eddsa-rdfc-2022': 'EdDSA',
  'ecdsa-rdfc-2019': 'ES256',
  Ed25519Signature2020: 'EdDSA',
};

/** A deep copy of JSON data (claims): much cheaper than structuredClone for small objects. */
function cloneJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  if (value && typeof value === 'object') {
    if (Object.getPrototypeOf(value) !== Object.prototype) return structuredClone(value);
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) out[k] = cloneJson((value as Record<string, unknown>)[k]);
    return out as T;
  }
  return value;
}

export { xsdDateTime };

/** Everything that identifies the signer of one credential. */
export interface SigningContext {
  issuerDid: string;
  verificationMethod: string;
  key: ManagedKey;
}

/** The unsigned credential, exactly as both paths sign it. Pure: a fresh object every call. */
export function buildUnsignedCredential(req: IssueRequest, issuerDid: string): JsonLdObject {
  const suite = req.profile.cryptosuite ?? 'eddsa-rdfc-2022';
  const v1 = suite === 'Ed25519Signature2020';
  const statuses = (req.status ?? []).filter((s) => s.kind === 'bitstring');
  const contexts = [v1 ? VC_V1_CONTEXT : VC_V2_CONTEXT, ...req.profile.contexts];
  // VCDM 2.0's context defines BitstringStatusListEntry; 1.1's does not.
  if (v1 && statuses.length > 0 && !contexts.includes(STATUS_LIST_V1_CONTEXT))
    contexts.push(STATUS_LIST_V1_CONTEXT);
  if (v1 && !contexts.includes(ED25519_2020_CONTEXT)) contexts.push(ED25519_2020_CONTEXT);

  const credential: JsonLdObject = { '@context': contexts };
  if (req.credentialId !== undefined) credential.id = req.credentialId;
  credential.type = ['VerifiableCredential', ...req.profile.types];
  credential.issuer = issuerDid;
  if (v1) {
    credential.issuanceDate = xsdDateTime(req.validFrom);
    if (req.validUntil) credential.expirationDate = xsdDateTime(req.validUntil);
  } else {
    credential.validFrom = xsdDateTime(req.validFrom);
    if (req.validUntil) credential.validUntil = xsdDateTime(req.validUntil);
  }
  const subject: JsonLdObject = {};
  const holderDid = req.holder ? (req.holder.did ?? didJwkFromJwk(req.holder.jwk)) : undefined;
  if (holderDid) subject.id = holderDid;
  // A copy: vc.issue and callers must never share mutable claim objects.
  Object.assign(subject, cloneJson(req.claims));
  credential.credentialSubject = subject;
  if (statuses.length > 0) {
    const entries = statuses.map((s) => ({
      id: `${s.listCredentialUrl}#${s.index}`,
      type: 'BitstringStatusListEntry',
      statusPurpose: s.purpose,
      statusListIndex: String(s.index),
      statusListCredential: s.listCredentialUrl,
    }));
    credential.credentialStatus = entries.length === 1 ? entries[0] : entries;
  }
  return credential;
}

/** A Data Integrity signer over a ready KeyObject (no per-signature key import: KNOWN-TRAPS). */
export function keyObjectSigner(id: string, alg: KeyAlgorithm, privateKey: KeyObject): LdSigner {
  if (alg === 'EdDSA') {
    return { id, algorithm: 'Ed25519', sign: async ({ data }) => cryptoSign(null, data, privateKey) };
  }
  if (alg === 'ES256') {
    return {
      id,
      algorithm: 'P-256',
      // ecdsa-rdfc-2019 uses the IEEE P1363 (r‖s) signature encoding.
      sign: async ({ data }) => es256Sign(privateKey, data),
    };
  }
  throw new TypeError(`no Data Integrity signer for ${alg}`);
}

/**
 * A Data Integrity signer through the key's own `sign` (in-process or PKCS#11): the fast path and
 * the library path both hand it the hash input. Ed25519 signs it raw; ecdsa-rdfc-2019 wants ECDSA
 * over SHA-256 in IEEE P1363 (r‖s), which is what ManagedKey.sign returns for ES256.
 */
export function managedKeySigner(id: string, key: ManagedKey): LdSigner {
  const sign = key.sign;
  if (key.alg === 'EdDSA') return { id, algorithm: 'Ed25519', sign: async ({ data }) => sign(data) };
  if (key.alg === 'ES256') return { id, algorithm: 'P-256', sign: async ({ data }) => sign(data) };
  throw new TypeError(`no Data Integrity signer for ${key.alg}`);
}

/** The stock suite object for one credential (`date` is per credential, so suites are not shared). */
export function createSuite(cryptosuite: LdpCryptosuite, signer: LdSigner, created: Date): unknown {
  if (cryptosuite === 'Ed25519Signature2020') return new Ed25519Signature2020({ signer, date: created });
  const suite = cryptosuite === 'ecdsa-rdfc-2019' ? ecdsaRdfc2019 : eddsaRdfc2022;
  return new DataIntegrityProof({ signer, date: created, cryptosuite: suite });
}

/** The full JSON-LD path through `@digitalbazaar/vc` (also the fast path's fallback and oracle). */
export async function issueWithLibrary(
  unsigned: JsonLdObject,
  cryptosuite: LdpCryptosuite,
  signer: LdSigner,
  created: Date,
  documentLoader: DocumentLoader,
): Promise<JsonLdObject> {
  // vc.issue mutates its input (KNOWN-TRAPS): sign a clone.
  const credential = structuredClone(unsigned);
  return vc.issue({ credential, suite: createSuite(cryptosuite, signer, created), documentLoader });
}

/**
 * The verification method a proof names: Data Integrity proofs point at the key's Multikey method;
 * Ed25519Signature2020 proofs at its Ed25519VerificationKey2020 method, the type that suite defines
 * and that verifiers built for it (the MOSIP vc-verifier) require.
 */
export function proofMethodId(publicUrl: string, kid: string, cryptosuite: LdpCryptosuite): string {
  return cryptosuite === 'Ed25519Signature2020'
    ? ed25519VerificationKey2020Id(publicUrl, kid)
    : verificationMethodId(publicUrl, kid);
}

export interface LdpVcOptions {
  /** Use the template fast path for Data Integrity suites (default true). */
  fastPath?: boolean;
  documentLoader?: DocumentLoader;
}

export function createLdpVcFormat(deps: FormatBaseDeps, options: LdpVcOptions = {}): CredentialFormat {
  const issuerDid = didWebFromUrl(deps.publicUrl);
  const documentLoader = options.documentLoader ?? createDocumentLoader({ publicUrl: deps.publicUrl });
  const fast: LdpVcFastPath | undefined =
    options.fastPath === false ? undefined : createLdpVcFastPath({ documentLoader });
  // One signer per key and suite, built once (keys rotate: the cache is keyed by kid).
  const signers = new Map<string, LdSigner>();
  const signerFor = (key: ManagedKey, cryptosuite: LdpCryptosuite): LdSigner => {
    const cacheKey = `${cryptosuite}|${key.kid}`;
    let signer = signers.get(cacheKey);
    if (!signer) {
      signer = managedKeySigner(proofMethodId(deps.publicUrl, key.kid, cryptosuite), key);
      signers.set(cacheKey, signer);
    }
    return signer;
  };

  return {
    id: 'ldp_vc',
    async issue(req: IssueRequest): Promise<JsonLdObject> {
      const cryptosuite = req.profile.cryptosuite ?? 'eddsa-rdfc-2022';
      const key = deps.keys.active('credential', SUITE_ALG[cryptosuite]);
      const signer = signerFor(key, cryptosuite);
      const unsigned = buildUnsignedCredential(req, issuerDid);
      // `created` = the rounded validFrom: the proof must not reveal the issuance instant (SECURITY.md row 36).
      const created = req.validFrom;
      if (fast) {
        const result = await fast.sign(unsigned, {
          cryptosuite,
          signer,
          created,
        });
        if (result) return result.credential;
      }
      return issueWithLibrary(unsigned, cryptosuite, signer, created, documentLoader);
    },
  };
}
