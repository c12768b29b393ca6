import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';
import { digest, ES256, generateSalt } from '@sd-jwt/crypto-nodejs';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { importJWK, type JWK, SignJWT } from 'jose';
import Provider from 'oidc-provider';
import { createDocumentLoader, ownContextUrl } from '../src/credentials/jsonld/document-loader.ts';
import { BENCH_PERSON } from './person.ts';

/**
 * The plain alternative for the HTTP baseline (issue 16): oidc-provider 9.13's experimental
 * OpenID4VCI feature (`features.openid4vci`, ack `experimental-01`) as its documentation asks it to
 * be used, with the stock signing libraries in its `issueCredential` callback and its default
 * in-memory adapter: jose `SignJWT` for jwt_vc_json, `@sd-jwt/sd-jwt-vc` with the
 * `@sd-jwt/crypto-nodejs` signer for dc+sd-jwt, `@digitalbazaar/vc` with eddsa-rdfc-2022 and the
 * Multikey signer for ldp_vc; the claims of the service's national-id configuration from an
 * in-memory account. Run as its own process by bench/cases/http.ts (`node bench/plain-issuer.ts`,
 * PORT and ADMIN_TOKEN in the environment), pinned like the service.
 *
 * What it does not do, and the service does: c_nonce values are oidc-provider's stateless
 * time-window HMACs (accepted again within their window, not single-use); no ledger, no status list
 * entry, no audit, nothing durable. mso_mdoc is left out: the feature has no mdoc support of its own
 * and nothing here would differ from the service's format code.
 *
 * Access tokens come from `POST /bench/tokens` (admin bearer): opaque tokens saved through the
 * provider's own AccessToken model with the audience its credential endpoint expects, the same
 * tokens its token endpoint would save; only nonce + credential is timed.
 */
const PORT = Number(process.env.PORT ?? 0);
const ADMIN = process.env.ADMIN_TOKEN ?? '';
const ISSUER = `http://127.0.0.1:${PORT}`;
/** Identifiers inside the credentials (as the service's bench: a fixed public URL). */
const PUBLIC_URL = 'https://issuer.example';
const DID = 'did:web:issuer.example';

const keyPair = promisify(generateKeyPair);
const es256 = await keyPair('ec', { namedCurve: 'P-256' });
const es256Jwk = es256.privateKey.export({ format: 'jwk' }) as JWK;
const joseKey = await importJWK({ ...es256Jwk, alg: 'ES256' }, 'ES256');
const kid = `${DID}#es256`;

const sdJwt = new SDJwtVcInstance({
  signer: await ES256.getSigner(es256Jwk),
  signAlg: 'ES256',
  hasher: digest,
  hashAlg: 'sha-256',
  saltGenerator: generateSalt,
});

const ed25519 = await keyPair('ed25519');
const multikey = await Ed25519Multikey.fromJwk({
  jwk: ed25519.privateKey.export({ format: 'jwk' }),
  secretKey: true,
  id: `${DID}#ed25519`,
  controller: DID,
});
const ldpSigner = multikey.signer();
const documentLoader = createDocumentLoader({ publicUrl: PUBLIC_URL });
const claimsContext = ownContextUrl(PUBLIC_URL, 'claims-v1');

/** The person every token belongs to (the same record the service's bench enrols). */
const ACCOUNTS = new Map<string, Record<string, any>>([[BENCH_PERSON.individualId, BENCH_PERSON.claims]]);

/** The national-id configuration's claims mapping, written out by hand as a plain issuer would. */
function subjectOf(claims: Record<string, any>): Record<string, unknown> {
  return {
    givenName: claims.given_name,
    familyName: claims.family_name,
    fullName: claims.name,
    localizedName: { en: claims.name },
    birthdate: claims.birthdate,
    gender: claims.gender,
    address: {
      streetAddress: claims.address.street_address,
      locality: claims.address.locality,
      postalCode: claims.address.postal_code,
      country: claims.address.country,
    },
  };
}

const didJwk = (jwk: JWK) => `did:jwk:${Buffer.from(JSON.stringify(jwk)).toString('base64url')}`;
const FIVE_YEARS = 157_680_000;

const proofTypes = { jwt: { proof_signing_alg_values_supported: ['ES256', 'EdDSA'] } };
const binding = { cryptographic_binding_methods_supported: ['jwk'], proof_types_supported: proofTypes };
const configurations = {
  NationalIdCredential_ldp_vc: {
    format: 'ldp_vc',
    scope: 'national_id',
    ...binding,
    credential_definition: {
      '@context': [claimsContext],
      type: ['VerifiableCredential', 'NationalIdCredential'],
    },
  },
  NationalIdCredential_jwt_vc_json: {
    format: 'jwt_vc_json',
    scope: 'national_id',
    ...binding,
    credential_definition: { type: ['VerifiableCredential', 'NationalIdCredential'] },
  },
  NationalIdCredential_sd_jwt: {
    format: 'dc+sd-jwt',
    scope: 'national_id',
    ...binding,
    vct: `${PUBLIC_URL}/vct/national-id`,
  },
} as const;

type Issue = (subject: Record<string, unknown>, holder: JWK) => Promise<unknown>;
const issuers: Record<string, Issue> = {
  async ldp_vc(subject, holder) {
    const now = new Date();
    const credential = {
      '@context': ['https://www.w3.org/ns/credentials/v2', claimsContext],
      type: ['VerifiableCredential', 'NationalIdCredential'],
      issuer: DID,
      validFrom: now.toISOString().replace(/\.\d+Z$/, 'Z'),
      validUntil: new Date(now.getTime() + FIVE_YEARS * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
      credentialSubject: { id: didJwk(holder), ...subject },
    };
    const suite = new DataIntegrityProof({ signer: ldpSigner, cryptosuite: eddsaRdfc2022 });
    return vc.issue({ credential, suite, documentLoader });
  },
  async jwt_vc_json(subject, holder) {
    const now = Math.floor(Date.now() / 1000);
    const sub = didJwk(holder);
    return new SignJWT({
      vc: {
        '@context': ['https://www.w3.org/2018/credentials/v1', claimsContext],
        type: ['VerifiableCredential', 'NationalIdCredential'],
        credentialSubject: { id: sub, ...subject },
      },
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid })
      .setIssuer(DID)
      .setSubject(sub)
      .setNotBefore(now)
      .setExpirationTime(now + FIVE_YEARS)
      .sign(joseKey);
  },
  async 'dc+sd-jwt'(subject, holder) {
    const now = Math.floor(Date.now() / 1000);
    return sdJwt.issue(
      {
        iss: PUBLIC_URL,
        vct: configurations.NationalIdCredential_sd_jwt.vct,
        iat: now,
        exp: now + FIVE_YEARS,
        cnf: { jwk: holder },
        ...subject,
      } as any,
      {
        _sd: ['givenName', 'familyName', 'fullName', 'localizedName', 'birthdate', 'gender', 'address'],
        address: { _sd: ['streetAddress', 'locality', 'postalCode', 'country'] },
      } as any,
      { header: { typ: 'dc+sd-jwt', kid } },
    );
  },
};

// The memory adapter is the point here; its start-up warning (and the one for the development
// signing keys, which nothing here uses) would only clutter the bench's table.
const warn = console.warn;
console.warn = (...args: unknown[]) => {
  if (!String(args[0]).includes('oidc-provider WARNING')) warn(...args);
};
const provider = new Provider(ISSUER, {
  ttl: { AccessToken: 3600, Grant: 3600 },
  clients: [
    {
      client_id: 'wallet',
      token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:pre-authorized_code'],
      redirect_uris: [],
      response_types: [],
    },
  ],
  scopes: ['openid', 'national_id'],
  // The same paths as the service, so that one driver serves both.
  routes: { challenge: '/nonce' },
  async findAccount(_ctx: unknown, sub: string) {
    const claims = ACCOUNTS.get(sub);
    return claims ? { accountId: sub, claims: async () => ({ sub, ...claims }) } : undefined;
  },
  features: {
    devInteractions: { enabled: false },
    openid4vci: {
      enabled: true,
      ack: 'experimental-01',
      nonceSecret: randomBytes(32),
      preAuthorizedCodeGrant: true,
      credentialConfigurationsSupported: configurations,
      async issueCredential(ctx: any, { credentialConfiguration, proofs }: any) {
        const claims = await ctx.oidc.account.claims('credential', 'national_id', {}, []);
        const subject = subjectOf(claims);
        const credentials = [];
        for (const proof of proofs.jwt as string[]) {
          const header = JSON.parse(Buffer.from(proof.split('.')[0]!, 'base64url').toString()) as {
            jwk: JWK;
          };
          credentials.push({
            credential: await issuers[credentialConfiguration.format]!(subject, header.jwk),
          });
        }
        return { credentials };
      },
    },
  } as any,
});

/** POST /bench/tokens?n=32 (admin bearer): n access tokens for the demo person, scope national_id. */
provider.use(async (ctx: any, next: () => Promise<void>) => {
  if (ctx.path !== '/bench/tokens' || ctx.method !== 'POST') return next();
  if (ctx.get('authorization') !== `Bearer ${ADMIN}`) {
    ctx.status = 401;
    return;
  }
  const n = Math.min(Number(ctx.query.n ?? 1), 1000);
  const client = await provider.Client.find('wallet');
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) {
    const grant = new provider.Grant({ accountId: BENCH_PERSON.individualId, clientId: 'wallet' });
    grant.addOIDCScope('national_id');
    const grantId = await grant.save();
    const token = new provider.AccessToken({
      accountId: BENCH_PERSON.individualId,
      client,
      grantId,
      scope: 'national_id',
      aud: `${ISSUER}/credential`,
      gty: 'urn:ietf:params:oauth:grant-type:pre-authorized_code',
    } as any);
    tokens.push(await token.save());
  }
  ctx.body = { access_tokens: tokens };
});

console.warn = warn;

provider.listen(PORT, '127.0.0.1', () => console.log(`plain issuer listening on ${ISSUER}`));
