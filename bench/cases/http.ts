import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import type { BenchCase } from '../case.ts';

/**
 * End-to-end credential requests over HTTP, as wallets make them: POST /nonce, sign a proof with
 * the wallet key, POST /credential with a pre-minted access token. The service runs as its own
 * process (`node src/main.ts`) on a persistent embedded store (a file, WAL), pinned to CPU 0 when
 * taskset exists; this load generator is pinned to CPU 1, so the figures are what one core of
 * service does. Access tokens come from real pre-authorized code offers redeemed at the token
 * endpoint before timing starts. One operation = nonce + credential; latency covers both.
 */
const WALLETS = 32;
const ROOT = join(import.meta.dirname, '../..');

function pin(pid: number, cpu: number): void {
  try {
    execFileSync('taskset', ['-cp', String(cpu), String(pid)], { stdio: 'ignore' });
  } catch {
    // No taskset (or one core): the figures are then per machine, not per core.
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startService(): Promise<{ url: string; admin: string; child: ChildProcess; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'issuer-bench-'));
  const port = await freePort();
  const admin = randomBytes(24).toString('base64url');
  const nodeArgs = process.env.BENCH_SERVICE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      DATA_DIR: dir,
      PORT: String(port),
      DEMO: 'off',
      LOG_LEVEL: 'warn',
      // 32 wallets on one address far exceed the per-IP nonce/credential limits (1,200 a minute).
      ISSUER__rateLimits__enabled: 'false',
      KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64url'),
      ADMIN_TOKEN: admin,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (process.env.BENCH_NO_PIN !== '1') {
    if (child.pid) pin(child.pid, 0);
    pin(process.pid, 1);
  }
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      if (out.includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
  });
  child.stdout?.resume();
  return { url: `http://127.0.0.1:${port}`, admin, child, dir };
}

async function json(
  pool: Pool,
  path: string,
  init: { method: string; headers?: Record<string, string>; body?: string },
) {
  const res = await pool.request({ path, ...init, method: init.method as 'POST' });
  const body = (await res.body.json()) as Record<string, any>;
  if (res.statusCode >= 300)
    throw new Error(`${init.method} ${path}: ${res.statusCode} ${JSON.stringify(body)}`);
  return body;
}

/** CPU milliseconds (user + system, all threads) a process has used so far; NaN without /proc. */
function processCpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15 (clock ticks).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
const CLOCK_TICKS = 100;

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * The wallet's key proof (OpenID4VCI 1.0 Appendix F.1), signed with one synchronous node:crypto
 * call over a header encoded once per wallet, rather than jose's SignJWT (a WebCrypto thread-pool job
 * per call). The generator's CPU per operation is reported beside the service's (generatorCpuMsPerOp).
 */
function proofJwt(
  wallet: { privateKey: KeyObject; header: string },
  payload: Record<string, unknown>,
): string {
  const input = `${wallet.header}.${b64url(payload)}`;
  const signature = sign('sha256', Buffer.from(input), { key: wallet.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function measureFormat(configurationId: string, seconds: number): Promise<Record<string, number>> {
  const service = await startService();
  const pool = new Pool(service.url, { connections: WALLETS, pipelining: 1 });
  try {
    const adminHeaders = { authorization: `Bearer ${service.admin}`, 'content-type': 'application/json' };
    const individualId = '9876543210';
    await json(pool, '/admin/identities', {
      method: 'POST',
      headers: adminHeaders,
      body: JSON.stringify({
        individual_id: individualId,
        claims: {
          name: 'Amina Hassan',
          given_name: 'Amina',
          family_name: 'Hassan',
          birthdate: '1990-04-12',
          gender: 'female',
          email: 'amina@example.org',
          phone_number: '+255700000001',
          address: { street_address: '12 Uhuru St', locality: 'Dodoma', postal_code: '41101', country: 'TZ' },
        },
      }),
    });
    const wallets = await Promise.all(
      Array.from({ length: WALLETS }, async () => {
        const offer = await json(pool, '/admin/credential-offers', {
          method: 'POST',
          headers: adminHeaders,
          body: JSON.stringify({
            credential_configuration_ids: [configurationId],
            individual_id: individualId,
          }),
        });
        const code =
          offer.credential_offer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code'][
            'pre-authorized_code'
          ];
        const token = await json(pool, '/token', {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code',
            'pre-authorized_code': code,
          }).toString(),
        });
        const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
        const header = b64url({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk: { kty, crv, x, y } });
        return { accessToken: token.access_token as string, privateKey, header };
      }),
    );

    const latenciesMs: number[] = [];
    let failures = 0;
    let running = true;
    const wallet = async (w: (typeof wallets)[number]) => {
      while (running) {
        const started = performance.now();
        try {
          const { c_nonce } = await json(pool, '/nonce', { method: 'POST' });
          const proof = proofJwt(w, { aud: service.url, nonce: c_nonce, iat: Math.floor(Date.now() / 1000) });
          await json(pool, '/credential', {
            method: 'POST',
            headers: { authorization: `Bearer ${w.accessToken}`, 'content-type': 'application/json' },
            body: JSON.stringify({ credential_configuration_id: configurationId, proofs: { jwt: [proof] } }),
          });
          latenciesMs.push(performance.now() - started);
        } catch (error) {
          if (failures++ === 0) console.error(`  first failure: ${(error as Error).message}`);
        }
      }
    };
    // Warm-up, then the timed window.
    const warm = wallets.map(wallet);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    latenciesMs.length = 0;
    failures = 0;
    const serviceCpu0 = processCpuMs(service.child.pid);
    const generatorCpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(seconds, 5) * 1000));
    const done = latenciesMs.length;
    const elapsed = (performance.now() - t0) / 1000;
    const serviceCpuMs = processCpuMs(service.child.pid) - serviceCpu0;
    const generatorCpu = process.cpuUsage(generatorCpu0);
    const generatorCpuMs = (generatorCpu.user + generatorCpu.system) / 1000;
    running = false;
    await Promise.all(warm);
    const sorted = latenciesMs.slice(0, done).sort((a, b) => a - b);
    return {
      requestsPerSecond: done / elapsed,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      // CPU per operation: the figures that stay comparable when other work shares the machine.
      // The service's rate per CPU second is what one dedicated core would do; the generator's
      // share of its core (1 = saturated) says whether the load generator limits the result.
      serviceCpuMsPerOp: serviceCpuMs / done,
      requestsPerServiceCpuSecond: done / (serviceCpuMs / 1000),
      serviceCoreBusy: serviceCpuMs / 1000 / elapsed,
      generatorCpuMsPerOp: generatorCpuMs / done,
      generatorCoreBusy: generatorCpuMs / 1000 / elapsed,
      failures,
      wallets: WALLETS,
    };
  } finally {
    await pool.close();
    service.child.kill('SIGTERM');
    await new Promise((resolve) => service.child.once('exit', resolve));
    rmSync(service.dir, { recursive: true, force: true });
  }
}

export const cases: BenchCase[] = [
  {
    name: 'http ldp_vc eddsa-rdfc-2022: nonce + credential, 32 wallets, file store',
    group: 'http',
    setup: async () => () => undefined,
    measure: (seconds) => measureFormat('NationalIdCredential_ldp_vc', seconds),
  },
  {
    name: 'http jwt_vc_json ES256: nonce + credential, 32 wallets, file store',
    group: 'http',
    setup: async () => () => undefined,
    measure: (seconds) => measureFormat('NationalIdCredential_jwt_vc_json', seconds),
  },
];
