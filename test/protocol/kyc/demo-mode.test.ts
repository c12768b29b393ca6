import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';

describe('kyc in demo mode', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { DEMO: 'on' }, overrides: { kyc: { scryptCost: 1024 } } });
  });
  afterAll(() => app.stop());

  it('seeds the demo identities, lists their secrets under DATA_DIR, and shows OTPs in the outbox', async () => {
    const demo = JSON.parse(readFileSync(join(app.dataDir, 'demo-identities.json'), 'utf8')) as {
      identities: { individualId: string; email: string }[];
    };
    const [first] = demo.identities;
    const systems = app.running.parts.kyc.identitySystems;
    const transaction = { transactionId: 'demo-tx-1', clientId: 'demo-rp' };
    const sent = await systems.forClient('demo-rp').sendOtp(first!.individualId, 'email', transaction);
    expect(sent.maskedTo).toMatch(/^.\*\*\*@example\./);
    const response = await fetch(`${app.url}/admin/outbox?to=${encodeURIComponent(first!.email)}`, {
      headers: { Authorization: `Bearer ${app.adminToken}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const { messages } = (await response.json()) as { messages: { text: string; purpose: string }[] };
    expect(messages[0]!.purpose).toBe('otp');
    const code = /\b(\d{6})\b/.exec(messages[0]!.text)![1]!;
    const result = await systems
      .forClient('demo-rp')
      .authenticate(first!.individualId, [{ factor: 'otp', value: code }], transaction);
    expect(result.factors).toEqual(['otp']);
    // Codes appear nowhere in the logs.
    expect(JSON.stringify(app.logs)).not.toContain(code);
  });
});
