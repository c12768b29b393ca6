/**
 * The identity-system SPI: the heart of the eSignet role. The service never owns identities; an
 * identity system (a plugin registered by name in config) proves who a person is against an
 * existing registry and releases the claims they consented to. Built in: `mock` (identities in our
 * store, seeded in demo mode) and `http` (an external registry over a documented REST contract).
 */

/** The registry's identifier for a person (national ID number, UIN, VID...). Personal data: never log it. */
export type IndividualId = string;

/** Authentication factors, as named in ACR mappings (config `oidc.acrFactors`). */
/**
 * `vp`: a presentation of an identity credential this service issued (OpenID4VP wallet login,
 * src/oidc/wallet-login), verified by the service; the identity system finds the account its holder
 * key is bound to (`authenticateHolder`).
 */
export type Factor = 'otp' | 'pin' | 'password' | 'kbi' | 'biometric' | 'wallet' | 'vp';
export type OtpChannel = 'sms' | 'email';
/**
 * What a one-time code is for. A code is bound to its purpose: a login code does not bind a wallet
 * key, a wallet-binding code does not log in.
 */
export type OtpPurpose = 'login' | 'wallet_binding';

/** One proof offered by the person, e.g. `{ factor: 'otp', value: '123456' }`. */
export interface Challenge {
  readonly factor: Factor;
  /** The secret or answer; for KBI a JSON object of answers, for biometric a signed capture (JWS). */
  readonly value: string | Record<string, string>;
}

/** The login transaction a call belongs to; identity systems bind OTPs and captures to it. */
export interface TransactionRef {
  readonly transactionId: string;
  readonly clientId: string;
  /**
   * OIDC Core §8.1 sector identifier (host of the redirect URIs or of `sector_identifier_uri`) that
   * pairwise subjects are computed for. Absent: the client_id is the sector.
   */
  readonly sectorIdentifier?: string;
}

/** What sendOtp reports back so the login page can show where the code went and a resend countdown. */
export interface OtpSent {
  /** Masked destination, e.g. `+255 *** **34` or `a***@example.org`. */
  readonly maskedTo: string;
  /** Seconds until another code may be sent in this transaction (the resend countdown). */
  readonly resendAfterSeconds?: number;
  /** Seconds the code stays valid. */
  readonly expiresInSeconds?: number;
  /** Sends left in this transaction. */
  readonly sendsLeft?: number;
  /**
   * False when nothing was sent (unknown individual, no contact on the channel, individual blocked):
   * the answer then looks like a real one (a decoy `maskedTo`). For audit and metrics only: never
   * shown to the client, whose answer must not tell the two apart (SECURITY.md row 47).
   */
  readonly dispatched?: boolean;
}

/** A message for a person, delivered through a notifier (e-mail or SMS, whichever the identity has). */
export interface PersonMessage {
  readonly subject: string;
  readonly text: string;
  /** Why it is sent (`otp`, `tx_code`, `notice`): notifiers may route or template by it. */
  readonly purpose?: string;
  /** Preferred channel; the other one is used when the identity has no such contact. */
  readonly channel?: OtpChannel;
}

/**
 * How some of a person's claims were verified (OpenID Connect for Identity Assurance 1.0): the
 * `verification` element released in `verified_claims` (`trust_framework` required; optional
 * `assurance_level`, `time`, `verification_process`, `evidence` …) and the claims it covers.
 */
export interface VerificationRecord {
  readonly verification: { readonly trust_framework: string } & Record<string, unknown>;
  /** Claim names (without language tag) this verification covers, e.g. `name`, `birthdate`. */
  readonly claims: readonly string[];
}

export interface AuthResult {
  /** Short-lived handle for exchangeKyc. Opaque; never contains personal data. */
  readonly kycToken: string;
  /** Stable account id for this individual in this identity system (not the raw individual ID). */
  readonly accountId: string;
  /** Relying-party-specific subject (pairwise `sub`). */
  readonly subject: string;
  /** Factors actually verified (become `amr`). */
  readonly factors: readonly Factor[];
  /**
   * How the person's claims were verified, without claim values (the consent page shows which
   * requested details are verified and by what). Optional: systems without records leave it out.
   */
  readonly verifications?: readonly VerificationRecord[];
}

export interface KycResult {
  /** Consented claims (OIDC standard claim names, e.g. `name`, `birthdate`, `address`). */
  readonly claims: Record<string, unknown>;
  /**
   * How the released claims were verified (OpenID Connect for Identity Assurance `verified_claims`),
   * each record naming the claims it covers; only records covering a released claim.
   */
  readonly verifications?: readonly VerificationRecord[];
  /** Set when the registry cannot answer yet (drives deferred issuance). */
  readonly pending?: boolean;
}

export interface IdentitySystem {
  readonly name: string;
  supportedFactors(): readonly Factor[];
  otpChannels(): readonly OtpChannel[];
  /**
   * Sends an OTP for `purpose` (default `login`) through the notifier; resolves to the masked
   * destination (e.g. `*** **34`). An unknown individual gets the same kind of answer, with a decoy
   * destination and nothing sent (SECURITY.md row 47); send limits apply to both alike.
   */
  sendOtp(
    individualId: IndividualId,
    channel: OtpChannel,
    transaction: TransactionRef,
    purpose?: OtpPurpose,
  ): Promise<OtpSent>;
  /** Verifies the challenges; throws AuthFailed / NoAttemptsLeft (src/errors.ts) on failure. */
  authenticate(
    individualId: IndividualId,
    challenges: readonly Challenge[],
    transaction: TransactionRef,
  ): Promise<AuthResult>;
  /**
   * Releases the accepted claims for a kycToken (one use or short-lived, per system). With
   * `options.clientId`, a token issued to another client is refused (InvalidTransaction).
   */
  exchangeKyc(
    kycToken: string,
    acceptedClaims: readonly string[],
    claimsLocales: readonly string[],
    options?: { clientId?: string },
  ): Promise<KycResult>;
  /**
   * Claims for an account without an interactive login: used by issuer-initiated offers (the admin
   * who created the offer vouched for the individual). Systems that cannot do this throw.
   */
  claimsForAccount(
    accountId: string,
    acceptedClaims: readonly string[],
    claimsLocales: readonly string[],
  ): Promise<KycResult>;
  /** Resolves an individual ID to the account id without authenticating (admin offers). */
  accountFor(individualId: IndividualId): Promise<string | undefined>;
  /**
   * The account an external authorization server's subject stands for (issuance from tokens of a
   * trusted server, src/vci/external-as: eSignet puts a partner-specific user token in `sub`, which
   * only the identity system can map back). `claims`: the verified access token's claims. Resolves
   * to undefined for a subject the system does not know. Optional: systems without it cannot be
   * named by a `subject: {mode: 'spi'}` mapping.
   */
  resolveExternalSubject?(external: {
    issuer: string;
    subject: string;
    claims: Readonly<Record<string, unknown>>;
  }): Promise<string | undefined>;
  /**
   * Delivers a message (e.g. an OpenID4VCI tx_code) to the person's registered e-mail or phone.
   * `who` is an account id or an individual ID. Resolves to the masked destination.
   */
  sendMessage?(who: string, message: PersonMessage): Promise<{ maskedTo: string }>;
  /** Claims a knowledge-based login asks for (`kbi` factor), in form order. */
  kbiFields?(): readonly string[];
  /**
   * Wallet binding (eSignet `KeyBinder.doKeyBinding`): verifies the challenges (an OTP sent in the
   * same transaction for purpose `wallet_binding`), binds the wallet's public JWK to the individual's account and tells the
   * person it was done. Systems that offer the `wallet` factor implement it and `walletNonce`.
   */
  bindWallet?(
    individualId: IndividualId,
    challenges: readonly Challenge[],
    publicKeyJwk: unknown,
    transaction: TransactionRef,
  ): Promise<{ thumbprint: string; expiresAt: number }>;
  /** The nonce a wallet signs (`wallet` factor challenge) to log in to this transaction. */
  walletNonce?(transaction: TransactionRef): string;
  /**
   * `vp` factor: the service verified a presentation of its identity credential (issuer signature,
   * status, key binding over this transaction's request); the system authenticates the account the
   * credential's holder key (`cnf.jwk`) is bound to (wallet binding, as Inji Wallet "activates" a
   * credential for online login). Throws AuthFailed when the key is bound to nobody. Systems that
   * offer the `vp` factor implement it.
   */
  authenticateHolder?(holderJwk: unknown, transaction: TransactionRef): Promise<AuthResult>;
}

/** The configured identity systems (config `kyc.systems`), built by the kyc part and handed to the parts that use them. */
export interface IdentitySystemRegistry {
  /** Configured system names. */
  names(): readonly string[];
  /** The system with this name; throws when there is none. */
  get(name: string): IdentitySystem;
  /** The system that serves this relying party (`kyc.clientSystems[clientId]` or `kyc.defaultSystem`). */
  forClient(clientId: string): IdentitySystem;
  /** `kyc.defaultSystem`. */
  defaultSystem(): IdentitySystem;
  /**
   * Sends a message to a person through the system that knows them (`options.system`, else the
   * default system). `who`: an account id or an individual ID.
   */
  sendToIndividual(
    who: string,
    message: PersonMessage,
    options?: { system?: string },
  ): Promise<{ maskedTo: string }>;
}
