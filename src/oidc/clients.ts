import type { Clock } from '../clock.ts';
import type { Store, StoredDoc } from '../store/spi.ts';

/**
 * Relying-party registrations (RFC 7591 metadata plus our extensions), kept in the store and read
 * by oidc-provider's `Client` model through the adapter on every lookup, so an admin change is seen
 * by the next request. Managed through the admin API (src/http/admin/clients.ts).
 *
 * Extensions (all optional):
 * - `allowed_claims`: claims the client may ever receive (consent shows requested ∩ these);
 * - `allowed_acr_values`: ACRs (config `oidc.acrFactors`) the client accepts;
 * - `identity_system`: the identity system that serves this client (else `kyc.clientSystems`/default);
 * - `client_names`: localized names, `{ "ar": "..." }` (the page picks one by ui_locales);
 * - `resource_server_audiences`: audiences (RFC 8707 resource identifiers, absolute URLs) this
 *   confidential client serves as a resource server: it may introspect access tokens issued for them
 *   (RFC 7662 §2.2; otherwise a client only learns about its own tokens);
 * - `client_assertion_max_lifetime`: the longest `exp - iat` (seconds, 1..3600) this client's
 *   private_key_jwt assertions may span (else config `oidc.clientAssertionMaxLifetimeSeconds`);
 * - `leniencies`: per-client exceptions for what a deployed client gets wrong (CLIENT_LENIENCIES),
 *   each off unless listed here.
 */
export interface ClientRecord extends StoredDoc {
  _id: string;
  metadata: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export const EXTRA_CLIENT_METADATA = [
  'allowed_claims',
  'allowed_acr_values',
  'identity_system',
  'client_names',
  'resource_server_audiences',
  'client_assertion_max_lifetime',
  'leniencies',
];

/**
 * Per-client leniencies: each names one deviation of a deployed client from the spec, with the client
 * and the reason, and is off unless a client's registration lists it (`leniencies`). Nothing here is
 * accepted from a client that did not opt in.
 */
export const CLIENT_LENIENCIES = {
  /** Inji Wallet's authorization-code flow asks for a credential scope with `nonce` but no `openid`. */
  nonce_without_openid: 'authorization request with nonce but without the openid scope (Inji Wallet)',
  /** Inji Wallet's PKCE helper keeps base64 `=` padding on the code_verifier (RFC 7636 §4.1 forbids it). */
  padded_pkce_verifier: 'PKCE code_verifier with base64 "=" padding (Inji Wallet)',
  /** eSignet issues JWT access tokens carrying `c_nonce`; inji-vci-client 0.2 reads the nonce there. */
  jwt_access_token_c_nonce: 'JWT access tokens carrying c_nonce, as eSignet issues them (Inji Wallet 0.16)',
  /** walt.id sends both `kid` and `jwk` in a jwt proof header (OpenID4VCI 1.0 §F.1 says must not). */
  proof_kid_with_jwk: 'jwt proof header with both kid and jwk (walt.id)',
} as const;

export type ClientLeniency = keyof typeof CLIENT_LENIENCIES;

/** Whether the registered client metadata opts into one leniency. */
export function hasLeniency(metadata: Record<string, unknown> | undefined, name: ClientLeniency): boolean {
  const listed = metadata?.leniencies;
  return Array.isArray(listed) && listed.includes(name);
}

export class ClientRegistry {
  readonly #collection;
  readonly #clock: Clock;

  constructor(store: Store, clock: Clock) {
    this.#collection = store.collection<ClientRecord>({ name: 'oidc_clients' });
    this.#clock = clock;
  }

  async find(clientId: string): Promise<Record<string, unknown> | undefined> {
    const record = await this.#collection.get(clientId);
    return record ? { ...record.metadata, client_id: record._id } : undefined;
  }

  async list(limit = 1000): Promise<Record<string, unknown>[]> {
    const records = await this.#collection.find({}, { limit });
    return records.map((r) => ({ ...r.metadata, client_id: r._id }));
  }

  async create(clientId: string, metadata: Record<string, unknown>): Promise<void> {
    const now = this.#clock.now();
    await this.#collection.insert({
      _id: clientId,
      metadata: strip(metadata),
      createdAt: now,
      updatedAt: now,
    });
  }

  /** Replaces the metadata; false when there is no such client. */
  async replace(clientId: string, metadata: Record<string, unknown>): Promise<boolean> {
    const updated = await this.#collection.update(
      clientId,
      {},
      { metadata: strip(metadata), updatedAt: this.#clock.now() },
    );
    return updated !== undefined;
  }

  delete(clientId: string): Promise<boolean> {
    return this.#collection.delete(clientId);
  }
}

function strip(metadata: Record<string, unknown>): Record<string, unknown> {
  const { client_id: _ignored, ...rest } = metadata;
  return rest;
}
