import { describe, expect, it } from 'vitest';
import { type ConfigError, loadConfig } from '../../src/config/load.ts';

const env = { DEMO: 'off', KEY_ENCRYPTION_SECRET: 'k'.repeat(32) };
const problems = (kyc: Record<string, unknown>) => {
  try {
    loadConfig({ env, overrides: { kyc } });
    return [];
  } catch (error) {
    return (error as ConfigError).problems;
  }
};

describe('kyc configuration', () => {
  it('defaults to the mock system for every client', () => {
    const { kyc } = loadConfig({ env });
    expect(kyc.systems).toEqual({ mock: {} });
    expect(kyc.defaultSystem).toBe('mock');
    expect(kyc.otp).toMatchObject({ length: 6, ttlSeconds: 180, maxSendsPerTransaction: 3 });
    expect(kyc.lockout).toEqual({
      maxAttemptsPerTransaction: 3,
      maxFailuresPerIndividual: 5,
      failureWindowSeconds: 600,
      blockSeconds: 600,
    });
  });

  it('takes free-form systems and client mappings', () => {
    const config = loadConfig({
      env,
      overrides: {
        kyc: {
          systems: {
            mock: {},
            national: { type: 'http', baseUrl: 'https://registry.example', timeoutMs: 3000 },
          },
          clientSystems: { 'gov-rp': 'national' },
        },
      },
    });
    expect(config.kyc.systems.national).toEqual({
      type: 'http',
      baseUrl: 'https://registry.example',
      timeoutMs: 3000,
    });
    expect(config.kyc.clientSystems).toEqual({ 'gov-rp': 'national' });
  });

  it('names the bad option and the reason', () => {
    expect(problems({ systems: { registry: { type: 'http' } } })).toEqual([
      'kyc.systems: registry.baseUrl: must be an http or https URL',
      'kyc: defaultSystem: "mock" is not in kyc.systems',
    ]);
    expect(problems({ systems: { x: { type: 'ldap' } }, defaultSystem: 'x' })).toEqual([
      'kyc.systems: x.type: must be mock or http',
    ]);
    expect(problems({ clientSystems: { rp: 'nowhere' } })).toEqual([
      'kyc: clientSystems.rp: must name a system in kyc.systems',
    ]);
    expect(problems({ otp: { length: 4 }, scryptCost: 1000, notify: { sms: 'smtp' } })).toEqual([
      'kyc.scryptCost: must be a power of two from 1024 to 1048576',
      'kyc.otp.length: must be an integer from 6 to 10',
      'kyc.notify.sms: must be one of outbox, console, webhook',
    ]);
    expect(problems({ systems: 'mock' })).toEqual(['kyc.systems: must be an object']);
  });
});
