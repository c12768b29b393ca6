import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '../..');

/** `docker compose config` (plugin) or Debian's `docker-compose config`: both parse without an engine. */
function composeConfig(args: string[] = [], extraEnv: Record<string, string> = {}): string {
  const env = {
    ...process.env,
    KEY_ENCRYPTION_SECRET: 'k'.repeat(40),
    ADMIN_TOKEN: 't'.repeat(32),
    ...extraEnv,
  };
  const plugin = spawnSync('docker', ['compose', ...args, 'config'], { cwd: ROOT, env, encoding: 'utf8' });
  if (plugin.status === 0) return plugin.stdout;
  return execFileSync('docker-compose', [...args, 'config'], { cwd: ROOT, env, encoding: 'utf8' });
}

interface ComposeService {
  profiles?: string[];
  command?: string[];
  environment?: Record<string, string>;
  ports?: { published: string | number; target: string | number }[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

describe('deployment files', () => {
  it('docker-compose.yml parses and wires the service to a MongoDB replica set with a health check', () => {
    const config = composeConfig();
    expect(config).toMatch(/MONGODB_URL: mongodb:\/\/mongo:27017\/\?replicaSet=rs0/);
    expect(config).toMatch(/--replSet\s*\n\s*- rs0/);
    expect(config).toMatch(/condition: service_healthy/);
    expect(config).toMatch(/healthcheck:/);
    expect(config).toMatch(/mongo-data:\/data\/db/);
    // No silent key generation: the first start opts in (KEYS_INIT=true), later ones do not.
    expect(config).toMatch(/KEYS_INIT: "?false"?/);
  });

  it('the scale profile: two instances on one three-member replica set, only the first initialising keys', () => {
    // KEYS_INIT=true, as for a first start: it must reach issuer-1 and never issuer-2.
    const services = parse(composeConfig(['--profile', 'scale'], { KEYS_INIT: 'true' })).services as Record<
      string,
      ComposeService
    >;
    const scale = ['issuer-1', 'issuer-2', 'mongo-rs1', 'mongo-rs2', 'mongo-rs3'];
    // Profiled services start only with --profile scale: the default `up` stays issuer + mongo.
    for (const name of scale) expect(services[name]?.profiles, name).toEqual(['scale']);
    expect(services.issuer?.profiles).toBeUndefined();
    expect(services.mongo?.profiles).toBeUndefined();
    for (const member of ['mongo-rs1', 'mongo-rs2', 'mongo-rs3'])
      expect(services[member]?.command).toEqual(['--replSet', 'rs1', '--bind_ip_all']);
    const initiate = services['mongo-rs1']?.healthcheck?.test.join(' ') ?? '';
    for (const member of ['mongo-rs1', 'mongo-rs2', 'mongo-rs3'])
      expect(initiate).toContain(`host: '${member}:27017'`);
    const [one, two] = [services['issuer-1']!, services['issuer-2']!];
    expect(one.environment?.MONGODB_URL).toBe(
      'mongodb://mongo-rs1:27017,mongo-rs2:27017,mongo-rs3:27017/?replicaSet=rs1',
    );
    for (const name of ['MONGODB_URL', 'PUBLIC_URL', 'KEY_ENCRYPTION_SECRET', 'ADMIN_TOKEN'])
      expect(two.environment?.[name], name).toBe(one.environment?.[name]);
    expect(one.environment?.KEYS_INIT).toBe('true');
    expect(two.environment?.KEYS_INIT).toBe('false');
    expect(two.depends_on?.['issuer-1']?.condition).toBe('service_healthy');
    expect(one.depends_on?.['mongo-rs1']?.condition).toBe('service_healthy');
    const published = (s: ComposeService) => s.ports?.map((p) => String(p.published));
    expect([published(one), published(two)]).toEqual([['3001'], ['3002']]);
  });

  it('Dockerfile is multi-stage on node:24-slim, production dependencies only, non-root', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM node:24-slim/gm)).toHaveLength(2);
    expect(dockerfile).toContain('npm ci --omit=dev');
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "src\/main.ts"\]$/m);
  });

  it('pins Node 24 as a devDependency so npm scripts run on it', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.devDependencies.node).toMatch(/^24\./);
    expect(process.versions.node.split('.')[0]).toBe('24');
  });
});
