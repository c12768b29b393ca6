import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { Conflict, ServerError } from '../errors.ts';
import { type Store, type StoredDoc, UniqueViolation } from '../store/spi.ts';
import type { Claims } from './claims.ts';
import {
  deriveKey,
  hashSecret,
  hmac,
  normalizeIndividualId,
  open,
  type Sealed,
  SealedRecordError,
  seal,
} from './crypto.ts';

/** What an administrator or the demo seed gives for one person. Secrets arrive in clear, once. */
export interface IdentityInput {
  individualId: string;
  claims: Claims;
  pin?: string;
  password?: string;
  /** The registry has not finished this person's KYC yet (drives deferred issuance). */
  pending?: boolean;
  /**
   * How the claims were verified (OpenID Connect for Identity Assurance): a list of verification
   * records `[{ verification, claims }]`, or one `verification` element covering every claim
   * (src/kyc/verification.ts).
   */
  verification?: StoredVerification;
}

/** Verification records as stored (either form of src/kyc/verification.ts). */
export type StoredVerification = Record<string, unknown> | readonly Record<string, unknown>[];

/** One person as the mock identity system knows them (decrypted). */
export interface Identity {
  accountId: string;
  individualId: string;
  claims: Claims;
  verification?: StoredVerification;
  pending: boolean;
  hasPin: boolean;
  hasPassword: boolean;
  createdAt: number;
  updatedAt: number;
}

/** What sits in collection `identities`: personal data only inside `sealed` (AES-256-GCM). */
export interface IdentityDoc extends StoredDoc {
  /** Keyed hash (HMAC-SHA256) of the normalized individual ID: the lookup key; not reversible by enumerating IDs. */
  idHash: string;
  sealed: Sealed;
  pinHash?: string;
  passwordHash?: string;
  pending: boolean;
  createdAt: number;
  updatedAt: number;
}

interface SealedPart {
  individualId: string;
  claims: Claims;
  verification?: StoredVerification;
}

/**
 * The mock identity system's repository (SECURITY.md row 27). Records are addressed by a random
 * account id and found by a keyed hash of the individual ID; names, addresses, contacts, photos and
 * the individual ID itself are sealed with AES-256-GCM under a key derived from
 * `keys.encryptionSecret` (fresh IV per write, record id as additional data, key id stored).
 * A record that fails authentication is reported (log line with `audit`) and refused, never returned.
 */
export class IdentityStore {
  readonly collection;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly sealKey: Buffer;
  private readonly lookupKey: Buffer;
  private readonly scryptCost: number;

  constructor(deps: {
    store: Store;
    clock: Clock;
    logger: Logger;
    encryptionSecret: string;
    scryptCost: number;
  }) {
    this.collection = deps.store.collection<IdentityDoc>({
      name: 'identities',
      indexes: ['idHash'],
      unique: [['idHash']],
    });
    this.clock = deps.clock;
    this.logger = deps.logger;
    this.sealKey = deriveKey(deps.encryptionSecret, 'identity-records');
    this.lookupKey = deriveKey(deps.encryptionSecret, 'individual-id-lookup');
    this.scryptCost = deps.scryptCost;
  }

  hashIndividualId(individualId: string): string {
    return hmac(this.lookupKey, normalizeIndividualId(individualId));
  }

  async findDoc(individualId: string): Promise<IdentityDoc | undefined> {
    const [doc] = await this.collection.find({ idHash: this.hashIndividualId(individualId) }, { limit: 1 });
    return doc;
  }

  /** Decrypts a record; a tampered or foreign record becomes a handled server error. */
  open(doc: IdentityDoc): Identity {
    let part: SealedPart;
    try {
      part = open<SealedPart>(this.sealKey, doc.sealed, doc._id);
    } catch (error) {
      if (!(error instanceof SealedRecordError)) throw error;
      this.logger.error(
        { audit: 'kyc_record_unreadable', accountId: doc._id, kid: doc.sealed?.kid, reason: error.message },
        'identity record failed decryption',
      );
      throw new ServerError('this identity record cannot be read; the administrator has been notified');
    }
    return {
      accountId: doc._id,
      individualId: part.individualId,
      claims: part.claims,
      ...(part.verification ? { verification: part.verification } : {}),
      pending: doc.pending,
      hasPin: doc.pinHash !== undefined,
      hasPassword: doc.passwordHash !== undefined,
      createdAt: doc.createdAt,
      updatedAt: doc.updatedAt,
    };
  }

  async get(accountId: string): Promise<Identity | undefined> {
    const doc = await this.collection.get(accountId);
    return doc && this.open(doc);
  }

  async byIndividualId(individualId: string): Promise<Identity | undefined> {
    const doc = await this.findDoc(individualId);
    return doc && this.open(doc);
  }

  private sealed(accountId: string, part: SealedPart): Sealed {
    return seal(this.sealKey, part, accountId);
  }

  async create(input: IdentityInput): Promise<Identity> {
    const now = this.clock.now();
    const accountId = randomBytes(16).toString('base64url');
    const doc: IdentityDoc = {
      _id: accountId,
      idHash: this.hashIndividualId(input.individualId),
      sealed: this.sealed(accountId, {
        individualId: input.individualId,
        claims: input.claims,
        ...(input.verification ? { verification: input.verification } : {}),
      }),
      ...(input.pin ? { pinHash: await hashSecret(input.pin, this.scryptCost) } : {}),
      ...(input.password ? { passwordHash: await hashSecret(input.password, this.scryptCost) } : {}),
      pending: input.pending ?? false,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.collection.insert(doc);
    } catch (error) {
      if (error instanceof UniqueViolation)
        throw new Conflict('an identity with this individual ID already exists');
      throw error;
    }
    return this.open(doc);
  }

  /** Replaces the given parts; `pin: null` / `password: null` remove a factor. */
  async update(
    accountId: string,
    patch: Partial<Omit<IdentityInput, 'pin' | 'password'>> & {
      pin?: string | null;
      password?: string | null;
    },
  ): Promise<Identity | undefined> {
    const current = await this.get(accountId);
    if (!current) return undefined;
    const individualId = patch.individualId ?? current.individualId;
    const verification = patch.verification ?? current.verification;
    const fields: Partial<IdentityDoc> = {
      idHash: this.hashIndividualId(individualId),
      sealed: this.sealed(accountId, {
        individualId,
        claims: patch.claims ?? current.claims,
        ...(verification ? { verification } : {}),
      }),
      pending: patch.pending ?? current.pending,
      updatedAt: this.clock.now(),
    };
    if (patch.pin) fields.pinHash = await hashSecret(patch.pin, this.scryptCost);
    if (patch.password) fields.passwordHash = await hashSecret(patch.password, this.scryptCost);
    let updated: IdentityDoc | undefined;
    try {
      updated = await this.collection.update(accountId, {}, fields);
    } catch (error) {
      if (error instanceof UniqueViolation)
        throw new Conflict('an identity with this individual ID already exists');
      throw error;
    }
    if (updated && (patch.pin === null || patch.password === null)) {
      // The SPI sets fields but cannot unset them: rewrite the record without the removed hash.
      const { pinHash, passwordHash, ...rest } = updated;
      await this.collection.put({
        ...rest,
        ...(patch.pin === null || !pinHash ? {} : { pinHash }),
        ...(patch.password === null || !passwordHash ? {} : { passwordHash }),
      } as IdentityDoc);
      return this.get(accountId);
    }
    return updated && this.open(updated);
  }

  delete(accountId: string): Promise<boolean> {
    return this.collection.delete(accountId);
  }

  async list(options: { limit: number; offset: number }): Promise<Identity[]> {
    const docs = await this.collection.find({}, { limit: options.offset + options.limit });
    return docs.slice(options.offset).map((doc) => this.open(doc));
  }
}
