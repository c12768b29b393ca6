import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

const SECRET = 'k'.repeat(40);

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

function configFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'config-')), 'config.json');
  writeFileSync(file, content);
  return file;
}

describe('configuration', () => {
  it('runs in demo mode with nothing configured, on 127.0.0.1:3000 and ./data', () => {
    const config = loadConfig({ env: {} });
    expect(config.resolved.demo).toBe(true);
    expect(config.resolved.publicUrl).toBe('http://127.0.0.1:3000');
    expect(config.resolved.dataDir).toMatch(/\/data$/);
    expect(config.store.mongodbUrl).toBe('');
  });

  it('takes the documented environment variables', () => {
    const config = loadConfig({
      env: {
        PORT: '8080',
        HOST: '0.0.0.0',
        PUBLIC_URL: 'https://id.example.gov/issuer/',
        DATA_DIR: '/var/lib/issuer',
        MONGODB_URL: 'mongodb://db:27017/?replicaSet=rs0',
        KEY_ENCRYPTION_SECRET: SECRET,
        ISSUER__store__mongodbSocketTimeoutMs: '8000',
      },
    });
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
    expect(config.resolved.publicUrl).toBe('https://id.example.gov/issuer');
    expect(config.resolved.dataDir).toBe('/var/lib/issuer');
    expect(config.store.mongodbUrl).toBe('mongodb://db:27017/?replicaSet=rs0');
    expect(config.store.mongodbSocketTimeoutMs).toBe(8000);
    expect(config.resolved.demo).toBe(false);
  });

  it('defaults the public URL to the configured port', () => {
    expect(loadConfig({ env: { PORT: '4100' } }).resolved.publicUrl).toBe('http://127.0.0.1:4100');
  });

  it('names every bad option by its full path and says why', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      PUBLIC_URL: 'ftp://example.com',
      LOG_LEVEL: 'loud',
      MONGODB_URL: 'postgres://db',
      KEY_ENCRYPTION_SECRET: 'short',
      ISSUER__http__bodyLimitBytes: '10',
      ISSUER__store__nothing: '1',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'port: must be a number, got "eighty"',
        'publicUrl: must be an http or https URL',
        expect.stringMatching(/^logLevel: must be one of/),
        'store.mongodbUrl: must start with mongodb:// or mongodb+srv://',
        'keys.encryptionSecret: must be at least 32 characters',
        'http.bodyLimitBytes: must be an integer from 1024 to 67108864',
        'ISSUER__store__nothing: store.nothing is not an option',
      ]),
    );
  });

  it('rejects unknown options, wrong types and out-of-range values in the config file', () => {
    const file = configFile(
      JSON.stringify({
        port: 70000,
        store: { sweepIntervalSeconds: 'often', extra: true },
        http: 5,
        nope: 1,
      }),
    );
    const problems = problemsOf({ CONFIG_FILE: file, KEY_ENCRYPTION_SECRET: SECRET });
    expect(problems).toEqual(
      expect.arrayContaining([
        'port: must be an integer from 0 to 65535',
        'store.sweepIntervalSeconds: must be a number, got "often"',
        'store.extra: unknown option',
        'http: must be an object',
        'nope: unknown option',
      ]),
    );
  });

  it('reports a config file that is not JSON with its path', () => {
    const file = configFile('{ not json');
    expect(() => loadConfig({ env: { CONFIG_FILE: file } })).toThrow(file);
  });

  it('requires a key-encryption secret outside demo mode', () => {
    expect(problemsOf({ DEMO: 'off' })).toEqual([
      'keys.encryptionSecret: required outside demo mode (KEY_ENCRYPTION_SECRET)',
    ]);
  });

  it('refuses a public URL with a query, a fragment or credentials', () => {
    expect(problemsOf({ PUBLIC_URL: 'https://a.example/?x=1' })).toEqual([
      'publicUrl: must not have a query or fragment',
    ]);
    expect(problemsOf({ PUBLIC_URL: 'https://u:p@a.example' })).toEqual([
      'publicUrl: must not carry credentials',
    ]);
  });

  it('serves the eSignet paths only when asked, under a prefix that is a plain path and no provider path', () => {
    const on = loadConfig({ env: { ISSUER__oidc__esignetCompat__enabled: 'true' } });
    expect(on.oidc.esignetCompat).toEqual({ enabled: true, prefix: '/v1/esignet' });
    expect(loadConfig({ env: {} }).oidc.esignetCompat.enabled).toBe(false);
    for (const prefix of ['v1/esignet', '/v1/esignet/', '/', '/token/x', '/.well-known', '/a b', '/a?b']) {
      expect(problemsOf({ ISSUER__oidc__esignetCompat__prefix: prefix })).toEqual([
        'oidc.esignetCompat.prefix: must be a path such as /v1/esignet (segments of letters, digits, . _ ~ -; not a provider path)',
      ]);
    }
    expect(
      loadConfig({ env: { ISSUER__oidc__esignetCompat__prefix: '/esignet' } }).oidc.esignetCompat.prefix,
    ).toBe('/esignet');
  });
});
