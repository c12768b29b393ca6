import { createJwtVcFormat } from '../../src/credentials/formats/jwt-vc.ts';
import { createLdpVcFormat } from '../../src/credentials/formats/ldp-vc.ts';
import type { FormatBaseDeps } from '../../src/credentials/formats/types.ts';
import { openPkcs11Vault } from '../../src/keys/pkcs11.ts';
import type { KeyAlgorithm, KeyPurpose } from '../../src/keys/spi.ts';
import { softHsmToken } from '../../test/helpers/softhsm.ts';
import type { BenchCase } from '../case.ts';
import { benchDeps, createBenchDeps } from '../fixtures.ts';
import { benchRequest } from './jwt-vc.ts';
import { request as ldpRequest } from './ldp-vc.ts';

/**
 * Signing through a PKCS#11 token (SoftHSM2, a fresh token per run) beside the same operation with
 * in-process keys: raw signatures per algorithm, then whole credentials (jwt_vc_json ES256, the
 * ldp_vc eddsa-rdfc-2022 fast path). The × column is the token's rate over the in-process rate.
 * SoftHSM runs in this thread, so its CPU time is counted; a network HSM's latency is not modelled.
 */

let shared: Promise<FormatBaseDeps> | undefined;
function hsmDeps(): Promise<FormatBaseDeps> {
  shared ??= (async () => {
    const token = softHsmToken('issuer-bench');
    process.once('exit', () => token.remove());
    const vault = await openPkcs11Vault({
      ...token.config,
      slot: -1,
      purposes: ['credential', 'oidc'] as KeyPurpose[],
    });
    return createBenchDeps(vault);
  })();
  return shared;
}

const data = Buffer.from('eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIn0', 'ascii');
const SIGNERS: [KeyPurpose, KeyAlgorithm][] = [
  ['credential', 'EdDSA'],
  ['credential', 'ES256'],
  ['oidc', 'RS256'],
];

function rawCases(): BenchCase[] {
  return SIGNERS.flatMap(([purpose, alg]) => {
    const inProcess = `sign ${alg} in-process (KeyObject)`;
    return [
      {
        name: inProcess,
        group: 'pkcs11',
        async setup() {
          const key = (await benchDeps()).keys.active(purpose, alg);
          return () => key.sign(data);
        },
      },
      {
        name: `sign ${alg} through PKCS#11 (SoftHSM2)`,
        group: 'pkcs11',
        compareTo: inProcess,
        async setup() {
          const key = (await hsmDeps()).keys.active(purpose, alg);
          if (key.backend !== 'pkcs11') throw new Error(`${alg} key is not in the token`);
          return () => key.sign(data);
        },
      },
    ];
  });
}

function credentialCases(): BenchCase[] {
  const jwtInProcess = 'jwt_vc_json ES256 in-process';
  const ldpInProcess = 'ldp_vc eddsa-rdfc-2022 fast path in-process';
  return [
    {
      name: jwtInProcess,
      group: 'pkcs11',
      async setup() {
        const format = createJwtVcFormat(await benchDeps());
        return () => format.issue(benchRequest('ES256'));
      },
    },
    {
      name: 'jwt_vc_json ES256 through PKCS#11 (SoftHSM2)',
      group: 'pkcs11',
      compareTo: jwtInProcess,
      async setup() {
        const format = createJwtVcFormat(await hsmDeps());
        return () => format.issue(benchRequest('ES256'));
      },
    },
    {
      name: ldpInProcess,
      group: 'pkcs11',
      async setup() {
        const format = createLdpVcFormat(await benchDeps());
        return () => format.issue(ldpRequest('eddsa-rdfc-2022'));
      },
    },
    {
      name: 'ldp_vc eddsa-rdfc-2022 fast path through PKCS#11 (SoftHSM2)',
      group: 'pkcs11',
      compareTo: ldpInProcess,
      async setup() {
        const format = createLdpVcFormat(await hsmDeps());
        return () => format.issue(ldpRequest('eddsa-rdfc-2022'));
      },
    },
  ];
}

export const cases: BenchCase[] = [...rawCases(), ...credentialCases()];
export default cases;
