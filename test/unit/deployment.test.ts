import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

/** `docker compose config` (plugin) or Debian's `docker-compose config`: both parse without an engine. */
function composeConfig(): string {
  const env = { ...process.env, KEY_ENCRYPTION_SECRET: 'k'.repeat(40), ADMIN_TOKEN: 't'.repeat(32) };
  const plugin = spawnSync('docker', ['compose', 'config'], { cwd: ROOT, env, encoding: 'utf8' });
  if (plugin.status === 0) return plugin.stdout;
  return execFileSync('docker-compose', ['config'], { cwd: ROOT, env, encoding: 'utf8' });
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
