import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthFailed, NoAttemptsLeft, ServerError, TemporarilyUnavailable } from '../../src/errors.ts';
import type { IdentitySystem } from '../../src/kyc/spi.ts';
import { registryChecker, watchRegistryExchange } from '../helpers/openapi.ts';
import { type KycHarness, kycHarness, tx } from '../protocol/kyc/harness.ts';

type Handler = (body: Record<string, unknown>, request: IncomingMessage, response: ServerResponse) => void;

/** A fake external registry following docs/identity-registry-api.md; each test scripts its routes. */
async function fakeRegistry(routes: Record<string, Handler>) {
  const calls: { path: string; body: Record<string, unknown>; authorization?: string }[] = [];
  // Each request of the service's client, and each answer of this fake, against docs/openapi/identity-registry.yaml.
  const checker = await registryChecker();
  const contract = { requests: [] as string[], answers: [] as string[] };
  const server: Server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk) => {
      raw += chunk;
    });
    request.on('end', () => {
      const body = raw ? JSON.parse(raw) : {};
      calls.push({ path: request.url ?? '', body, authorization: request.headers.authorization });
      watchRegistryExchange(checker, request.url ?? '', body, response, contract);
      const handler = routes[request.url ?? ''];
      if (!handler) return void response.writeHead(404).end(JSON.stringify({ error: 'not_found' }));
      handler(body, request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    contract,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const json = (response: ServerResponse, status: number, body: unknown) =>
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));

const goodRoutes: Record<string, Handler> = {
  '/otp/send': (_body, _request, response) => json(response, 200, { maskedTo: '+255 *** **34' }),
  '/authenticate': (body, _request, response) => {
    const [challenge] = body.challenges as { factor: string; value: string }[];
    if (challenge?.value === '111111')
      json(response, 200, { accountId: 'acct-77', kycToken: 'registry-token-1' });
    else json(response, 401, { error: 'auth_failed', error_description: 'wrong code' });
  },
  '/kyc/exchange': (body, _request, response) =>
    body.kycToken === 'registry-token-1'
      ? json(response, 200, { claims: { name: 'Juma Mwangi', email: 'juma@example.org', secret_field: 'x' } })
      : json(response, 401, { error: 'invalid_transaction' }),
  '/kyc/account': (body, _request, response) =>
    body.individualId === '5610384927'
      ? json(response, 200, { accountId: 'acct-77' })
      : json(response, 404, { error: 'not_found' }),
};

let h: KycHarness;
let registry: Awaited<ReturnType<typeof fakeRegistry>>;
let system: IdentitySystem;

/** `offContract`: the test scripts answers that break the registry contract on purpose. */
let offContract = false;

async function setup(routes: Record<string, Handler>, timeoutMs = 1000, answersOffContract = false) {
  offContract = answersOffContract;
  registry = await fakeRegistry(routes);
  h = await kycHarness({
    systems: { national: { type: 'http', baseUrl: registry.url, apiKey: 'registry-api-key', timeoutMs } },
    defaultSystem: 'national',
  });
  system = h.registry.defaultSystem();
}

afterEach(async () => {
  expect(registry?.contract.requests ?? []).toEqual([]);
  if (!offContract) expect(registry?.contract.answers ?? []).toEqual([]);
  registry?.close();
  await h?.close();
});

describe('http identity system', () => {
  beforeEach(() => setup(goodRoutes));

  it('sends an OTP, authenticates, and exchanges only the accepted claims', async () => {
    const t = tx('rp-a');
    expect(await system.sendOtp('5610384927', 'sms', t)).toMatchObject({
      maskedTo: '+255 *** **34',
      sendsLeft: 2,
    });
    const auth = await system.authenticate('5610384927', [{ factor: 'otp', value: '111111' }], t);
    expect(auth).toMatchObject({ accountId: 'acct-77', factors: ['otp'] });
    expect(auth.kycToken).not.toBe('registry-token-1');
    const kyc = await system.exchangeKyc(auth.kycToken, ['name', 'email'], ['en'], { clientId: 'rp-a' });
    expect(kyc).toEqual({ claims: { name: 'Juma Mwangi', email: 'juma@example.org' } });
    expect(registry.calls.map((c) => c.path)).toEqual(['/otp/send', '/authenticate', '/kyc/exchange']);
    expect(registry.calls.every((c) => c.authorization === 'Bearer registry-api-key')).toBe(true);
    expect(registry.calls[2]!.body).toMatchObject({ kycToken: 'registry-token-1', clientId: 'rp-a' });
  });

  it('maps wrong credentials to auth_failed and counts them toward the limits', async () => {
    const t = tx();
    for (let i = 0; i < 3; i++) {
      await expect(
        system.authenticate('5610384927', [{ factor: 'otp', value: '000000' }], t),
      ).rejects.toBeInstanceOf(AuthFailed);
    }
    await expect(
      system.authenticate('5610384927', [{ factor: 'otp', value: '111111' }], t),
    ).rejects.toBeInstanceOf(NoAttemptsLeft);
    expect(registry.calls.filter((c) => c.path === '/authenticate')).toHaveLength(3);
  });

  it('resolves accounts, and reports an unknown individual as undefined', async () => {
    expect(await system.accountFor('5610384927')).toBe('acct-77');
    expect(await system.accountFor('0000000000')).toBeUndefined();
  });
});

describe('http identity system verification records (OpenID Connect for Identity Assurance)', () => {
  const records = [
    {
      verification: {
        trust_framework: 'eidas',
        assurance_level: 'high',
        evidence: [{ type: 'document', document_details: { type: 'idcard', document_number: 'X1' } }],
      },
      claims: ['name', 'birthdate'],
    },
    { verification: { trust_framework: 'de_aml' }, claims: ['address'] },
  ];
  beforeEach(() =>
    setup({
      ...goodRoutes,
      '/authenticate': (_body, _request, response) =>
        json(response, 200, { accountId: 'acct-77', kycToken: 'registry-token-1', verifications: records }),
      '/kyc/exchange': (_body, _request, response) =>
        json(response, 200, {
          claims: { name: 'Juma Mwangi', email: 'juma@example.org' },
          verifications: records,
        }),
    }),
  );

  it('keeps summaries at authentication and, at the exchange, only the records covering accepted claims', async () => {
    const t = tx('rp-a');
    const auth = await system.authenticate('5610384927', [{ factor: 'pin', value: '123456' }], t);
    // For the consent page: no document details.
    expect(auth.verifications).toEqual([
      {
        verification: { trust_framework: 'eidas', assurance_level: 'high', evidence: [{ type: 'document' }] },
        claims: ['name', 'birthdate'],
      },
      { verification: { trust_framework: 'de_aml' }, claims: ['address'] },
    ]);
    const kyc = await system.exchangeKyc(auth.kycToken, ['name', 'email'], [], { clientId: 'rp-a' });
    expect(kyc).toEqual({
      claims: { name: 'Juma Mwangi', email: 'juma@example.org' },
      verifications: [{ verification: records[0]!.verification, claims: ['name'] }],
    });
  });

  it('refuses a record without a trust framework as malformed registry output', async () => {
    registry.close();
    await h.close();
    await setup(
      {
        ...goodRoutes,
        '/kyc/exchange': (_b, _r, response) =>
          json(response, 200, {
            claims: { name: 'Juma' },
            verifications: [{ verification: {}, claims: ['name'] }],
          }),
      },
      1000,
      true,
    );
    const auth = await system.authenticate('5610384927', [{ factor: 'otp', value: '111111' }], tx());
    await expect(system.exchangeKyc(auth.kycToken, ['name'], [])).rejects.toBeInstanceOf(ServerError);
    const line = h.logs.find((l) => l.msg === 'identity registry returned a malformed response');
    expect(line?.reason).toBe('verifications[0].verification.trust_framework must be a non-empty string');
  });
});

describe('http identity system failures', () => {
  it('answers 503 when the registry is down', async () => {
    await setup(goodRoutes);
    registry.close();
    const error = await system.accountFor('5610384927').catch((e) => e);
    expect(error).toBeInstanceOf(TemporarilyUnavailable);
    expect(error.status).toBe(503);
    expect(
      h.logs.some((l) => l.msg === 'identity registry unavailable' && l.reason === 'connection failed'),
    ).toBe(true);
  });

  it('answers 503 within the timeout when the registry hangs', async () => {
    await setup({ '/kyc/account': () => {} }, 300);
    const started = Date.now();
    const error = await system.accountFor('5610384927').catch((e) => e);
    expect(error).toBeInstanceOf(TemporarilyUnavailable);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(h.logs.some((l) => l.reason === 'no answer within 300 ms')).toBe(true);
  });

  it('answers 503 when the registry fails with a 5xx', async () => {
    await setup({ '/kyc/account': (_b, _r, response) => json(response, 500, { error: 'boom' }) });
    await expect(system.accountFor('5610384927')).rejects.toBeInstanceOf(TemporarilyUnavailable);
  });

  it('turns malformed registry output into a server error with a clear log line', async () => {
    await setup(
      {
        '/kyc/account': (_b, _r, response) => json(response, 200, { account: 42 }),
        '/otp/send': (_b, _r, response) => response.writeHead(200).end('<html>oops</html>'),
        '/authenticate': (_b, _r, response) => json(response, 418, { error: 'teapot' }),
      },
      1000,
      true,
    );
    const malformed = await system.accountFor('5610384927').catch((e) => e);
    expect(malformed).toBeInstanceOf(ServerError);
    expect(malformed.status).toBe(500);
    await expect(system.sendOtp('5610384927', 'sms', tx())).rejects.toBeInstanceOf(ServerError);
    await expect(
      system.authenticate('5610384927', [{ factor: 'pin', value: '123456' }], tx()),
    ).rejects.toBeInstanceOf(ServerError);
    const lines = h.logs.filter((l) => l.msg === 'identity registry returned a malformed response');
    expect(lines.map((l) => [l.system, l.endpoint])).toEqual([
      ['national', '/kyc/account'],
      ['national', '/otp/send'],
      ['national', '/authenticate'],
    ]);
    expect(lines[0]!.reason).toBe('accountId must be a non-empty string');
    // The fake's three answers are off contract, and the document says so.
    expect(registry.contract.answers).toHaveLength(3);
  });
});
