import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseIssuerSigned, type VerificationAssessment, Verifier } from '@animo-id/mdoc';
import { Ed25519Signature2020 } from '@digitalbazaar/ed25519-signature-2020';
import * as vc from '@digitalbazaar/vc';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { createDocumentLoader } from '../../../src/credentials/jsonld/document-loader.ts';
import type { KeyRecord } from '../../../src/keys/key-store.ts';
import { KEYS_COLLECTION } from '../../../src/keys/key-store.ts';
import { KeyNotExportable, type KeyPurpose } from '../../../src/keys/spi.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { mdocContext } from '../../helpers/mdoc-context.ts';
import { softHsmToken } from '../../helpers/softhsm.ts';
import { verifyJwtVc, verifyLdpVc } from '../../interop/verifiers.ts';
import { obtainCode, redeem, registerClient, startOidcApp } from '../oidc/helpers.ts';
import { holderKey, preAuthorizedCode, proofJwt, startVci, type VciHarness } from './harness.ts';

/**
 * The PKCS#11 key store against a SoftHSM2 token made for this run (issue 15): credential and OIDC
 * keys are generated in the token and sign through it; every format is verified by independent
 * verifiers that know only what the service publishes; the store holds no private material for
 * them; a restart finds the same keys by id.
 */

// Before any service loads the module: SoftHSM reads SOFTHSM2_CONF at C_Initialize.
const token = softHsmToken();
afterAll(() => token.remove());

const HSM_PURPOSES: KeyPurpose[] = ['credential', 'oidc'];

/** A session of our own on the test token, to ask it what it holds (login state is per process). */
function tokenSession() {
  const module = new pkcs11js.PKCS11();
  module.load(token.module);
  try {
    module.C_Initialize();
  } catch (error) {
    if (!String((error as Error).message).includes('CKR_CRYPTOKI_ALREADY_INITIALIZED')) throw error;
  }
  const slot = module.C_GetSlotList(true).find((s) => module.C_GetTokenInfo(s).label.trim() === token.label)!;
  const session = module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
  try {
    module.C_Login(session, pkcs11js.CKU_USER, token.pin);
  } catch (error) {
    if (!String((error as Error).message).includes('CKR_USER_ALREADY_LOGGED_IN')) throw error;
  }
  const find = (template: pkcs11js.Template) => {
    module.C_FindObjectsInit(session, template);
    const found = module.C_FindObjects(session, 10);
    module.C_FindObjectsFinal(session);
    return found;
  };
  return { module, session, find, close: () => module.C_CloseSession(session) };
}

const flag = (value: Buffer) => value[0] === 1;

/**
 * The VCDM 1.1 Ed25519Signature2020 credential (not among verifyLdpVc's suites): @digitalbazaar/vc
 * with that suite, the DID document and the status list fetched from the service, the list itself
 * verified by verifyLdpVc.
 */
async function verifyEd25519Signature2020(credential: any, publicUrl: string, now: Date) {
  const did = String(credential.issuer?.id ?? credential.issuer);
  const didDoc = (await (await fetch(`${new URL(publicUrl).origin}/.well-known/did.json`)).json()) as any;
  expect(didDoc.id).toBe(did);
  const documentLoader = createDocumentLoader({
    publicUrl,
    resolveDid: (d) => (d === did ? didDoc : undefined),
  });
  return vc.verifyCredential({
    credential,
    suite: new Ed25519Signature2020(),
    documentLoader,
    now,
    checkStatus: async ({ credential: c }: { credential: any }) => {
      const entries = Array.isArray(c.credentialStatus) ? c.credentialStatus : [c.credentialStatus];
      for (const entry of entries) {
        const list = (await (await fetch(entry.statusListCredential)).json()) as any;
        const listResult = await verifyLdpVc(list, publicUrl, now);
        if (!listResult.verified) return { verified: false, error: new Error('status list does not verify') };
        const bits = gunzipSync(
          Buffer.from(String(list.credentialSubject.encodedList).slice(1), 'base64url'),
        );
        const index = Number(entry.statusListIndex);
        if ((bits[Math.floor(index / 8)]! >> (7 - (index % 8))) & 1)
          return { verified: false, error: new Error('revoked') };
      }
      return { verified: true };
    },
  });
}

describe('PKCS#11 key store: issuance (SoftHSM2)', () => {
  let h: VciHarness;
  beforeAll(async () => {
    h = await startVci({ overrides: { keys: { pkcs11: token.config } } });
  });
  afterAll(() => h?.stop());

  const now = () => new Date(h.app.clock.now());

  it('generates credential and OIDC keys in the token, keeps ECDH-ES keys in the store', async () => {
    const { keys } = h.app.services;
    for (const purpose of HSM_PURPOSES) {
      const published = keys.published(purpose);
      expect(published.length).toBe(2);
      for (const key of published) {
        expect(key.backend, `${purpose} ${key.alg}`).toBe('pkcs11');
        expect(() => key.privateKey).toThrow(KeyNotExportable);
      }
    }
    expect(keys.published('encryption').map((k) => k.backend)).toEqual(['software']);
    // The PIN came from the configuration and went nowhere else.
    expect(h.app.logs.length).toBeGreaterThan(0);
    expect(JSON.stringify(h.app.logs)).not.toContain(token.pin);
  });

  it('stores no private key material for token keys; the token holds them sensitive and never extractable', async () => {
    const records = await h.app.services.store.collection<KeyRecord>(KEYS_COLLECTION).find({});
    const inToken = records.filter((r) => HSM_PURPOSES.includes(r.purpose));
    expect(inToken.map((r) => `${r.purpose}:${r.alg}`).sort()).toEqual([
      'credential:ES256',
      'credential:EdDSA',
      'oidc:ES256',
      'oidc:RS256',
    ]);
    const session = tokenSession();
    try {
      for (const record of inToken) {
        // The record: metadata, a reference and the public JWK; nothing else.
        expect(record.privateKey, record.kid).toBeUndefined();
        expect(record.vault).toEqual({ backend: 'pkcs11', id: record.kid });
        expect(
          Object.keys(record.publicJwk).filter((m) => ['d', 'p', 'q', 'dp', 'dq', 'qi'].includes(m)),
        ).toEqual([]);
        const [privateKey, ...more] = session.find([
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
          { type: pkcs11js.CKA_ID, value: Buffer.from(record.kid) },
        ]);
        expect(privateKey, record.kid).toBeDefined();
        expect(more).toEqual([]);
        const [sensitive, extractable, alwaysSensitive, neverExtractable, label] =
          session.module.C_GetAttributeValue(session.session, privateKey!, [
            { type: pkcs11js.CKA_SENSITIVE },
            { type: pkcs11js.CKA_EXTRACTABLE },
            { type: pkcs11js.CKA_ALWAYS_SENSITIVE },
            { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
            { type: pkcs11js.CKA_LABEL },
          ]);
        expect(
          [sensitive, extractable, alwaysSensitive, neverExtractable].map((a) => flag(a!.value)),
        ).toEqual([true, false, true, true]);
        expect(label!.value.toString()).toBe(record.kid);
        // The module itself refuses to reveal the private value.
        const secret = record.alg === 'RS256' ? pkcs11js.CKA_PRIVATE_EXPONENT : pkcs11js.CKA_VALUE;
        expect(() =>
          session.module.C_GetAttributeValue(session.session, privateKey!, [{ type: secret }]),
        ).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
      }
      // The ECDH-ES key is the only one with an (encrypted) private key in the store.
      expect(records.filter((r) => r.privateKey).map((r) => r.purpose)).toEqual(['encryption']);
    } finally {
      session.close();
    }
  });

  it('issues every advertised configuration through the token, each verified independently', async () => {
    const who = await h.person();
    const metadataRes = await fetch(`${h.url}/.well-known/openid-credential-issuer`);
    const metadata = (await metadataRes.json()) as any;
    const ids = Object.keys(metadata.credential_configurations_supported);
    const formats = new Set(ids.map((id) => metadata.credential_configurations_supported[id].format));
    expect([...formats].sort()).toEqual(['dc+sd-jwt', 'jwt_vc_json', 'ldp_vc', 'mso_mdoc']);
    const offer = await h.offer(ids, who.individualId);
    const tokenRes = await h.token(preAuthorizedCode(offer));
    expect(tokenRes.status, JSON.stringify(tokenRes.body)).toBe(200);
    const iaca = new X509Certificate(await (await fetch(`${h.url}/.well-known/iaca.pem`)).text());
    const kids = new Set(h.app.services.keys.published('credential').map((k) => k.kid));
    // A kid, or a DID URL whose fragment is a kid (`#<kid>` or `#<kid>-jwk`): signed by a token key.
    const namesKey = (id: unknown) => {
      const fragment = String(id).split('#').pop()!;
      return kids.has(fragment) || kids.has(fragment.replace(/-jwk$/, ''));
    };
    const verified: string[] = [];
    for (const id of ids) {
      const configuration = metadata.credential_configurations_supported[id];
      const holder = await holderKey('ES256');
      const res = await h.post(
        '/credential',
        {
          credential_configuration_id: id,
          proofs: {
            jwt: [
              await proofJwt(holder, h.url, await h.nonce(), { iat: Math.floor(h.app.clock.now() / 1000) }),
            ],
          },
        },
        { authorization: `Bearer ${tokenRes.body.access_token}` },
      );
      expect(res.status, `${id}: ${JSON.stringify(res.body)}`).toBe(200);
      const credential = res.body.credentials[0].credential;
      if (credential.proof?.type === 'Ed25519Signature2020') {
        const result = await verifyEd25519Signature2020(credential, h.url, now());
        expect(result.error).toBeUndefined();
        expect(result.verified).toBe(true);
      } else if (configuration.format === 'ldp_vc') {
        const result = await verifyLdpVc(credential, h.url, now());
        expect(result.verified, `${id}: ${String(result.error)}`).toBe(true);
        expect(result.revoked).toBe(false);
        expect(namesKey(credential.proof.verificationMethod)).toBe(true);
      } else if (configuration.format === 'jwt_vc_json') {
        const { protectedHeader } = await verifyJwtVc(credential, h.url, now());
        expect(namesKey(protectedHeader.kid)).toBe(true);
      } else if (configuration.format === 'dc+sd-jwt') {
        const issuerJwt = String(credential).split('~')[0]!;
        const { protectedHeader, payload } = await verifyJwtVc(issuerJwt, h.url, now());
        expect(namesKey(protectedHeader.kid)).toBe(true);
        expect((payload.cnf as any).jwk).toMatchObject({ x: holder.jwk.x, y: holder.jwk.y });
      } else {
        const document = parseIssuerSigned(Buffer.from(credential, 'base64url'), configuration.doctype);
        const checks: VerificationAssessment[] = [];
        const context = mdocContext(now);
        const verifier = new Verifier();
        await verifier.verifyIssuerSignature(
          {
            trustedCertificates: [new Uint8Array(iaca.raw)],
            issuerAuth: document.issuerSigned.issuerAuth,
            now: now(),
            disableCertificateChainValidation: false,
            onCheckG: (check) => checks.push(check),
          },
          context,
        );
        await verifier.verifyData({ mdoc: document, onCheckG: (check) => checks.push(check) }, context);
        expect(checks.length).toBeGreaterThan(0);
        expect(checks.filter((c) => c.status === 'FAILED')).toEqual([]);
      }
      verified.push(configuration.format);
    }
    expect(new Set(verified)).toEqual(formats);

    // The signed issuer metadata (ES256 credential key) signs through the token too.
    const signed = metadata.signed_metadata as string;
    expect(typeof signed).toBe('string');
    const { payload } = await verifyJwtVc(signed, h.url, now());
    expect(payload.iss).toBe(h.url);
  });

  it('rotates credential keys inside the token; credentials signed before still verify', async () => {
    const who = await h.person();
    const id = 'NationalIdCredential_jwt_vc_json';
    const offer = await h.offer([id], who.individualId);
    const access = (await h.token(preAuthorizedCode(offer))).body.access_token as string;
    const issue = async () => {
      const res = await h.post(
        '/credential',
        {
          credential_configuration_id: id,
          proofs: {
            jwt: [
              await proofJwt(await holderKey(), h.url, await h.nonce(), {
                iat: Math.floor(h.app.clock.now() / 1000),
              }),
            ],
          },
        },
        { authorization: `Bearer ${access}` },
      );
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.credentials[0].credential as string;
    };
    const before = await issue();
    const old = h.app.services.keys.active('credential', 'ES256');
    const rotated = await h.admin('POST', '/keys/rotate?purpose=credential');
    expect(rotated.status).toBe(201);
    const fresh = h.app.services.keys.active('credential', 'ES256');
    expect(fresh.kid).not.toBe(old.kid);
    expect(fresh.backend).toBe('pkcs11');
    expect(h.app.services.keys.find(old.kid)?.status).toBe('retired');
    const after = await issue();
    expect(String(decodeProtectedHeader(after).kid)).toContain(fresh.kid);
    for (const jwt of [before, after]) await verifyJwtVc(jwt, h.url, now());
    const records = await h.app.services.store.collection<KeyRecord>(KEYS_COLLECTION).find({});
    expect(records.filter((r) => r.purpose === 'credential' && r.privateKey)).toEqual([]);
  });
});

describe('PKCS#11 key store: OIDC signing through the module (SoftHSM2)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startOidcApp({ overrides: { keys: { pkcs11: token.config } } });
  });
  afterAll(() => app?.stop());

  it('signs ID tokens (RS256 and ES256) and userinfo JWTs with token keys the provider publishes', async () => {
    const jwks = createRemoteJWKSet(new URL(`${app.url}/jwks`));
    const published = (await (await fetch(`${app.url}/jwks`)).json()) as { keys: Record<string, unknown>[] };
    const oidcKeys = app.services.keys.published('oidc');
    expect(oidcKeys.every((k) => k.backend === 'pkcs11')).toBe(true);
    expect(published.keys.map((k) => k.kid).sort()).toEqual(oidcKeys.map((k) => k.kid).sort());
    for (const k of published.keys)
      expect(Object.keys(k).filter((m) => ['d', 'p', 'q'].includes(m))).toEqual([]);
    for (const alg of ['RS256', 'ES256']) {
      const client = await registerClient(app, {
        id_token_signed_response_alg: alg,
        userinfo_signed_response_alg: alg,
      });
      const { code, verifier, nonce } = await obtainCode(app, client, {
        acr_values: 'mosip:idp:acr:static-code',
        claims: { userinfo: { name: { essential: true } } },
      });
      const tokens = await redeem(app, client, code, verifier);
      expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
      const currentDate = new Date(app.clock.now());
      const idToken = await jwtVerify(tokens.body.id_token, jwks, {
        issuer: app.url,
        audience: client.clientId,
        currentDate,
      });
      expect(idToken.protectedHeader.alg).toBe(alg);
      expect(oidcKeys.find((k) => k.kid === idToken.protectedHeader.kid)?.alg).toBe(alg);
      expect(idToken.payload.nonce).toBe(nonce);
      const userinfo = await fetch(`${app.url}/userinfo`, {
        headers: { authorization: `Bearer ${tokens.body.access_token}` },
      });
      expect(userinfo.status).toBe(200);
      const claims = await jwtVerify(await userinfo.text(), jwks, { issuer: app.url, currentDate });
      expect(claims.payload.name).toBe('Layla Mansour');
      expect(decodeProtectedHeader(tokens.body.id_token).kid).toBe(claims.protectedHeader.kid);
    }
  });
});

describe('PKCS#11 key store: restart (SoftHSM2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'issuer-pkcs11-restart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const start = () =>
    startTestApp({
      env: { KEY_ENCRYPTION_SECRET: 'a-fixed-secret-for-the-restart-test-0123456789' },
      overrides: {
        store: { embeddedFile: join(dir, 'issuer.db') },
        keys: { pkcs11: token.config },
      },
    });
  const kidsOf = (app: TestApp) =>
    (['credential', 'oidc', 'encryption'] as const).flatMap((purpose) =>
      app.services.keys.published(purpose).map((k) => `${purpose}:${k.alg}:${k.kid}:${k.backend}`),
    );

  it('keeps the same key ids and signs with the same token keys after a restart', async () => {
    const first = await start();
    const before = kidsOf(first);
    const didBefore = await (await fetch(`${first.url}/.well-known/did.json`)).json();
    const credentialKey = first.services.keys.active('credential', 'ES256');
    const signed = credentialKey.sign(Buffer.from('restart'));
    await first.stop();

    const second = await start();
    try {
      expect(kidsOf(second)).toEqual(before);
      expect(before.filter((k) => k.endsWith(':pkcs11'))).toHaveLength(4);
      // The same public keys are published (the port differs, so compare the key material).
      const didAfter = await (await fetch(`${second.url}/.well-known/did.json`)).json();
      const jwks = (doc: any) =>
        doc.verificationMethod.map((m: any) => JSON.stringify(m.publicKeyJwk ?? m.publicKeyMultibase));
      expect(jwks(didAfter)).toEqual(jwks(didBefore));
      // A signature made before the restart verifies with the key found after it, and vice versa.
      const after = second.services.keys.active('credential', 'ES256');
      expect(after.kid).toBe(credentialKey.kid);
      const { verify } = await import('node:crypto');
      const p1363 = { key: after.publicKey, dsaEncoding: 'ieee-p1363' as const };
      expect(verify('sha256', Buffer.from('restart'), p1363, signed)).toBe(true);
      expect(verify('sha256', Buffer.from('again'), p1363, after.sign(Buffer.from('again')))).toBe(true);
      // Generated nothing new in the token either: one private object per stored kid.
      const session = tokenSession();
      try {
        for (const entry of before.filter((k) => k.endsWith(':pkcs11'))) {
          const kid = entry.split(':')[2]!;
          expect(
            session.find([
              { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
              { type: pkcs11js.CKA_ID, value: Buffer.from(kid) },
            ]),
          ).toHaveLength(1);
        }
      } finally {
        session.close();
      }
    } finally {
      await second.stop();
    }

    // Another process (the operator CLI) logs in afresh and finds the same keys in the token.
    const cli = (pin: string) =>
      spawnSync(process.execPath, ['src/cli.ts', 'keys', 'list'], {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          SOFTHSM2_CONF: process.env.SOFTHSM2_CONF,
          DEMO: 'off',
          DATA_DIR: dir,
          ISSUER__store__embeddedFile: join(dir, 'issuer.db'),
          KEY_ENCRYPTION_SECRET: 'a-fixed-secret-for-the-restart-test-0123456789',
          PKCS11_MODULE: token.module,
          PKCS11_TOKEN_LABEL: token.label,
          PKCS11_PIN: pin,
        },
      });
    const listed = cli(token.pin);
    expect(listed.status, listed.stderr).toBe(0);
    for (const entry of before) expect(listed.stdout).toContain(entry.split(':')[2]);
    // A wrong PIN: refused by the token, and neither PIN appears in what the operator sees.
    const wrongPin = `${token.pin}0`;
    const refused = cli(wrongPin);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('CKR_PIN_INCORRECT');
    expect(`${refused.stdout}${refused.stderr}`).not.toContain(token.pin);
  });
});

describe('PKCS#11 configuration', () => {
  const load = (env: Record<string, string>) => () =>
    loadConfig({ env: { DEMO: 'off', KEY_ENCRYPTION_SECRET: 'x'.repeat(40), ...env } });

  it('wants a PIN and a token with a module, and never repeats the PIN in the refusal', () => {
    expect(load({ PKCS11_MODULE: token.module, PKCS11_TOKEN_LABEL: token.label })).toThrow(
      'keys.pkcs11: pin: required with a module (PKCS11_PIN)',
    );
    const refusal = (() => {
      try {
        load({ PKCS11_MODULE: token.module, PKCS11_PIN: 'pin-4711-secret' })();
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(refusal).toContain('keys.pkcs11: tokenLabel or slot: one is required with a module');
    expect(refusal).not.toContain('pin-4711-secret');
    expect(load({ PKCS11_MODULE: token.module, PKCS11_SLOT: '0', PKCS11_PIN: '1' })().keys.pkcs11.slot).toBe(
      0,
    );
    expect(() =>
      loadConfig({
        env: { DEMO: 'off', KEY_ENCRYPTION_SECRET: 'x'.repeat(40) },
        overrides: { keys: { pkcs11: { purposes: ['encryption'] } } },
      }),
    ).toThrow('keys.pkcs11.purposes: must list purposes from credential, oidc');
  });
});
