import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDemoFile } from '../demo.ts';
import type { Services } from '../services.ts';
import type { ClientRegistry } from './clients.ts';

export const DEMO_CLIENT_ID = 'demo-relying-party';
export const DEMO_REDIRECT_URI = 'http://127.0.0.1:8765/callback';
const FILE = 'demo-relying-party.json';

/**
 * Demo mode only: one confidential relying party (private_key_jwt, ES256, PAR required, refresh
 * tokens) registered as `demo-relying-party`, its private key written to
 * `$DATA_DIR/demo-relying-party.json` so a newcomer can try the flow (docs/login-walkthrough.md).
 * Re-uses the file on restart so the registration and the key stay in step.
 */
export async function seedDemoRelyingParty(services: Services, clients: ClientRegistry): Promise<void> {
  const { config, logger } = services;
  const file = join(config.resolved.dataDir, FILE);
  let material: { client_id: string; private_jwk: Record<string, unknown> } | undefined;
  if (existsSync(file)) material = JSON.parse(readFileSync(file, 'utf8'));
  if (!material?.private_jwk) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
    material = {
      client_id: DEMO_CLIENT_ID,
      private_jwk: { ...jwk, kid: 'demo-rp-1', alg: 'ES256', use: 'sig' },
    };
  }
  const { d: _d, ...publicJwk } = material.private_jwk;
  const metadata = {
    client_name: 'Demo Relying Party',
    client_names: { ar: 'الطرف المعتمد التجريبي' },
    redirect_uris: [DEMO_REDIRECT_URI],
    post_logout_redirect_uris: ['http://127.0.0.1:8765/logged-out'],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: { keys: [publicJwk] },
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    require_pushed_authorization_requests: true,
    allowed_claims: [
      'name',
      'given_name',
      'family_name',
      'birthdate',
      'gender',
      'email',
      'phone_number',
      'address',
      'picture',
    ],
    userinfo_signed_response_alg: 'RS256',
  };
  if (await clients.find(material.client_id)) await clients.replace(material.client_id, metadata);
  else await clients.create(material.client_id, metadata);
  const written = writeDemoFile(config, FILE, {
    client_id: material.client_id,
    private_jwk: material.private_jwk,
    redirect_uri: DEMO_REDIRECT_URI,
    issuer: config.resolved.publicUrl,
    scope: 'openid profile email phone address',
    claims: {
      userinfo: {
        name: { essential: true },
        birthdate: { essential: true },
        email: null,
        phone_number: null,
      },
    },
    acr_values: 'mosip:idp:acr:generated-code',
  });
  logger.info({ clientId: material.client_id, file: written }, 'demo relying party registered');
}
