import { createHash } from 'node:crypto';
import { errors } from 'oidc-provider';
import type { Clock } from '../clock.ts';
import { type Collection, type Store, type StoredDoc, UniqueViolation } from '../store/spi.ts';

/**
 * oidc-provider's storage adapter over our storage SPI. One collection per model
 * (`oidc_authorization_code`, `oidc_session`...). Expiry is computed with the injected clock, so
 * tests move time instead of sleeping, and every read already ignores expired records (store SPI).
 *
 * Two places where the provider's own call pattern is not race-free are fixed here:
 * - `consume`: oidc-provider 9.13 reads a code (`find`), checks `consumed`, then calls
 *   `consume` (lib/actions/grants/authorization_code.js, lib/helpers/grant_source.js). Two parallel
 *   redemptions both pass the check, so `consume` is the store's conditional write and the loser
 *   throws `invalid_grant`: exactly one redemption issues tokens (SECURITY.md row 1).
 * - `ReplayDetection.unique` (client-assertion and DPoP `jti`) is find-then-save; here `find`
 *   itself claims the id with a unique insert, so of N parallel uses exactly one sees "not found"
 *   (SECURITY.md rows 9 and 42).
 *
 * Opaque codes and tokens are their own ids: for those models the store keeps only the SHA-256 of
 * the value (as `_id`) and drops `jti` from the payload, so a database copy yields no usable code
 * or token (SECURITY.md row 26). `find(value)` hashes the presented value and puts `jti` back.
 */

interface ModelDoc extends StoredDoc {
  payload: Record<string, unknown>;
  grantId?: string;
  uid?: string;
  userCode?: string;
  consumedAt?: number;
}

/** Models whose records belong to a grant and go when it is revoked. */
const GRANT_MODELS = [
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
];
const GRANTABLE = new Set(GRANT_MODELS);

/** Models whose id is a bearer secret (a code or token value): the grant's, and these. */
const BEARER = new Set([
  ...GRANT_MODELS,
  'PushedAuthorizationRequest',
  'ClientCredentials',
  'RegistrationAccessToken',
  'InitialAccessToken',
  'Session',
]);

const digest = (value: string) => createHash('sha256').update(value).digest('base64url');

/** Longest a replay-detection claim is held before the provider stores its real expiry, in ms. */
const REPLAY_CLAIM_MS = 3600_000;

const snake = (name: string) => name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();

export function collectionFor(store: Store, model: string): Collection<ModelDoc> {
  return store.collection<ModelDoc>({
    name: `oidc_${snake(model)}`,
    indexes: GRANTABLE.has(model) ? ['grantId'] : model === 'Session' ? ['uid'] : [],
  });
}

/** The error the loser of a consume race sees, per model. */
function alreadyConsumed(model: string): Error {
  if (model === 'PushedAuthorizationRequest') return new errors.InvalidRequestUri('request_uri already used');
  if (model === 'RefreshToken') return new errors.InvalidGrant('refresh token already used');
  return new errors.InvalidGrant(`${snake(model).replaceAll('_', ' ')} already consumed`);
}

export function createAdapterClass(store: Store, clock: Clock, clients: ClientSource) {
  return class StoreAdapter {
    readonly model: string;
    readonly collection: Collection<ModelDoc>;
    readonly bearer: boolean;

    constructor(model: string) {
      this.model = model;
      this.collection = collectionFor(store, model);
      this.bearer = BEARER.has(model);
    }

    /** The stored key for an id: its hash for bearer values. */
    private key(id: string): string {
      return this.bearer ? digest(id) : id;
    }

    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
      if (this.model === 'Client') throw new Error('clients are managed through the admin API');
      // Sessions keep their jti (findByUid must return it); their cookie is signed as well.
      const stored = this.bearer && this.model !== 'Session' ? { ...payload, jti: undefined } : payload;
      const doc: ModelDoc = { _id: this.key(id), payload: JSON.parse(JSON.stringify(stored)) };
      if (typeof expiresIn === 'number') doc.expiresAt = clock.now() + expiresIn * 1000;
      if (typeof payload.grantId === 'string') doc.grantId = payload.grantId;
      if (typeof payload.uid === 'string') doc.uid = payload.uid;
      if (typeof payload.userCode === 'string') doc.userCode = payload.userCode;
      if (typeof payload.consumed === 'number') doc.consumedAt = payload.consumed * 1000;
      await this.collection.put(doc);
    }

    async find(id: string): Promise<Record<string, unknown> | undefined> {
      if (typeof id !== 'string' || id.length === 0 || id.length > 512) return undefined;
      if (this.model === 'Client') return clients.find(id);
      if (this.model === 'ReplayDetection') return this.claim(id);
      const payload = payloadOf(await this.collection.get(this.key(id)));
      return payload && this.bearer ? { ...payload, jti: id } : payload;
    }

    /** Atomic "seen before?" for ReplayDetection: the first caller inserts and sees nothing. */
    private async claim(id: string): Promise<Record<string, unknown> | undefined> {
      try {
        await this.collection.insert({
          _id: id,
          payload: { jti: id },
          expiresAt: clock.now() + REPLAY_CLAIM_MS,
        });
        return undefined;
      } catch (error) {
        if (error instanceof UniqueViolation) return { jti: id };
        throw error;
      }
    }

    async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
      const [doc] = await this.collection.find({ uid }, { limit: 1 });
      return payloadOf(doc);
    }

    async findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
      const [doc] = await this.collection.find({ userCode }, { limit: 1 });
      return payloadOf(doc);
    }

    async consume(id: string): Promise<void> {
      const won = await this.collection.consume(this.key(id));
      if (!won) throw alreadyConsumed(this.model);
    }

    async destroy(id: string): Promise<void> {
      await this.collection.delete(this.key(id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await this.collection.deleteMany({ grantId });
    }
  };
}

/**
 * Changes a live, unconsumed record's payload as a compare-and-set on "not consumed": the
 * provider's own `save` replaces the whole record, so a save racing a redemption's `consume`
 * would bring the consumed record back. `change` returns the new payload, or undefined to leave
 * it. False when the record is gone or consumed, `change` declined, or a consume won the race.
 */
export async function changeUnconsumed(
  store: Store,
  model: string,
  id: string,
  change: (payload: Record<string, unknown>) => Record<string, unknown> | undefined,
): Promise<boolean> {
  if (typeof id !== 'string' || id.length === 0 || id.length > 512) return false;
  const collection = collectionFor(store, model);
  const key = BEARER.has(model) ? digest(id) : id;
  const doc = await collection.get(key);
  if (!doc || doc.consumedAt !== undefined) return false;
  const payload = change(doc.payload);
  if (!payload) return false;
  return (await collection.update(key, { consumedAt: null }, { payload })) !== undefined;
}

function payloadOf(doc: ModelDoc | undefined): Record<string, unknown> | undefined {
  if (!doc) return undefined;
  if (doc.consumedAt !== undefined) return { ...doc.payload, consumed: Math.floor(doc.consumedAt / 1000) };
  return doc.payload;
}

/** Where the provider's `Client` model reads registrations from (src/oidc/clients.ts). */
export interface ClientSource {
  find(clientId: string): Promise<Record<string, unknown> | undefined>;
}
