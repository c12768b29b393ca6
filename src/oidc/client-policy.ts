import { randomBytes } from 'node:crypto';
import { hasPrivateMembers } from '../crypto/jwk.ts';
import { AppError } from '../errors.ts';

/**
 * The relying-party registration policy, on top of oidc-provider's own client schema:
 * private_key_jwt (with `jwks` or `jwks_uri`) or `none` (public wallets, PKCE), the
 * authorization code grant with optional refresh tokens, no private keys in `jwks`. Errors name
 * the field.
 */
const CLIENT_ID = /^[A-Za-z0-9._~-]{3,128}$/;
const GRANT_TYPES = new Set(['authorization_code', 'refresh_token']);

/** RFC 7591 §3.2.2 `invalid_client_metadata`. */
export class InvalidClientMetadata extends AppError {
  constructor(description: string) {
    super(400, 'invalid_client_metadata', description);
    this.name = 'invalid_client_metadata';
  }
}

/**
 * A registration as stored: our defaults (private_key_jwt, the authorization code grant), then what
 * was sent, then `clientId`.
 */
export function registrationMetadata(
  body: Record<string, unknown>,
  clientId: unknown,
): Record<string, unknown> {
  const metadata: Record<string, unknown> = {
    token_endpoint_auth_method: 'private_key_jwt',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    ...body,
    client_id: clientId,
  };
  // Public clients are wallets: RFC 9396 authorization_details of type openid_credential unless set.
  const wallet = ['none', 'attest_jwt_client_auth'].includes(metadata.token_endpoint_auth_method as string);
  if (wallet && metadata.authorization_details_types === undefined) {
    metadata.authorization_details_types = ['openid_credential'];
  }
  return metadata;
}

/** Throws InvalidClientMetadata naming the first field our policy refuses. */
export function checkClientPolicy(metadata: Record<string, unknown>): void {
  const id = metadata.client_id;
  if (typeof id !== 'string' || !CLIENT_ID.test(id)) {
    throw new InvalidClientMetadata('client_id must be 3-128 characters of A-Z a-z 0-9 . _ ~ -');
  }
  const method = metadata.token_endpoint_auth_method;
  // attest_jwt_client_auth: wallets (draft-ietf-oauth-attestation-based-client-auth, src/oidc/client-attestation.ts).
  if (method !== 'private_key_jwt' && method !== 'none' && method !== 'attest_jwt_client_auth') {
    throw new InvalidClientMetadata(
      'token_endpoint_auth_method must be private_key_jwt, none or attest_jwt_client_auth',
    );
  }
  if (method === 'private_key_jwt' && metadata.jwks === undefined && metadata.jwks_uri === undefined) {
    throw new InvalidClientMetadata('jwks or jwks_uri is required for private_key_jwt');
  }
  const grants = metadata.grant_types;
  if (
    !Array.isArray(grants) ||
    !grants.every((g) => GRANT_TYPES.has(g as string)) ||
    !grants.includes('authorization_code')
  ) {
    throw new InvalidClientMetadata('grant_types must contain authorization_code and may add refresh_token');
  }
  const jwks = metadata.jwks as { keys?: unknown } | undefined;
  if (jwks !== undefined) {
    if (!jwks || typeof jwks !== 'object' || !Array.isArray(jwks.keys)) {
      throw new InvalidClientMetadata('jwks must be a JWK Set ({"keys": [...]})');
    }
    for (const key of jwks.keys as Record<string, unknown>[]) {
      if (key && typeof key === 'object' && hasPrivateMembers(key)) {
        throw new InvalidClientMetadata('jwks must hold public keys only');
      }
    }
  }
}

/**
 * A registration as it will be stored, checked by our policy and oidc-provider's client schema
 * (the issuer console registers and edits clients through this too). Throws InvalidClientMetadata.
 */
export async function checkRegistration(
  body: Record<string, unknown>,
  validate: (metadata: Record<string, unknown>) => Promise<void>,
  fixedId?: string,
): Promise<Record<string, unknown>> {
  if (fixedId !== undefined && body.client_id !== undefined && body.client_id !== fixedId) {
    throw new InvalidClientMetadata('client_id must match the client being updated');
  }
  const clientId =
    fixedId ?? (body.client_id === undefined ? randomBytes(16).toString('base64url') : body.client_id);
  const metadata = registrationMetadata(body, clientId);
  checkClientPolicy(metadata);
  try {
    await validate(metadata);
  } catch (error) {
    const e = error as { error?: string; error_description?: string; message?: string };
    if (e.error) throw new InvalidClientMetadata(e.error_description ?? e.message ?? e.error);
    throw error;
  }
  return metadata;
}
