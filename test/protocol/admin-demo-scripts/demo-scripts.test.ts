import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { sameClockEnv } from '../../helpers/clock.ts';
import { checkAdminFetches } from '../../helpers/openapi.ts';

// Every admin call of this suite is checked against docs/openapi/admin.yaml.
checkAdminFetches();

/**
 * `npm run demo:wallet` (scripts/demo-wallet.ts) as a person runs it, as a child process against the
 * started app: offer through the admin API, tx_code from the outbox, the OpenID4VCI wallet library,
 * then an independent verifier per format. The child must print VERIFIED and exit 0.
 */
const ROOT = join(import.meta.dirname, '../../..');

// The demo scripts sign proofs and client assertions the service checks: same clock (faketime too).
const SAME_CLOCK = sameClockEnv();

function run(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, script)], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...SAME_CLOCK, ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('npm run demo:wallet', () => {
  let app: TestApp;
  let individualId: string;
  beforeAll(async () => {
    app = await startTestApp({ overrides: { kyc: { scryptCost: 1024, notify: { outboxEnabled: true } } } });
    individualId = '6120457783';
    const res = await fetch(`${app.url}/admin/identities`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${app.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        individual_id: individualId,
        claims: {
          name: 'Amina Hassan',
          given_name: 'Amina',
          family_name: 'Hassan',
          'name#ar': 'أمينة حسن',
          birthdate: '1990-04-12',
          gender: 'female',
          email: 'amina.hassan@example.org',
          address: { locality: 'Dodoma', country: 'TZ' },
        },
      }),
    });
    expect(res.status).toBe(201);
  });
  afterAll(() => app.stop());

  const demo = (configuration: string) =>
    run('scripts/demo-wallet.ts', {
      ISSUER_URL: app.url,
      ADMIN_TOKEN: app.adminToken,
      INDIVIDUAL_ID: individualId,
      CONFIGURATION: configuration,
    });

  it.each([
    ['NationalIdCredential_sd_jwt', /jwt-vc-issuer.*: VERIFIED/],
    ['NationalIdCredential_mso_mdoc', /iaca\.pem.*: VERIFIED/],
    ['NationalIdCredential_ldp_vc', /did:web.*: VERIFIED/],
  ])('receives and independently verifies %s (exit 0, VERIFIED)', async (configuration, line) => {
    const result = await demo(configuration);
    expect(result.err).toBe('');
    expect(result.code, result.out).toBe(0);
    expect(result.out).toMatch(line);
  });

  it('exits 1 with a one-line error, and no VERIFIED, when the issuer refuses the offer', async () => {
    const result = await demo('NoSuchCredential_sd_jwt');
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^demo wallet failed: /);
    expect(result.out).not.toContain('VERIFIED');
  });
});

describe('demo scripts with an unreachable ISSUER_URL', () => {
  it.each(['scripts/demo-wallet.ts', 'scripts/demo-rp.ts'])(
    '%s exits non-zero naming the URL tried, without a stack trace',
    async (script) => {
      const url = `http://127.0.0.1:${await closedPort()}`;
      const result = await run(script, {
        ISSUER_URL: url,
        ADMIN_TOKEN: 'x'.repeat(32),
        DATA_DIR: '/nonexistent',
      });
      expect(result.code).not.toBe(0);
      expect(result.err).toContain(url);
      expect(result.err).toMatch(/cannot reach the issuer/);
      expect(result.err).not.toMatch(/\n\s+at /);
    },
  );
});

describe('npm run demo:rp with ISSUER_URL and REDIRECT_PORT', () => {
  let app: TestApp;
  let dataDir: string;
  beforeAll(async () => {
    app = await startTestApp();
    dataDir = mkdtempSync(join(tmpdir(), 'demo-rp-'));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const privateJwk = {
      ...privateKey.export({ format: 'jwk' }),
      kid: 'demo-rp-1',
      alg: 'ES256',
      use: 'sig',
    };
    const { d: _d, ...publicJwk } = privateJwk;
    const res = await fetch(`${app.url}/admin/clients`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${app.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        client_id: 'demo-relying-party',
        client_name: 'Demo Relying Party',
        redirect_uris: ['http://127.0.0.1:8765/callback'],
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [publicJwk] },
        grant_types: ['authorization_code'],
        response_types: ['code'],
        require_pushed_authorization_requests: true,
        allowed_claims: ['name', 'birthdate'],
        userinfo_signed_response_alg: 'RS256',
      }),
    });
    expect(res.status, await res.text()).toBe(201);
    writeFileSync(
      join(dataDir, 'demo-relying-party.json'),
      JSON.stringify({
        client_id: 'demo-relying-party',
        private_jwk: privateJwk,
        redirect_uri: 'http://127.0.0.1:8765/callback',
        issuer: 'http://127.0.0.1:1',
        scope: 'openid profile',
        claims: { userinfo: { name: { essential: true } } },
        acr_values: 'mosip:idp:acr:generated-code',
      }),
    );
  });
  afterAll(async () => {
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('registers the redirect URI on the chosen port, pushes the request to ISSUER_URL and waits on that port', async () => {
    const port = await closedPort();
    const child = spawn(process.execPath, [join(ROOT, 'scripts/demo-rp.ts')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        ...SAME_CLOCK,
        ISSUER_URL: app.url,
        ADMIN_TOKEN: app.adminToken,
        DATA_DIR: dataDir,
        REDIRECT_PORT: String(port),
      },
    });
    try {
      let out = '';
      let err = '';
      child.stderr.on('data', (chunk) => {
        err += chunk;
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk) => {
          out += chunk;
          if (out.includes('Waiting on')) resolve();
        });
        child.on('exit', () => reject(new Error(`demo:rp exited: ${err}`)));
      });
      expect(out).toContain(`Waiting on http://127.0.0.1:${port}/callback`);
      // The URL to open is the issuer's own authorization endpoint with the pushed request.
      const authorize = new URL(/Open this URL in a browser:\s+(\S+)/.exec(out)![1]!);
      expect(authorize.origin).toBe(new URL(app.url).origin);
      expect(authorize.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
      const client = (await (
        await fetch(`${app.url}/admin/clients/demo-relying-party`, {
          headers: { Authorization: `Bearer ${app.adminToken}` },
        })
      ).json()) as { redirect_uris: string[] };
      expect(client.redirect_uris).toEqual([`http://127.0.0.1:${port}/callback`]);
      // Listening on REDIRECT_PORT: other paths are 404 and leave it waiting.
      expect((await fetch(`http://127.0.0.1:${port}/elsewhere`)).status).toBe(404);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
