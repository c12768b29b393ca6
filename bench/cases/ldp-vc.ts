import { createHash, sign } from 'node:crypto';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';
import { cryptosuite as ecdsaRdfc2019 } from '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';
import {
  buildUnsignedCredential,
  createLdpVcFormat,
  issueWithLibrary,
  keyObjectSigner,
} from '../../src/credentials/formats/ldp-vc.ts';
import type { FormatProfile, IssueRequest } from '../../src/credentials/formats/types.ts';
import { createDocumentLoader, ownContextUrl } from '../../src/credentials/jsonld/document-loader.ts';
import { didWebFromUrl, verificationMethodId } from '../../src/keys/documents.ts';
import type { KeyAlgorithm } from '../../src/keys/spi.ts';
import type { BenchCase } from '../case.ts';
import { benchDeps, PUBLIC_URL } from '../fixtures.ts';

/**
 * ldp_vc issuance per core: the stock library path (as a naive issuer writes it: Multikey signer
 * from the library, which re-imports the Ed25519 key on every signature), our library path (ready
 * KeyObject signer, the fast path's fallback), and the fast path; raw signatures as the floor.
 */

const holderJwk = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };
let counter = 0;

/** A national ID credential with the demo claims; values change per call (names, status index). */
export function request(cryptosuite: NonNullable<FormatProfile['cryptosuite']>): IssueRequest {
  const n = counter++;
  const hour = Math.floor(Date.UTC(2026, 10, 5, 10) / 3_600_000) * 3_600_000;
  return {
    profile: {
      configurationId: `NationalId_${cryptosuite}`,
      types: ['NationalIdCredential'],
      contexts: [ownContextUrl(PUBLIC_URL, 'claims-v1')],
      cryptosuite,
    },
    claims: {
      fullName: `Amina Diallo ${n}`,
      givenName: 'Amina',
      familyName: `Diallo${n}`,
      localizedName: { en: 'Amina Diallo', ar: 'أمينة ديالو' },
      birthdate: '1990-04-01',
      gender: 'female',
      address: {
        streetAddress: `${n} Rue de la Paix`,
        locality: 'Dakar',
        postalCode: '10000',
        country: 'SN',
      },
      email: `amina${n}@example.org`,
      nationality: ['SN'],
    },
    holder: { jwk: holderJwk },
    status: [
      {
        kind: 'bitstring',
        purpose: 'revocation',
        listCredentialUrl: `${PUBLIC_URL}/status/bitstring/1`,
        index: (n * 7919) % 131_072,
      },
    ],
    validFrom: new Date(hour),
    validUntil: new Date(hour + 365 * 86_400_000),
  };
}

const message = createHash('sha256').update('bench').digest();
const verifyData = Buffer.concat([message, message]);

function rawSignature(alg: KeyAlgorithm): BenchCase {
  return {
    name: alg === 'EdDSA' ? 'raw Ed25519 signature (node:crypto)' : 'raw P-256 ES256 signature (node:crypto)',
    group: 'floor',
    async setup() {
      const key = (await benchDeps()).keys.active('credential', alg);
      return alg === 'EdDSA'
        ? () => sign(null, verifyData, key.privateKey)
        : () => sign('sha256', verifyData, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    },
  };
}

/** vc.issue with the library's own Multikey signer: the baseline the issue's targets refer to. */
function stockCase(cryptosuite: 'eddsa-rdfc-2022' | 'ecdsa-rdfc-2019'): BenchCase {
  return {
    name: `ldp_vc ${cryptosuite} stock (vc.issue + Multikey signer)`,
    group: 'ldp_vc',
    async setup() {
      const deps = await benchDeps();
      const alg = cryptosuite === 'eddsa-rdfc-2022' ? 'EdDSA' : 'ES256';
      const key = deps.keys.active('credential', alg);
      const id = verificationMethodId(deps.publicUrl, key.kid);
      const controller = didWebFromUrl(deps.publicUrl);
      const jwk = key.privateKey.export({ format: 'jwk' });
      const keyPair =
        alg === 'EdDSA'
          ? await Ed25519Multikey.fromJwk({ jwk, secretKey: true, id, controller })
          : await EcdsaMultikey.fromJwk({ jwk, secretKey: true, id, controller });
      const signer = keyPair.signer();
      const suite = cryptosuite === 'eddsa-rdfc-2022' ? eddsaRdfc2022 : ecdsaRdfc2019;
      const documentLoader = createDocumentLoader({ publicUrl: deps.publicUrl });
      return () => {
        const req = request(cryptosuite);
        return vc.issue({
          credential: buildUnsignedCredential(req, controller),
          suite: new DataIntegrityProof({ signer, date: req.validFrom, cryptosuite: suite }),
          documentLoader,
        });
      };
    },
  };
}

/** Our library path: vc.issue with a ready KeyObject signer (what the fast path falls back to). */
function libraryCase(cryptosuite: NonNullable<FormatProfile['cryptosuite']>, compareTo?: string): BenchCase {
  return {
    name: `ldp_vc ${cryptosuite} library path (KeyObject signer)`,
    group: 'ldp_vc',
    ...(compareTo ? { compareTo } : {}),
    async setup() {
      const deps = await benchDeps();
      const alg = cryptosuite === 'ecdsa-rdfc-2019' ? 'ES256' : 'EdDSA';
      const key = deps.keys.active('credential', alg);
      const signer = keyObjectSigner(verificationMethodId(deps.publicUrl, key.kid), alg, key.privateKey);
      const did = didWebFromUrl(deps.publicUrl);
      const documentLoader = createDocumentLoader({ publicUrl: deps.publicUrl });
      return () => {
        const req = request(cryptosuite);
        return issueWithLibrary(
          buildUnsignedCredential(req, did),
          cryptosuite,
          signer,
          req.validFrom,
          documentLoader,
        );
      };
    },
  };
}

/** The ldp_vc format as the credential endpoint calls it (fast path on). */
function formatCase(cryptosuite: NonNullable<FormatProfile['cryptosuite']>, compareTo: string): BenchCase {
  return {
    name: `ldp_vc ${cryptosuite} fast path (format.issue)`,
    group: 'ldp_vc',
    compareTo,
    async setup() {
      const format = createLdpVcFormat(await benchDeps());
      return () => format.issue(request(cryptosuite));
    },
  };
}

const threadCpuMicros = () => {
  const u = process.threadCpuUsage();
  return u.user + u.system;
};

/** CPU microseconds per call of `op` over about `ms` milliseconds of wall time. */
async function cpuPerCall(op: () => unknown, ms: number): Promise<number> {
  const cpu0 = threadCpuMicros();
  const end = performance.now() + ms;
  let calls = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 10; i++) await op();
    calls += 10;
  }
  return (threadCpuMicros() - cpu0) / calls;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * The speed-up target (fast path ≥ 15× stock) measured so that both paths see the same machine:
 * short alternating rounds of each (a shared machine's speed drifts over seconds), the ratio taken
 * per round and the median reported with the median CPU µs per credential of each path.
 */
function interleavedRatio(stock: BenchCase, fast: BenchCase): BenchCase {
  return {
    name: 'ldp_vc eddsa-rdfc-2022 fast ÷ stock, interleaved rounds',
    group: 'ldp_vc',
    setup: async () => () => undefined,
    async measure(seconds) {
      const stockOp = await stock.setup();
      const fastOp = await fast.setup();
      for (let i = 0; i < 300; i++) await stockOp();
      for (let i = 0; i < 5000; i++) await fastOp();
      const rounds = 12;
      const roundMs = Math.max(200, (seconds * 1000) / rounds / 2);
      const stockUs: number[] = [];
      const fastUs: number[] = [];
      const ratios: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const s = await cpuPerCall(stockOp, roundMs);
        const f = await cpuPerCall(fastOp, roundMs);
        stockUs.push(s);
        fastUs.push(f);
        ratios.push(s / f);
      }
      return {
        speedupMedian: median(ratios),
        speedupMin: Math.min(...ratios),
        stockCpuMicros: median(stockUs),
        fastCpuMicros: median(fastUs),
        rounds,
      };
    },
  };
}

const eddsaStock = stockCase('eddsa-rdfc-2022');
const ed2020Library = libraryCase('Ed25519Signature2020');
const eddsaFast = formatCase('eddsa-rdfc-2022', eddsaStock.name);
const ecdsaStock = stockCase('ecdsa-rdfc-2019');

export const cases: BenchCase[] = [
  rawSignature('EdDSA'),
  rawSignature('ES256'),
  eddsaStock,
  libraryCase('eddsa-rdfc-2022', eddsaStock.name),
  eddsaFast,
  interleavedRatio(eddsaStock, eddsaFast),
  ecdsaStock,
  formatCase('ecdsa-rdfc-2019', ecdsaStock.name),
  ed2020Library,
  formatCase('Ed25519Signature2020', ed2020Library.name),
];
