import type { Config } from '../config/defaults.ts';
import { createKeyStore, type KeyStoreOptions } from './key-store.ts';
import { openPkcs11Vault } from './pkcs11.ts';
import type { KeyPurpose, KeyStore } from './spi.ts';

/**
 * The key store the configuration asks for: the store-backed one, with the PKCS#11 token as its
 * vault when `keys.pkcs11.module` is set (keys of `keys.pkcs11.purposes` generated in the token).
 */
export async function openKeyStore(
  config: Config,
  options: Omit<KeyStoreOptions, 'encryptionSecret' | 'retiredKeyPublishSeconds' | 'vault'>,
): Promise<KeyStore> {
  const { pkcs11 } = config.keys;
  const vault = pkcs11.module
    ? await openPkcs11Vault({
        module: pkcs11.module,
        tokenLabel: pkcs11.tokenLabel,
        slot: pkcs11.slot,
        pin: pkcs11.pin,
        purposes: pkcs11.purposes as KeyPurpose[],
      })
    : undefined;
  return createKeyStore({
    ...options,
    encryptionSecret: config.keys.encryptionSecret,
    retiredKeyPublishSeconds: config.keys.retiredKeyPublishSeconds,
    ...(vault ? { vault } : {}),
  });
}
