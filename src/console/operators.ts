import type { AuditLog } from '../audit/audit.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/defaults.ts';
import { sha256Base64url } from '../crypto/hash.ts';
import { AppError, Conflict, InvalidRequest } from '../errors.ts';
import { deriveKey, hashSecret, open, type Sealed, seal, verifySecret } from '../kyc/crypto.ts';
import { randomId } from '../random.ts';
import { type Store, type StoredDoc, UniqueViolation } from '../store/spi.ts';
import { isOperatorRole, type OperatorRole } from './roles.ts';
import { generateTotpSecret, matchTotp } from './totp.ts';

/**
 * Operator accounts of the issuer console (collection `console_operators`): a user name, a role,
 * a password hashed as identity passwords are (scrypt, src/kyc/crypto.ts `hashSecret`) and an
 * optional TOTP secret (RFC 6238), sealed (AES-256-GCM under a key derived from
 * `keys.encryptionSecret`, bound to the operator's id) like the KYC records: a copy of the store
 * alone does not yield codes. Sign-in failures are counted per user name in the store (shared
 * by every instance), for known and unknown names alike, so the answer and its timing never say
 * whether a name exists (SECURITY.md row 47); past `maxFailedSignIns` within `lockoutSeconds` the
 * name is locked for `lockoutSeconds`.
 */
export interface OperatorDoc extends StoredDoc {
  username: string;
  role: OperatorRole;
  passwordHash: string;
  /** The sealed base32 TOTP secret, when the operator signs in with a second factor. */
  totpSecret?: Sealed;
  /**
   * The RFC 6238 time step of the last code accepted: a code is accepted once, so a code seen over
   * a shoulder or replayed from a proxy log within its window opens nothing.
   */
  totpLastStep?: number;
  /** Bumped on each successful sign-in: failures counted before it no longer lock the name. */
  signInGeneration: number;
  createdAt: number;
}

export interface Operator {
  readonly id: string;
  readonly username: string;
  readonly role: OperatorRole;
}

export const OPERATORS_COLLECTION = { name: 'console_operators', unique: [['username']] };

const USERNAME = /^[a-z0-9][a-z0-9._-]{2,63}$/;

/** The sign-in was refused: wrong name, password or code, or a locked name (one public answer each). */
export class SignInRefused extends AppError {
  readonly locked: boolean;
  constructor(locked: boolean) {
    super(
      locked ? 429 : 401,
      locked ? 'temporarily_locked' : 'access_denied',
      locked
        ? 'too many failed sign-ins: this user name is locked for a while'
        : 'the user name, password or code is not correct',
    );
    this.locked = locked;
  }
}

export interface OperatorPolicy {
  maxFailedSignIns: number;
  lockoutSeconds: number;
  passwordMinLength: number;
  scryptCost: number;
  /** Seals the TOTP secrets (derived from `keys.encryptionSecret`). */
  totpKey: Buffer;
}

/** The sign-in policy from the configuration (`console.*`; the scrypt cost of identity passwords). */
export const operatorPolicy = (config: Config): OperatorPolicy => ({
  maxFailedSignIns: config.console.maxFailedSignIns,
  lockoutSeconds: config.console.lockoutSeconds,
  passwordMinLength: config.console.passwordMinLength,
  scryptCost: config.kyc.scryptCost,
  totpKey: deriveKey(config.keys.encryptionSecret, 'console-totp'),
});

export function createOperators(deps: {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  policy: OperatorPolicy;
}) {
  const { store, clock, audit, policy } = deps;
  const operators = store.collection<OperatorDoc>(OPERATORS_COLLECTION);
  let dummyHash: Promise<string> | undefined;
  const toOperator = (doc: OperatorDoc): Operator => ({
    id: doc._id,
    username: doc.username,
    role: doc.role,
  });
  const nameKey = (username: string) => sha256Base64url(`console-operator:${username}`).slice(0, 22);

  async function byName(username: string): Promise<OperatorDoc | undefined> {
    const [doc] = await operators.find({ username }, { limit: 1 });
    return doc;
  }

  return {
    /** Creates an operator; returns it and, with `totp`, the TOTP secret to enrol in an app. */
    async add(input: { username: string; role: string; password: string; totp?: boolean }) {
      const username = input.username.trim().toLowerCase();
      if (!USERNAME.test(username)) {
        throw new InvalidRequest(
          'username must be 3 to 64 lowercase letters, digits, dots, dashes or underscores',
        );
      }
      const role = input.role.replaceAll('-', '_');
      if (!isOperatorRole(role))
        throw new InvalidRequest('role must be administrator, issuance-officer or auditor');
      if (input.password.length < policy.passwordMinLength || input.password.length > 1024) {
        throw new InvalidRequest(`the password must be ${policy.passwordMinLength} to 1024 characters`);
      }
      const totpSecret = input.totp ? generateTotpSecret() : undefined;
      const id = randomId(12);
      const doc: OperatorDoc = {
        _id: id,
        username,
        role,
        passwordHash: await hashSecret(input.password, policy.scryptCost),
        ...(totpSecret ? { totpSecret: seal(policy.totpKey, totpSecret, `console-operator:${id}`) } : {}),
        signInGeneration: 0,
        createdAt: clock.now(),
      };
      try {
        await operators.insert(doc);
      } catch (error) {
        if (error instanceof UniqueViolation) throw new Conflict('an operator with this user name exists');
        throw error;
      }
      // recordId: the operator made; operatorId (from actingAs): who made it, absent from the CLI.
      await audit.record({ type: 'operator_created', recordId: doc._id, reason: role });
      return { operator: toOperator(doc), ...(totpSecret ? { totpSecret } : {}) };
    },

    async get(id: string): Promise<Operator | undefined> {
      const doc = await operators.get(id);
      return doc ? toOperator(doc) : undefined;
    },

    /** Every operator, oldest first (user name, role, whether a TOTP is enrolled). */
    async list(): Promise<(Operator & { totp: boolean; createdAt: number })[]> {
      return (await operators.find({}, { limit: 1000 })).map((doc) => ({
        ...toOperator(doc),
        totp: doc.totpSecret !== undefined,
        createdAt: doc.createdAt,
      }));
    },

    /**
     * Removes an operator. Their sessions end with it: every console request reads the operator
     * from the store, and a session whose operator is gone opens nothing.
     */
    async remove(id: string): Promise<boolean> {
      if (!(await operators.delete(id))) return false;
      await audit.record({ type: 'operator_removed', recordId: id });
      return true;
    },

    async count(): Promise<number> {
      return (await operators.find({}, { limit: 1000 })).length;
    },

    /**
     * Checks a sign-in. The password is always verified against a hash (a dummy one for an unknown
     * name) so both paths cost the same; a locked name is refused before any check. Every try is
     * counted before it is checked; a successful sign-in starts a new count (signInGeneration).
     */
    async signIn(input: { username: string; password: string; totp?: string }): Promise<Operator> {
      const username = input.username.trim().toLowerCase().slice(0, 64);
      const doc = USERNAME.test(username) ? await byName(username) : undefined;
      const counter = `console_sign_in:${nameKey(username)}:${doc?.signInGeneration ?? 0}`;
      // Each try takes its place in the count before anything is checked (one atomic increment that
      // never passes the limit): guesses sent at once cannot all be checked before the first fails.
      const attempt = await store.increment(counter, {
        ttlSeconds: policy.lockoutSeconds,
        limit: policy.maxFailedSignIns,
      });
      if (attempt > policy.maxFailedSignIns) {
        await audit.record({
          type: 'operator_sign_in_failed',
          reason: 'temporarily_locked',
          ...(doc ? { operatorId: doc._id } : {}),
        });
        throw new SignInRefused(true);
      }
      dummyHash ??= hashSecret(randomId(16), policy.scryptCost);
      const passwordOk = await verifySecret(
        input.password.slice(0, 1024),
        doc?.passwordHash ?? (await dummyHash),
      );
      const step = doc?.totpSecret
        ? matchTotp(
            open<string>(policy.totpKey, doc.totpSecret, `console-operator:${doc._id}`),
            input.totp ?? '',
            clock.now(),
          )
        : undefined;
      const totpOk = !doc?.totpSecret || (step !== undefined && step > (doc.totpLastStep ?? -1));
      const refuse = async (): Promise<never> => {
        // Counted already (the attempt above): a failure adds nothing more.
        const locked = attempt >= policy.maxFailedSignIns;
        await audit.record({
          type: locked ? 'operator_locked' : 'operator_sign_in_failed',
          reason: 'access_denied',
          count: attempt,
          ...(doc ? { operatorId: doc._id } : {}),
        });
        throw new SignInRefused(false);
      };
      if (!doc || !passwordOk || !totpOk) return refuse();
      // One conditional write: counted failures no longer lock a name whose owner has since signed
      // in, and the TOTP step is claimed. Of two sign-ins with the same code at once, one wins.
      const claimed = await operators.update(
        doc._id,
        {
          signInGeneration: doc.signInGeneration,
          ...(doc.totpSecret ? { totpLastStep: doc.totpLastStep ?? null } : {}),
        },
        {
          signInGeneration: doc.signInGeneration + 1,
          ...(step !== undefined ? { totpLastStep: step } : {}),
        },
      );
      if (!claimed && doc.totpSecret) return refuse();
      await audit.record({ type: 'operator_signed_in', operatorId: doc._id });
      return toOperator(doc);
    },
  };
}

export type Operators = ReturnType<typeof createOperators>;
