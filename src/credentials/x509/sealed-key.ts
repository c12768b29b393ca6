import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';

/**
 * The IACA private key at rest: AES-256-GCM under a key derived (HKDF-SHA256, random salt) from
 * the same secret as the key store.
 */

export interface SealedKey {
  v: 1;
  salt: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

const KEK_INFO = 'idissuer/x509/iaca-key/v1';
const AAD = Buffer.from('idissuer-x509:v1:iaca', 'utf8');

const kek = (secret: string, salt: Buffer) => Buffer.from(hkdfSync('sha256', secret, salt, KEK_INFO, 32));

export function sealKey(privateKey: KeyObject, secret: string): SealedKey {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek(secret, salt), iv);
  cipher.setAAD(AAD);
  const ciphertext = Buffer.concat([
    cipher.update(privateKey.export({ format: 'der', type: 'pkcs8' })),
    cipher.final(),
  ]);
  const b64 = (bytes: Buffer) => bytes.toString('base64url');
  return { v: 1, salt: b64(salt), iv: b64(iv), tag: b64(cipher.getAuthTag()), ciphertext: b64(ciphertext) };
}

export function unsealKey(sealed: SealedKey, secret: string): KeyObject {
  const bytes = (text: string) => Buffer.from(text, 'base64url');
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek(secret, bytes(sealed.salt)), bytes(sealed.iv));
    decipher.setAAD(AAD);
    decipher.setAuthTag(bytes(sealed.tag));
    const der = Buffer.concat([decipher.update(bytes(sealed.ciphertext)), decipher.final()]);
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw new Error('the key-encryption secret does not decrypt the stored IACA key', { cause });
  }
}
