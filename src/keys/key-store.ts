import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  hkdfSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { AuditLog } from '../audit/audit.ts';
import type { Clock } from '../clock.ts';
import { es256Sign } from '../crypto/ecdsa.ts';
import { insertNew } from '../store/insert-new.ts';
import type { Collection, Store, StoredDoc } from '../store/spi.ts';
import {
  ALGORITHMS,
  type KeyAlgorithm,
  type KeyBackend,
  KeyDecryptionFailed,
  KeyNotExportable,
  type KeyPurpose,
  type KeyStore,
  KeysMissing,
  type ManagedKey,
} from './spi.ts';

/**
 * The default KeyStore: keys generated on first start (when asked to), private keys encrypted at rest in the store
 * collection `keys`, everything held in memory as ready `KeyObject`s so lookups are synchronous.
 *
 * At-rest format (record version 1): PKCS#8 DER encrypted with AES-256-GCM under a key-encryption
 * key (KEK) derived by HKDF-SHA256 from `keys.encryptionSecret` with a random per-record salt; a
 * random 96-bit IV per record; AAD binds the ciphertext to its kid and purpose, so a ciphertext
 * moved to another record does not decrypt. `kekId` (a fingerprint of the secret) tells a changed
 * secret apart from a damaged record.
 */

export interface KeyStoreOptions {
  store: Store;
  clock: Clock;
  /** `keys.encryptionSecret`: the secret the key-encryption key is derived from. */
  encryptionSecret: string;
  /** `keys.retiredKeyPublishSeconds`: how long a rotated-out key stays published. */
  retiredKeyPublishSeconds: number;
  /** Where rotations are recorded (SECURITY.md row 50), whoever asked for them (admin API or CLI). */
  audit?: AuditLog;
  /** Where the secret came from, for the wrong-secret error (default: KEY_ENCRYPTION_SECRET). */
  secretSource?: string;
  /**
   * Generates and holds the keys of some purposes outside the store (a PKCS#11 token, ./pkcs11.ts);
   * their records then carry a reference instead of an encrypted private key.
   */
  vault?: KeyVault;
}

/** A place other than the store where private keys are generated and used, never exported. */
export interface KeyVault {
  readonly backend: Exclude<KeyBackend, 'software'>;
  /** Whether keys of this purpose and algorithm are generated in the vault. */
  holds(purpose: KeyPurpose, alg: KeyAlgorithm): boolean;
  /** Generates a key pair inside the vault; it is findable by kid only after `bind`. */
  generate(alg: KeyAlgorithm): Promise<VaultKey>;
  /** The vault's key for this kid; throws when the vault has none. */
  open(kid: string, alg: KeyAlgorithm): VaultKey;
}

export interface VaultKey {
  readonly publicKey: KeyObject;
  readonly sign: (data: Uint8Array) => Buffer;
  /** Names the key by its kid (PKCS#11: CKA_ID and CKA_LABEL), so later starts find it. */
  bind(kid: string): void;
  /** Deletes the key (generated for a slot another instance won). */
  destroy(): void;
}

/** Where a vault key is: the vault's kind and the name it was bound to (the kid). */
export interface VaultReference {
  backend: Exclude<KeyBackend, 'software'>;
  id: string;
}

/** The encrypted private key as stored. Binary values are base64url. */
export interface EncryptedPrivateKey {
  /** Record format version. */
  v: 1;
  /** Fingerprint of the key-encryption secret that encrypted this record. */
  kekId: string;
  kdf: 'HKDF-SHA256';
  enc: 'A256GCM';
  salt: string;
  iv: string;
  tag: string;
  /** Encrypted PKCS#8 DER. */
  ciphertext: string;
}

export interface KeyRecord extends StoredDoc {
  /** The kid. */
  _id: string;
  kid: string;
  purpose: KeyPurpose;
  alg: KeyAlgorithm;
  status: 'active' | 'retired';
  /**
   * `<purpose>:<alg>` while active, `retired:<kid>` afterwards. Unique, so two instances starting
   * (or rotating) at once can never both leave an active key for the same purpose and algorithm.
   */
  slot: string;
  createdAt: number;
  retiredAt?: number;
  publishUntil?: number;
  publicJwk: JWK;
  /** Software keys only. */
  privateKey?: EncryptedPrivateKey;
  /** Vault keys only: no private material is in the store. */
  vault?: VaultReference;
}

export const KEYS_COLLECTION = { name: 'keys', indexes: ['purpose', 'status'], unique: [['slot']] };

const wrongSecret = (source = 'KEY_ENCRYPTION_SECRET') =>
  `the key-encryption secret does not decrypt the stored keys (was ${source} changed?)`;
const KEK_INFO = 'idissuer/keys/kek/v1';
const KEK_ID_INFO = 'idissuer/keys/kek-id/v1';

const activeSlot = (purpose: KeyPurpose, alg: KeyAlgorithm) => `${purpose}:${alg}`;
const aad = (kid: string, purpose: KeyPurpose) => Buffer.from(`idissuer-key:v1:${kid}:${purpose}`, 'utf8');
const b64u = (bytes: Buffer) => bytes.toString('base64url');
const fromB64u = (text: string) => Buffer.from(text, 'base64url');

/** The key type and JOSE algorithm must agree; a record claiming otherwise is rejected. */
const KEY_TYPES: Record<KeyAlgorithm, { type: string; curve?: string }> = {
  EdDSA: { type: 'ed25519' },
  ES256: { type: 'ec', curve: 'prime256v1' },
  RS256: { type: 'rsa' },
  'ECDH-ES': { type: 'ec', curve: 'prime256v1' },
};

function generate(alg: KeyAlgorithm): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, publicKey: KeyObject, privateKey: KeyObject) =>
      error ? reject(error) : resolve({ publicKey, privateKey });
    if (alg === 'EdDSA') generateKeyPair('ed25519', {}, done);
    else if (alg === 'ES256' || alg === 'ECDH-ES') generateKeyPair('ec', { namedCurve: 'P-256' }, done);
    else generateKeyPair('rsa', { modulusLength: 2048 }, done);
  });
}

/** The public JWK members only (RFC 7517/7518/8037), with `kid`, `alg` and `use`. */
async function publicJwkOf(publicKey: KeyObject, alg: KeyAlgorithm): Promise<JWK> {
  const { kty, crv, x, y, n, e } = publicKey.export({ format: 'jwk' });
  const jwk: JWK = { kty, ...(crv ? { crv } : {}), ...(x ? { x } : {}), ...(y ? { y } : {}) };
  if (n && e) Object.assign(jwk, { n, e });
  const use = alg === 'ECDH-ES' ? 'enc' : 'sig';
  return { ...jwk, kid: await calculateJwkThumbprint(jwk, 'sha256'), alg, use };
}

/** The JOSE-encoded signature function over an in-process private key (see ManagedKey.sign). */
export function softwareSign(alg: KeyAlgorithm, privateKey: KeyObject): (data: Uint8Array) => Buffer {
  if (alg === 'EdDSA') return (data) => sign(null, data, privateKey);
  if (alg === 'ES256') return (data) => es256Sign(privateKey, data);
  if (alg === 'RS256') return (data) => sign('sha256', data, privateKey);
  return () => {
    throw new Error(`${alg} keys do not sign`);
  };
}

const notExportable = (kid: string) => () => {
  throw new KeyNotExportable(`the private key of ${kid} is held in a PKCS#11 token: sign through key.sign`);
};

/** A frozen ManagedKey whose private parts are non-enumerable: JSON.stringify never reaches them. */
function managedKey(
  record: KeyRecord,
  publicKey: KeyObject,
  signer: { backend: KeyBackend; sign: (data: Uint8Array) => Buffer; privateKey?: KeyObject },
): ManagedKey {
  const key = {
    kid: record.kid,
    purpose: record.purpose,
    alg: record.alg,
    status: record.status,
    createdAt: record.createdAt,
    ...(record.retiredAt !== undefined ? { retiredAt: record.retiredAt } : {}),
    ...(record.publishUntil !== undefined ? { publishUntil: record.publishUntil } : {}),
    publicJwk: Object.freeze({ ...record.publicJwk }),
  };
  Object.defineProperties(key, {
    publicKey: { value: publicKey, enumerable: false },
    backend: { value: signer.backend, enumerable: true },
    sign: { value: signer.sign, enumerable: false },
    privateKey: signer.privateKey
      ? { value: signer.privateKey, enumerable: false }
      : { get: notExportable(record.kid), enumerable: false },
  });
  return Object.freeze(key) as ManagedKey;
}

export function createKeyStore(options: KeyStoreOptions): KeyStore {
  const { clock, retiredKeyPublishSeconds } = options;
  if (!options.encryptionSecret) throw new Error('keys.encryptionSecret is required to protect the keys');
  const secret = Buffer.from(options.encryptionSecret, 'utf8');
  const kekId = b64u(Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), KEK_ID_INFO, 16)));
  const kek = (salt: Buffer) => Buffer.from(hkdfSync('sha256', secret, salt, KEK_INFO, 32));
  const collection: Collection<KeyRecord> = options.store.collection<KeyRecord>(KEYS_COLLECTION);
  const { vault } = options;

  /** Every loaded key (active, and retired ones still inside their publication window). */
  let loaded: ManagedKey[] = [];
  let initialising: Promise<ManagedKey[]> | undefined;

  const isPublished = (key: ManagedKey) =>
    key.status === 'active' || (key.publishUntil !== undefined && key.publishUntil > clock.now());

  function encrypt(privateKey: KeyObject, kid: string, purpose: KeyPurpose): EncryptedPrivateKey {
    const salt = randomBytes(16);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', kek(salt), iv);
    cipher.setAAD(aad(kid, purpose));
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const ciphertext = Buffer.concat([cipher.update(der), cipher.final()]);
    der.fill(0);
    return {
      v: 1,
      kekId,
      kdf: 'HKDF-SHA256',
      enc: 'A256GCM',
      salt: b64u(salt),
      iv: b64u(iv),
      tag: b64u(cipher.getAuthTag()),
      ciphertext: b64u(ciphertext),
    };
  }

  function decrypt(record: KeyRecord): KeyObject {
    const sealed = record.privateKey;
    if (!sealed) throw new KeyDecryptionFailed(`stored key ${record.kid} has no private key`);
    if (sealed?.v !== 1)
      throw new KeyDecryptionFailed(`stored key ${record.kid} has an unknown record format`);
    if (sealed.kekId !== kekId) throw new KeyDecryptionFailed(wrongSecret(options.secretSource));
    let der: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', kek(fromB64u(sealed.salt)), fromB64u(sealed.iv), {
        authTagLength: 16,
      });
      decipher.setAAD(aad(record.kid, record.purpose));
      decipher.setAuthTag(fromB64u(sealed.tag));
      der = Buffer.concat([decipher.update(fromB64u(sealed.ciphertext)), decipher.final()]);
    } catch (cause) {
      // GCM authentication failed: the secret matches, so the record itself was altered.
      throw new KeyDecryptionFailed(
        `stored key ${record.kid} failed authenticated decryption (altered record)`,
        {
          cause,
        },
      );
    }
    try {
      return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } finally {
      der.fill(0);
    }
  }

  /** Decrypts a record and checks that its private key, public JWK, kid and alg all belong together. */
  async function load(record: KeyRecord): Promise<ManagedKey> {
    let signer: { backend: KeyBackend; sign: (data: Uint8Array) => Buffer; privateKey?: KeyObject };
    let publicKey: KeyObject;
    if (record.vault) {
      if (!vault || vault.backend !== record.vault.backend)
        throw new KeyDecryptionFailed(
          `stored key ${record.kid} is held in ${record.vault.backend}, not configured`,
        );
      const held = vault.open(record.vault.id, record.alg);
      publicKey = held.publicKey;
      signer = { backend: vault.backend, sign: held.sign };
    } else {
      const privateKey = decrypt(record);
      publicKey = createPublicKey(privateKey);
      signer = { backend: 'software', sign: softwareSign(record.alg, privateKey), privateKey };
    }
    const expected = KEY_TYPES[record.alg];
    const jwk = await publicJwkOf(publicKey, record.alg);
    if (
      !expected ||
      publicKey.asymmetricKeyType !== expected.type ||
      (expected.curve && publicKey.asymmetricKeyDetails?.namedCurve !== expected.curve) ||
      jwk.kid !== record.kid
    ) {
      throw new KeyDecryptionFailed(
        `stored key ${record.kid} does not match its recorded public key or algorithm`,
      );
    }
    return managedKey({ ...record, publicJwk: jwk }, publicKey, signer);
  }

  async function reload(): Promise<void> {
    const records = await collection.find({});
    const now = clock.now();
    // Retired keys past their window are never decrypted: they can neither sign nor be published.
    const wanted = records.filter((r) => r.status === 'active' || (r.publishUntil ?? 0) > now);
    const keys = await Promise.all(wanted.map(load));
    keys.sort(
      (a, b) => b.createdAt - a.createdAt || Number(b.status === 'active') - Number(a.status === 'active'),
    );
    loaded = keys;
  }

  /**
   * A freshly generated key as an active record (private key already encrypted, or bound in the
   * vault) and, for a vault key, how to delete it again if the record is not stored.
   */
  async function newRecord(
    purpose: KeyPurpose,
    alg: KeyAlgorithm,
  ): Promise<{ record: KeyRecord; discard: () => void }> {
    const activeRecord = (kid: string, publicJwk: JWK, privatePart: Partial<KeyRecord>): KeyRecord => ({
      _id: kid,
      kid,
      purpose,
      alg,
      status: 'active',
      slot: activeSlot(purpose, alg),
      createdAt: clock.now(),
      publicJwk,
      ...privatePart,
    });
    if (vault?.holds(purpose, alg)) {
      const held = await vault.generate(alg);
      try {
        const publicJwk = await publicJwkOf(held.publicKey, alg);
        const kid = publicJwk.kid!;
        held.bind(kid);
        const record = activeRecord(kid, publicJwk, { vault: { backend: vault.backend, id: kid } });
        return { record, discard: () => held.destroy() };
      } catch (error) {
        held.destroy();
        throw error;
      }
    }
    const pair = await generate(alg);
    const publicJwk = await publicJwkOf(pair.publicKey, alg);
    const kid = publicJwk.kid!;
    const record = activeRecord(kid, publicJwk, { privateKey: encrypt(pair.privateKey, kid, purpose) });
    return { record, discard: () => {} };
  }

  /** Inserts an active record; false when another instance's key already holds the slot. */
  function insertActive(record: KeyRecord): Promise<boolean> {
    return insertNew(collection, record);
  }

  async function ensureActive(generate: boolean): Promise<ManagedKey[]> {
    await reload();
    if (!generate && loaded.length === 0 && (await collection.find({}, { limit: 1 })).length === 0) {
      throw new KeysMissing('the store holds no signing keys');
    }
    const missing = (Object.keys(ALGORITHMS) as KeyPurpose[]).flatMap((purpose) =>
      ALGORITHMS[purpose]
        .filter((alg) => !loaded.some((k) => k.status === 'active' && k.purpose === purpose && k.alg === alg))
        .map((alg) => [purpose, alg] as const),
    );
    if (missing.length === 0) return [];
    const inserted = await Promise.all(
      missing.map(async ([purpose, alg]) => {
        const { record, discard } = await newRecord(purpose, alg);
        if (await insertActive(record)) return record.kid;
        discard();
        return undefined;
      }),
    );
    // Insert-then-reload: whichever instance won each slot, every instance now uses the same key.
    await reload();
    return loaded.filter((key) => inserted.includes(key.kid));
  }

  const store: KeyStore = {
    init({ generate = true } = {}) {
      initialising ??= ensureActive(generate).catch((error) => {
        initialising = undefined;
        throw error;
      });
      return initialising;
    },

    active(purpose, alg) {
      const candidates = loaded.filter((k) => k.purpose === purpose && k.alg === alg && isPublished(k));
      // Normally exactly one key is active. While another instance rotates (between retiring the old
      // key and inserting the new one) a reload can see none: the newest key still published keeps
      // signing meanwhile, and verifiers can still resolve it. `loaded` is sorted newest first.
      const key = candidates.find((k) => k.status === 'active') ?? candidates[0];
      if (!key) throw new Error(`no active ${purpose} key for ${alg} (was the key store initialised?)`);
      return key;
    },

    published(purpose) {
      return loaded.filter((k) => k.purpose === purpose && isPublished(k));
    },

    find(kid) {
      const key = loaded.find((k) => k.kid === kid);
      return key && isPublished(key) ? key : undefined;
    },

    async rotate(purpose, alg) {
      const algs = alg ? [alg] : ALGORITHMS[purpose];
      if (!algs.every((a) => ALGORITHMS[purpose]?.includes(a))) {
        throw new Error(`cannot rotate ${purpose} keys for ${alg}: not an algorithm of that purpose`);
      }
      for (const a of algs) {
        // Generate first so the slot stays empty only between two writes.
        const { record, discard } = await newRecord(purpose, a);
        const now = clock.now();
        const [current] = await collection.find({ slot: activeSlot(purpose, a) }, { limit: 1 });
        if (current) {
          // Compare-and-set: if another instance retired it first, that instance's new key wins the
          // slot and our insert below is refused.
          await collection.update(
            current._id,
            { slot: activeSlot(purpose, a), status: 'active' },
            {
              status: 'retired',
              slot: `retired:${current.kid}`,
              retiredAt: now,
              publishUntil: now + retiredKeyPublishSeconds * 1000,
            },
          );
        }
        if (!(await insertActive(record))) discard();
        await options.audit?.record({
          type: 'key_rotated',
          purpose,
          alg: a,
          kid: record.kid,
          ...(current ? { retiredKid: current.kid } : {}),
        });
      }
      await reload();
      return algs.map((a) => store.active(purpose, a));
    },

    reload,
  };
  return store;
}
