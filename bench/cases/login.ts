import { rmSync } from 'node:fs';
import type { TestApp } from '../../test/helpers/app.ts';
import {
  admin,
  Browser,
  redeem,
  registerClient,
  startAuthorization,
  type TestClient,
} from '../../test/protocol/oidc/helpers.ts';
import type { BenchCase } from '../case.ts';
import { percentile, processCpuMs, startService } from '../service.ts';

/**
 * SECURITY.md row 58: whole login flows a relying party drives, as fast as 8 concurrent people go,
 * against the service in its own process (pinned to one core): PAR with private_key_jwt, the
 * authorization redirect, the JSON interaction API (details, one factor, consent: prompt=consent
 * so every flow consents), the redirect back with the code, and the code redeemed at the token
 * endpoint with PKCE. With `otp` the code is read from the outbox (standing in for the SMS; that
 * step is timed apart as `otpDelivery`); with `pin` the PIN is checked against its scrypt hash at
 * the production cost (kyc.scryptCost 16,384), the figure to compare with Keycloak's ~15 hashed
 * password logins per second per vCPU.
 */
const PEOPLE = 8;
const STEPS = [
  'authorize',
  'details',
  'sendOtp',
  'otpDelivery',
  'authenticate',
  'consent',
  'callback',
  'token',
];

interface Person {
  individualId: string;
  email: string;
  phone: string;
  pin: string;
}

async function measureLogins(factor: 'otp' | 'pin', seconds: number): Promise<Record<string, number>> {
  const service = await startService({
    ISSUER__kyc__notify__outboxEnabled: 'true',
    // SECURITY.md row 15 caps codes per person (10 an hour); 8 people log in far more often here.
    ISSUER__kyc__otp__maxSendsPerIndividual: '1000',
    ISSUER__kyc__otp__sendWindowSeconds: '60',
  });
  // The test helpers need only the URL and the admin token of the app they drive.
  const app = { url: service.url, adminToken: service.admin } as unknown as TestApp;
  try {
    const client = await registerClient(app);
    const people: Person[] = await Promise.all(
      Array.from({ length: PEOPLE }, async (_, i) => {
        const person = {
          individualId: `77700${String(i).padStart(5, '0')}`,
          email: `person${i}@bench.example`,
          phone: `+25570000${String(i).padStart(4, '0')}`,
          pin: `${135790 + i}`,
        };
        await admin(app, 'POST', '/identities', {
          individual_id: person.individualId,
          pin: person.pin,
          claims: {
            name: `Person ${i}`,
            given_name: 'Person',
            family_name: String(i),
            birthdate: '1990-01-01',
            email: person.email,
            phone_number: person.phone,
          },
        });
        return person;
      }),
    );

    const timings = new Map<string, number[]>(STEPS.map((step) => [step, []]));
    let flows = 0;
    let failures = 0;
    let running = true;
    const flow = async (person: Person, record: boolean) => {
      const browser = new Browser(new URL(service.url).origin);
      const times: [string, number][] = [];
      let mark = performance.now();
      const step = (name: string) => {
        const now = performance.now();
        times.push([name, now - mark]);
        mark = now;
      };
      const started = await startAuthorization(app, browser, client as TestClient, { prompt: 'consent' });
      if (!started.interaction) throw new Error(`authorize: ${started.reply.status} ${started.reply.text}`);
      step('authorize');
      const interaction = started.interaction;
      const details = (await browser.fetch(`${interaction}/api`)).json();
      const headers = { 'x-csrf-token': details.csrf_token as string, origin: new URL(service.url).origin };
      step('details');
      let challenge: string = person.pin;
      if (factor === 'otp') {
        const sent = await browser.fetch(`${interaction}/api/send-otp`, {
          json: { individual_id: person.individualId },
          headers,
        });
        if (sent.status !== 200) throw new Error(`send-otp: ${sent.status} ${sent.text}`);
        step('sendOtp');
        challenge = await otpFor(app, person);
        step('otpDelivery');
      }
      const auth = await browser.fetch(`${interaction}/api/authenticate`, {
        json: { individual_id: person.individualId, factor, challenge },
        headers,
      });
      if (auth.status !== 200) throw new Error(`authenticate: ${auth.status} ${auth.text}`);
      step('authenticate');
      const offered = auth.json();
      const consent = await browser.fetch(`${interaction}/api/consent`, {
        json: { accepted_claims: [...offered.essential_claims, ...offered.voluntary_claims] },
        headers,
      });
      if (consent.status !== 200) throw new Error(`consent: ${consent.status} ${consent.text}`);
      step('consent');
      const { url } = await browser.follow(consent.json().redirect_to);
      const code = new URL(url).searchParams.get('code');
      if (!code) throw new Error(`no code in ${url}`);
      step('callback');
      const token = await redeem(app, client, code, started.verifier);
      if (token.status !== 200) throw new Error(`token: ${token.status} ${JSON.stringify(token.body)}`);
      step('token');
      if (!record) return;
      for (const [name, ms] of times) timings.get(name)?.push(ms);
      flows++;
    };
    const person = async (p: Person) => {
      while (running) {
        try {
          await flow(p, true);
        } catch (error) {
          if (failures++ === 0) console.error(`  first failure: ${(error as Error).message}`);
        }
      }
    };
    // Warm-up: one flow each, then the timed window.
    await Promise.all(people.map((p) => flow(p, false)));
    const cpu0 = processCpuMs(service.child.pid);
    const t0 = performance.now();
    const loops = people.map(person);
    await new Promise((resolve) => setTimeout(resolve, Math.max(seconds, 5) * 1000));
    running = false;
    await Promise.all(loops);
    const elapsed = (performance.now() - t0) / 1000;
    const cpuMs = processCpuMs(service.child.pid) - cpu0;
    const result: Record<string, number> = {
      flowsPerSecond: flows / elapsed,
      flowsPerServiceCpuSecond: flows / (cpuMs / 1000),
      serviceCpuMsPerFlow: cpuMs / flows,
      failures,
      people: PEOPLE,
    };
    for (const [name, values] of timings) {
      if (values.length === 0) continue;
      result[`${name}P95Ms`] = percentile(
        values.sort((a, b) => a - b),
        95,
      );
    }
    return result;
  } finally {
    service.child.kill('SIGTERM');
    await new Promise((resolve) => service.child.once('exit', resolve));
    rmSync(service.dir, { recursive: true, force: true });
  }
}

/** The newest one-time code sent to this person (e-mail or phone) from the outbox. */
async function otpFor(app: TestApp, person: Person): Promise<string> {
  for (const to of [person.phone, person.email]) {
    const { messages } = await admin(app, 'GET', `/outbox?limit=1&to=${encodeURIComponent(to)}`);
    const code = /\b(\d{6})\b/.exec((messages as { text: string }[])[0]?.text ?? '')?.[1];
    if (code) return code;
  }
  throw new Error(`no one-time code for ${person.individualId} in the outbox`);
}

export const cases: BenchCase[] = [
  {
    name: 'login flow, OTP: PAR → authorize → OTP → consent → code → token, 8 people',
    group: 'login',
    setup: async () => () => undefined,
    measure: (seconds) => measureLogins('otp', seconds),
  },
  {
    name: 'login flow, PIN (scrypt 16,384): PAR → … → token, 8 people',
    group: 'login',
    setup: async () => () => undefined,
    measure: (seconds) => measureLogins('pin', seconds),
  },
];
