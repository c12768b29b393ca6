import { createHash, createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import type * as Pkcs11 from 'pkcs11js';
import type { KeyVault, VaultKey } from './key-store.ts';
import type { KeyAlgorithm, KeyPurpose } from './spi.ts';

/**
 * Keys in a hardware security module through PKCS#11 (OASIS PKCS#11 2.40/3.0), with the `pkcs11js`
 * binding (a thin N-API wrapper over the C API: every call maps to one C_* function, synchronous
 * unless the *Async variant is used).
 *
 * Keys are generated inside the token (C_GenerateKeyPair) as token objects with CKA_SENSITIVE true
 * and CKA_EXTRACTABLE false, so the module refuses to reveal or wrap the private key; only the
 * public key is read back. After the kid (the public JWK's RFC 7638 thumbprint) is known, both
 * objects get CKA_ID = CKA_LABEL = kid, which is how the next start finds them. The store keeps the
 * key's metadata (purpose, status, publication window, public JWK) and a reference; no private
 * material.
 *
 * Mechanisms: Ed25519 via CKM_EC_EDWARDS_KEY_PAIR_GEN / CKM_EDDSA (PKCS#11 3.0; SoftHSM ≥ 2.6 built
 * with OpenSSL ≥ 1.1.1), P-256 via CKM_EC_KEY_PAIR_GEN / CKM_ECDSA over a SHA-256 digest made here
 * (the raw r‖s output is already the JOSE encoding), RSA-2048 via CKM_RSA_PKCS_KEY_PAIR_GEN /
 * CKM_SHA256_RSA_PKCS. A token without CKM_EDDSA keeps EdDSA keys in software (the store's
 * encrypted records), as it does for ECDH-ES keys: jose's decryption needs the private key itself.
 */

export interface Pkcs11Settings {
  /** Path of the PKCS#11 module (shared library), e.g. /usr/lib/softhsm/libsofthsm2.so. */
  module: string;
  /** The token's label (CKA_LABEL of the token); used when set. */
  tokenLabel: string;
  /** The slot id, when no token label is given. */
  slot: number;
  /** The user PIN. Never logged, never put into an error. */
  pin: string;
  /** Purposes whose keys are generated in the token. */
  purposes: KeyPurpose[];
}

export interface Pkcs11Vault extends KeyVault {
  /** Mechanisms the token lacks, by algorithm (those keys stay in software). */
  readonly unsupported: KeyAlgorithm[];
  /** Token label and slot, for logs (no PIN). */
  readonly token: { label: string; slot: string };
}

// PKCS#11 3.0 constants that pkcs11js 2.1.7 does not name.
const CKK_EC_EDWARDS = 0x40;
const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
const CKM_EDDSA = 0x1057;
/** DER OIDs for CKA_EC_PARAMS: id-Ed25519 (RFC 8410) and prime256v1. */
const ED25519_PARAMS = Buffer.from('06032b6570', 'hex');
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');

type Lib = typeof Pkcs11;

/** A slot handle (a CK_ULONG in host byte order) as its decimal id. */
const slotId = (handle: Buffer): string =>
  handle.length === 8 ? handle.readBigUInt64LE(0).toString() : handle.readUInt32LE(0).toString();

interface Connection {
  lib: Lib;
  module: Pkcs11.PKCS11;
  session: Pkcs11.Handle;
  slot: Pkcs11.Handle;
  label: string;
}

/**
 * One loaded module, one logged-in session per token, per process: PKCS#11 login state belongs to
 * the application, so a second service in the same process (tests restarting the service) shares it.
 */
const connections = new Map<string, Promise<Connection>>();

async function connect(settings: Pkcs11Settings): Promise<Connection> {
  const id = `${settings.module}|${settings.tokenLabel}|${settings.slot}`;
  let connection = connections.get(id);
  if (!connection) {
    connection = open(settings);
    connections.set(id, connection);
    connection.catch(() => connections.delete(id));
  }
  return connection;
}

async function open(settings: Pkcs11Settings): Promise<Connection> {
  // Loaded only when configured: a deployment without an HSM never loads the native module. It is an
  // optional dependency, which `npm ci` leaves out where it cannot compile.
  let lib: Lib;
  try {
    lib = ((await import('pkcs11js')) as { default: Lib }).default;
  } catch (cause) {
    throw new Error(
      'PKCS#11: the pkcs11js binding is not installed (an optional dependency built with node-gyp: ' +
        'install build-essential and python3, then run `npm install pkcs11js`)',
      { cause },
    );
  }
  const module = new lib.PKCS11();
  module.load(settings.module);
  try {
    // OS locking: key generation runs on a worker thread (C_GenerateKeyPairAsync) in its own session.
    module.C_Initialize({ flags: lib.CKF_OS_LOCKING_OK });
  } catch (error) {
    if (!String((error as Error).message).includes('CKR_CRYPTOKI_ALREADY_INITIALIZED')) throw error;
  }
  const slots = module.C_GetSlotList(true);
  const slot = settings.tokenLabel
    ? slots.find((s) => module.C_GetTokenInfo(s).label.trim() === settings.tokenLabel)
    : slots.find((s) => slotId(s) === String(settings.slot));
  if (!slot) {
    throw new Error(
      settings.tokenLabel
        ? `PKCS#11: no token labelled "${settings.tokenLabel}" in ${settings.module}`
        : `PKCS#11: no token in slot ${settings.slot} of ${settings.module}`,
    );
  }
  const label = module.C_GetTokenInfo(slot).label.trim();
  const session = module.C_OpenSession(slot, lib.CKF_SERIAL_SESSION | lib.CKF_RW_SESSION);
  try {
    module.C_Login(session, lib.CKU_USER, settings.pin);
  } catch (error) {
    const code = String((error as Error).message).match(/CKR_[A-Z_]+/)?.[0] ?? 'error';
    // Logged in already (login state is per application) is fine; anything else is reported by
    // its return code alone: the PIN never appears in an error.
    if (code !== 'CKR_USER_ALREADY_LOGGED_IN') {
      module.C_CloseSession(session);
      throw new Error(`PKCS#11: login to token "${label}" failed (${code})`);
    }
  }
  return { lib, module, session, slot, label };
}

/** Opens the token named in the settings and logs in: the vault the key store generates keys in. */
export async function openPkcs11Vault(settings: Pkcs11Settings): Promise<Pkcs11Vault> {
  const { lib, module, session, slot, label } = await connect(settings);
  const mechanisms = new Set(module.C_GetMechanismList(slot));
  const supported: Record<KeyAlgorithm, boolean> = {
    EdDSA: mechanisms.has(CKM_EC_EDWARDS_KEY_PAIR_GEN) && mechanisms.has(CKM_EDDSA),
    ES256: mechanisms.has(lib.CKM_EC_KEY_PAIR_GEN) && mechanisms.has(lib.CKM_ECDSA),
    RS256: mechanisms.has(lib.CKM_RSA_PKCS_KEY_PAIR_GEN) && mechanisms.has(lib.CKM_SHA256_RSA_PKCS),
    'ECDH-ES': false,
  };

  const idOf = (kid: string) => Buffer.from(kid, 'utf8');

  function findOne(template: Pkcs11.Template): Pkcs11.Handle | undefined {
    module.C_FindObjectsInit(session, template);
    try {
      const found = module.C_FindObjects(session, 2);
      if (found.length > 1) throw new Error('PKCS#11: two token objects share one key id');
      return found[0];
    } finally {
      module.C_FindObjectsFinal(session);
    }
  }

  function publicKeyOf(handle: Pkcs11.Handle, alg: KeyAlgorithm): KeyObject {
    if (alg === 'RS256') {
      const [n, e] = module.C_GetAttributeValue(session, handle, [
        { type: lib.CKA_MODULUS },
        { type: lib.CKA_PUBLIC_EXPONENT },
      ]);
      return createPublicKey({
        key: { kty: 'RSA', n: n!.value.toString('base64url'), e: e!.value.toString('base64url') },
        format: 'jwk',
      });
    }
    // CKA_EC_POINT: a DER OCTET STRING around the point (SoftHSM, and what PKCS#11 2.40 specifies).
    const [attribute] = module.C_GetAttributeValue(session, handle, [{ type: lib.CKA_EC_POINT }]);
    const point = attribute!.value;
    if (alg === 'EdDSA') {
      const x = point.subarray(point.length - 32);
      return createPublicKey({
        key: { kty: 'OKP', crv: 'Ed25519', x: x.toString('base64url') },
        format: 'jwk',
      });
    }
    const q = point.subarray(point.length - 65);
    if (q[0] !== 0x04) throw new Error('PKCS#11: the token returned a compressed or malformed EC point');
    return createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: q.subarray(1, 33).toString('base64url'),
        y: q.subarray(33).toString('base64url'),
      },
      format: 'jwk',
    });
  }

  /** One synchronous C_SignInit + C_Sign; the result is the JOSE encoding for the algorithm. */
  function signer(handle: Pkcs11.Handle, alg: KeyAlgorithm): (data: Uint8Array) => Buffer {
    const bytes = (data: Uint8Array) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    // ECDSA signs a digest made here (SoftHSM has no CKM_ECDSA_SHA256); EdDSA and RSA hash inside.
    const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest();
    const through = (mechanism: number, input: (data: Uint8Array) => Buffer, size: number) => {
      const params = { mechanism };
      return (data: Uint8Array) => {
        module.C_SignInit(session, params, handle);
        return module.C_Sign(session, input(data), Buffer.alloc(size));
      };
    };
    if (alg === 'EdDSA') return through(CKM_EDDSA, bytes, 64);
    if (alg === 'ES256') return through(lib.CKM_ECDSA, sha256, 64);
    if (alg === 'RS256') return through(lib.CKM_SHA256_RSA_PKCS, bytes, 512);
    throw new Error(`PKCS#11: ${alg} keys do not sign`);
  }

  function generateTemplates(alg: KeyAlgorithm, label: string) {
    const common = [
      { type: lib.CKA_TOKEN, value: true },
      { type: lib.CKA_LABEL, value: label },
    ];
    const publicTemplate: Pkcs11.Template = [...common, { type: lib.CKA_VERIFY, value: true }];
    const privateTemplate: Pkcs11.Template = [
      ...common,
      { type: lib.CKA_PRIVATE, value: true },
      { type: lib.CKA_SENSITIVE, value: true },
      { type: lib.CKA_EXTRACTABLE, value: false },
      { type: lib.CKA_SIGN, value: true },
    ];
    if (alg === 'EdDSA') {
      publicTemplate.push({ type: lib.CKA_KEY_TYPE, value: CKK_EC_EDWARDS });
      publicTemplate.push({ type: lib.CKA_EC_PARAMS, value: ED25519_PARAMS });
      return { mechanism: { mechanism: CKM_EC_EDWARDS_KEY_PAIR_GEN }, publicTemplate, privateTemplate };
    }
    if (alg === 'ES256') {
      publicTemplate.push({ type: lib.CKA_EC_PARAMS, value: P256_PARAMS });
      return { mechanism: { mechanism: lib.CKM_EC_KEY_PAIR_GEN }, publicTemplate, privateTemplate };
    }
    publicTemplate.push({ type: lib.CKA_MODULUS_BITS, value: 2048 });
    publicTemplate.push({ type: lib.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) });
    return { mechanism: { mechanism: lib.CKM_RSA_PKCS_KEY_PAIR_GEN }, publicTemplate, privateTemplate };
  }

  const vaultKey = (
    pair: { publicKey: Pkcs11.Handle; privateKey: Pkcs11.Handle },
    alg: KeyAlgorithm,
  ): VaultKey => ({
    publicKey: publicKeyOf(pair.publicKey, alg),
    sign: signer(pair.privateKey, alg),
    bind(kid) {
      const name = [
        { type: lib.CKA_ID, value: idOf(kid) },
        { type: lib.CKA_LABEL, value: kid },
      ];
      module.C_SetAttributeValue(session, pair.privateKey, name);
      module.C_SetAttributeValue(session, pair.publicKey, name);
    },
    destroy() {
      module.C_DestroyObject(session, pair.privateKey);
      module.C_DestroyObject(session, pair.publicKey);
    },
  });

  return {
    backend: 'pkcs11',
    token: { label, slot: slotId(slot) },
    unsupported: (Object.keys(supported) as KeyAlgorithm[]).filter((alg) => !supported[alg]),

    holds(purpose, alg) {
      return settings.purposes.includes(purpose) && supported[alg];
    },

    async generate(alg) {
      if (!supported[alg]) throw new Error(`PKCS#11: token "${label}" cannot generate ${alg} keys`);
      // A random label until bind: a key whose record is never stored is not found by any kid.
      const pending = `pending-${randomBytes(8).toString('hex')}`;
      const { mechanism, publicTemplate, privateTemplate } = generateTemplates(alg, pending);
      // Its own session: generation (RSA takes a while) runs on a worker thread, and a session must
      // not be used by two threads at once; signing stays on the main session meanwhile.
      const own = module.C_OpenSession(slot, lib.CKF_SERIAL_SESSION | lib.CKF_RW_SESSION);
      try {
        const pair = await module.C_GenerateKeyPairAsync(own, mechanism, publicTemplate, privateTemplate);
        return vaultKey(pair, alg);
      } finally {
        module.C_CloseSession(own);
      }
    },

    open(kid, alg) {
      const privateKey = findOne([
        { type: lib.CKA_CLASS, value: lib.CKO_PRIVATE_KEY },
        { type: lib.CKA_ID, value: idOf(kid) },
      ]);
      const publicKey = findOne([
        { type: lib.CKA_CLASS, value: lib.CKO_PUBLIC_KEY },
        { type: lib.CKA_ID, value: idOf(kid) },
      ]);
      if (!privateKey || !publicKey) throw new Error(`PKCS#11: token "${label}" holds no key ${kid}`);
      return vaultKey({ privateKey, publicKey }, alg);
    },
  };
}
