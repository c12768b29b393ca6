import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite as ecdsaRdfc2019 } from '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import { Ed25519Signature2020 } from '@digitalbazaar/ed25519-signature-2020';
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';
import { createDocumentLoader, type JsonLdObject } from '../../src/credentials/jsonld/document-loader.ts';
import { didDocument, didWebFromUrl } from '../../src/keys/documents.ts';
import type { KeyStore } from '../../src/keys/spi.ts';

/** A verifier-side loader: the offline contexts plus our DID document as the service publishes it. */
export function verifierLoader(keys: KeyStore, publicUrl: string) {
  const did = didWebFromUrl(publicUrl);
  return createDocumentLoader({
    publicUrl,
    resolveDid: (id) => (id === did ? didDocument(keys.published('credential'), publicUrl) : undefined),
  });
}

/**
 * Stands in for the status list fetch: checks that each entry has the Bitstring Status List shape
 * (https://www.w3.org/TR/vc-bitstring-status-list/#bitstringstatuslistentry) and is not revoked.
 */
export async function checkStatusShape({ credential }: { credential: JsonLdObject }) {
  const raw = credential.credentialStatus;
  const entries = (Array.isArray(raw) ? raw : [raw]) as JsonLdObject[];
  for (const e of entries) {
    const ok =
      e.type === 'BitstringStatusListEntry' &&
      (e.statusPurpose === 'revocation' || e.statusPurpose === 'suspension') &&
      typeof e.statusListIndex === 'string' &&
      /^\d+$/.test(e.statusListIndex) &&
      typeof e.statusListCredential === 'string' &&
      e.id === `${e.statusListCredential}#${e.statusListIndex}`;
    if (!ok) return { verified: false, error: new Error(`bad status entry ${JSON.stringify(e)}`) };
  }
  return { verified: true };
}

const verifierSuites = () => [
  new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }),
  new DataIntegrityProof({ cryptosuite: ecdsaRdfc2019 }),
  new Ed25519Signature2020(),
];

/** Verifies with the stock @digitalbazaar/vc verifier, its status hook included. */
export async function verifyWithLibrary(
  credential: JsonLdObject,
  documentLoader: DocumentLoader,
  now: Date,
): Promise<{ verified: boolean; error?: unknown }> {
  return vc.verifyCredential({
    credential,
    suite: verifierSuites(),
    documentLoader,
    checkStatus: checkStatusShape,
    now,
  });
}
