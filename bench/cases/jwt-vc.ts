import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { createJwtVcFormat } from '../../src/credentials/formats/jwt-vc.ts';
import type { IssueRequest } from '../../src/credentials/formats/types.ts';
import { verificationMethodId } from '../../src/keys/documents.ts';

/**
 * jwt_vc_json issuance: the format (hand-rolled compact JWS, header encoded once per key) beside
 * jose `SignJWT` with the same ready KeyObject, for ES256 and EdDSA. Also the shared fixtures and
 * a standalone runner for the other credential bench cases (`node bench/cases/<file>.ts`).
 */

import type { BenchCase } from '../case.ts';
import { benchDeps, PUBLIC_URL } from '../fixtures.ts';

// Shared by the other credential cases, which import them from here.
export { type BenchCase, benchDeps, PUBLIC_URL };

export const holderJwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
  format: 'jwk',
});

/** A typical national ID credential: eight claims, one nested. */
export function benchRequest(alg: 'ES256' | 'EdDSA', extra: Partial<IssueRequest> = {}): IssueRequest {
  const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  return {
    profile: { configurationId: 'bench', types: ['NationalIdCredential'], contexts: [], alg },
    claims: {
      given_name: 'Ava',
      family_name: 'Jöns',
      birthdate: '2001-02-03',
      nationality: 'UT',
      gender: 'female',
      email: 'ava@example.org',
      phone_number: '+254700000000',
      address: { street_address: '1 Main Road', locality: 'Nairobi', country: 'KE' },
    },
    holder: { jwk: holderJwk },
    validFrom: new Date(hour),
    validUntil: new Date(hour + 365 * 86_400_000),
    ...extra,
  };
}

function joseCase(alg: 'ES256' | 'EdDSA'): BenchCase {
  return {
    name: `jwt_vc_json ${alg} jose SignJWT (KeyObject)`,
    group: 'jwt_vc_json',
    async setup() {
      const deps = await benchDeps();
      const key = deps.keys.active('credential', alg);
      const privateKey: KeyObject = key.privateKey;
      const format = createJwtVcFormat(deps);
      // Same payload as the format produces, signed through jose instead.
      const sample = JSON.parse(
        Buffer.from(
          ((await format.issue(benchRequest(alg))) as string).split('.')[1]!,
          'base64url',
        ).toString(),
      );
      const header = { alg, typ: 'JWT', kid: verificationMethodId(deps.publicUrl, key.kid) };
      return () => new SignJWT({ ...sample }).setProtectedHeader(header).sign(privateKey);
    },
  };
}

function formatCase(alg: 'ES256' | 'EdDSA'): BenchCase {
  return {
    name: `jwt_vc_json ${alg} format (precomputed header, node:crypto)`,
    group: 'jwt_vc_json',
    async setup() {
      const format = createJwtVcFormat(await benchDeps());
      const request = benchRequest(alg, {
        status: [
          {
            kind: 'bitstring',
            purpose: 'revocation',
            listCredentialUrl: `${PUBLIC_URL}/status/bitstring/AAAAAAAAAAAAAAAAAAAAAA`,
            index: 94_567,
          },
        ],
      });
      return () => format.issue(request);
    },
  };
}

export const cases: BenchCase[] = [
  formatCase('ES256'),
  joseCase('ES256'),
  formatCase('EdDSA'),
  joseCase('EdDSA'),
];
export default cases;

/** Runs cases for about `seconds` each, one at a time, and prints operations per second. */
export async function runStandalone(list: BenchCase[], seconds = 2): Promise<void> {
  for (const benchCase of list) {
    const op = await benchCase.setup();
    // Warm up for half a second so the JIT has settled before measuring.
    const warm = process.hrtime.bigint() + 500_000_000n;
    while (process.hrtime.bigint() < warm) for (let i = 0; i < 100; i++) await op();
    let count = 0;
    const start = process.hrtime.bigint();
    const end = start + BigInt(seconds * 1e9);
    while (process.hrtime.bigint() < end) {
      for (let i = 0; i < 100; i++) await op();
      count += 100;
    }
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(
      `${benchCase.group.padEnd(12)} ${benchCase.name.padEnd(60)} ${Math.round(count / elapsed)
        .toString()
        .padStart(8)}/s`,
    );
  }
}

if (import.meta.main) await runStandalone(cases);
