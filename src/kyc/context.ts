import type { Services } from '../services.ts';
import { BiometricVerifier } from './biometric.ts';
import { deriveKey } from './crypto.ts';
import { IdentityStore } from './identity-store.ts';
import { KycTokens } from './kyc-tokens.ts';
import { Lockout } from './lockout.ts';
import { createNotifications, type Notifications } from './notifiers/index.ts';
import { OtpService } from './otp.ts';
import { WalletBindings } from './wallet.ts';

/** The pieces every identity system shares, built once from the services and config `kyc`. */
export interface KycContext {
  readonly services: Services;
  readonly identities: IdentityStore;
  readonly lockout: Lockout;
  readonly otp: OtpService;
  readonly tokens: KycTokens;
  readonly biometric: BiometricVerifier;
  readonly wallets: WalletBindings;
  readonly notifications: Notifications;
  /** Salt for pairwise subjects. */
  readonly subjectSalt: string;
  /** HMAC key for the decoy destinations shown for unknown Individual IDs (mask.ts). */
  readonly decoyKey: Buffer;
}

export function createKycContext(
  services: Services,
  overrides: { notifications?: Notifications } = {},
): KycContext {
  const { config, store, clock, logger } = services;
  const kyc = config.kyc;
  const secret = config.keys.encryptionSecret;
  const lockout = new Lockout(store, clock, kyc.lockout, services.audit);
  return {
    services,
    identities: new IdentityStore({
      store,
      clock,
      logger,
      encryptionSecret: secret,
      scryptCost: kyc.scryptCost,
    }),
    lockout,
    otp: new OtpService({
      store,
      clock,
      key: deriveKey(secret, 'otp'),
      policy: kyc.otp,
      lockout,
      audit: services.audit,
    }),
    tokens: new KycTokens({ store, clock, ttlSeconds: kyc.kycTokenTtlSeconds }),
    biometric: new BiometricVerifier({
      store,
      clock,
      policy: kyc.biometric,
      domainUri: config.resolved.publicUrl,
    }),
    wallets: new WalletBindings({
      store,
      clock,
      key: deriveKey(secret, 'wallet-nonce'),
      policy: { bindingTtlSeconds: kyc.walletBindingTtlSeconds, issuer: config.resolved.publicUrl },
    }),
    notifications: overrides.notifications ?? createNotifications(services),
    subjectSalt: kyc.subjectSalt || deriveKey(secret, 'pairwise-subject-salt').toString('base64url'),
    decoyKey: deriveKey(secret, 'otp-decoy-destination'),
  };
}
