import { describe, expect, it } from 'vitest';
import {
  createDocumentLoader,
  listOwnContexts,
  ownContextUrl,
  packagedContextUrls,
  UnknownContext,
} from '../../src/credentials/jsonld/document-loader.ts';

const publicUrl = 'https://issuer.example:8443/vc';

const REQUIRED = [
  'https://www.w3.org/2018/credentials/v1',
  'https://www.w3.org/ns/credentials/v2',
  'https://w3id.org/security/data-integrity/v1',
  'https://w3id.org/security/data-integrity/v2',
  'https://w3id.org/security/multikey/v1',
  'https://w3id.org/security/v2',
  'https://w3id.org/security/suites/ed25519-2020/v1',
  'https://www.w3.org/ns/credentials/status/v1',
  'https://www.w3.org/ns/did/v1',
];

const didDoc = {
  '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
  id: 'did:web:issuer.example%3A8443:vc',
  verificationMethod: [
    {
      id: 'did:web:issuer.example%3A8443:vc#k1',
      type: 'Multikey',
      controller: 'did:web:issuer.example%3A8443:vc',
      publicKeyMultibase: 'z6MkTest',
    },
  ],
  assertionMethod: ['did:web:issuer.example%3A8443:vc#k1'],
};

describe('offline JSON-LD document loader', () => {
  const loader = createDocumentLoader({
    publicUrl,
    resolveDid: (did) => (did === didDoc.id ? didDoc : undefined),
    extraDocuments: { 'https://example.test/extra/v1': { '@context': { x: 'https://example.test/x' } } },
  });

  it('serves every packaged context the credentials and DID documents use', async () => {
    expect(packagedContextUrls()).toEqual(expect.arrayContaining(REQUIRED));
    for (const url of REQUIRED) {
      const { document, documentUrl } = await loader(url);
      expect(documentUrl).toBe(url);
      expect(document['@context']).toBeTruthy();
    }
  });

  it('serves our claims context at the public URL with the vocabulary filled in', async () => {
    const url = ownContextUrl(publicUrl, 'claims-v1');
    expect(url).toBe('https://issuer.example:8443/vc/contexts/claims-v1.jsonld');
    const { document } = await loader(url);
    const ctx = document['@context'] as Record<string, unknown>;
    expect(ctx['@protected']).toBe(true);
    expect(ctx.fullName).toBe('https://issuer.example:8443/vc/vocab#fullName');
    expect(JSON.stringify(document)).not.toContain('{{');
  });

  it('lists our contexts for the HTTP layer with path, URL and document', () => {
    const own = listOwnContexts(`${publicUrl}/`);
    const claims = own.find((c) => c.name === 'claims-v1');
    expect(claims).toMatchObject({
      path: '/contexts/claims-v1.jsonld',
      url: 'https://issuer.example:8443/vc/contexts/claims-v1.jsonld',
    });
  });

  it('rejects any other URL with unknown_context instead of fetching it', async () => {
    for (const url of [
      'https://schema.org/',
      'https://evil.example/ctx',
      'http://127.0.0.1/contexts/x',
      'did:web:other.example',
    ]) {
      await expect(loader(url)).rejects.toMatchObject({ code: 'unknown_context', url });
    }
    await expect(loader('https://example.test/nope')).rejects.toBeInstanceOf(UnknownContext);
    expect(() => ownContextUrl(publicUrl, 'missing-v9')).toThrow(UnknownContext);
  });

  it('serves extra documents given at construction', async () => {
    const { document } = await loader('https://example.test/extra/v1');
    expect(document['@context']).toEqual({ x: 'https://example.test/x' });
  });

  it('resolves our DID to its DID document with the DID context first', async () => {
    const { document } = await loader(didDoc.id);
    expect(document).toBe(didDoc);
    expect((document['@context'] as string[])[0]).toBe('https://www.w3.org/ns/did/v1');
  });

  it('dereferences a verification method URL to a Multikey document with its context', async () => {
    const { document } = await loader('did:web:issuer.example%3A8443:vc#k1');
    expect(document).toEqual({
      '@context': 'https://w3id.org/security/multikey/v1',
      id: 'did:web:issuer.example%3A8443:vc#k1',
      type: 'Multikey',
      controller: 'did:web:issuer.example%3A8443:vc',
      publicKeyMultibase: 'z6MkTest',
    });
    await expect(loader('did:web:issuer.example%3A8443:vc#nope')).rejects.toMatchObject({
      code: 'unknown_context',
    });
  });
});
