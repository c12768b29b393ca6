import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { holderKey, preAuthorizedCode, proofJwt } from '../protocol/vci/harness.ts';

/** One request and its answer, as the admin API saw it. */
export interface Exchange {
  readonly method: string;
  /** Path and query, from /admin on. */
  readonly path: string;
  readonly requestBody?: unknown;
  readonly status: number;
  readonly responseBody: unknown;
  /** The documented operation this call is the example of (one per operation and status). */
  readonly example?: string;
}

/**
 * Every admin operation against a running service in demo mode (its seeded people, relying party
 * and credential configurations), in an order that makes each one answer for real: a person is
 * created and looked up, an offer made for them is redeemed by a wallet, and the credential issued
 * is read in the ledger and revoked. The answers are the examples of docs/openapi/admin.yaml
 * (scripts/openapi-examples.ts writes them there) and test/contract/openapi-admin.test.ts validates
 * each against the document.
 */
export async function adminTour(base: string, adminToken: string, dataDir: string): Promise<Exchange[]> {
  const exchanges: Exchange[] = [];
  const call = async (method: string, path: string, body?: unknown, example?: string) => {
    const response = await fetch(`${base}/admin${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${adminToken}`,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    const responseBody = text ? JSON.parse(text) : undefined;
    exchanges.push({
      method,
      path,
      ...(body !== undefined ? { requestBody: body } : {}),
      status: response.status,
      responseBody,
      ...(example ? { example } : {}),
    });
    return { status: response.status, body: responseBody as any };
  };
  const demo = JSON.parse(readFileSync(join(dataDir, 'demo-identities.json'), 'utf8')) as {
    identities: { individualId: string; email: string }[];
  };
  const [first] = demo.identities;

  await call('GET', '', undefined, 'getService');
  const anonymous = await fetch(`${base}/admin/keys`);
  exchanges.push({
    method: 'GET',
    path: '/keys',
    status: anonymous.status,
    responseBody: await anonymous.json(),
    example: 'listKeys',
  });
  const keys = await call('GET', '/keys', undefined, 'listKeys');
  await call('GET', '/credential-configurations', undefined, 'listCredentialConfigurations');
  const age = await call(
    'GET',
    '/credential-configurations/proof-of-age',
    undefined,
    'getCredentialConfiguration',
  );
  await call('GET', '/credential-configurations/nope', undefined, 'getCredentialConfiguration');
  const { id: _id, version: _version, retired: _retired, ...definition } = age.body;
  const adult = {
    ...definition,
    id: 'proof-of-adulthood',
    scope: 'proof_of_adulthood',
    formats: Object.fromEntries(
      Object.entries(definition.formats as Record<string, { configurationId: string }>).map(([f, v]) => [
        f,
        { ...v, configurationId: `Adult_${v.configurationId}` },
      ]),
    ),
  };
  await call('POST', '/credential-configurations', adult, 'createCredentialConfiguration');
  await call('POST', '/credential-configurations', { id: 'broken' }, 'createCredentialConfiguration');
  await call('PUT', '/credential-configurations/proof-of-adulthood', adult, 'updateCredentialConfiguration');
  await call(
    'GET',
    '/credential-configurations/proof-of-adulthood?versions=true',
    undefined,
    'getCredentialConfiguration',
  );
  await call(
    'POST',
    '/credential-configurations/proof-of-adulthood/retire',
    undefined,
    'retireCredentialConfiguration',
  );
  await call(
    'DELETE',
    '/credential-configurations/proof-of-adulthood',
    undefined,
    'deleteCredentialConfiguration',
  );
  await call('PUT', '/credential-configurations/proof-of-adulthood', adult, 'updateCredentialConfiguration');

  await call('GET', '/identities?limit=2', undefined, 'listIdentities');
  const person = await call(
    'POST',
    '/identities',
    {
      individual_id: '7301948265',
      claims: {
        name: 'Youssef Benali',
        'name#ar': 'يوسف بنعلي',
        given_name: 'Youssef',
        family_name: 'Benali',
        birthdate: '1988-11-03',
        email: 'youssef.benali@example.org',
        phone_number: '+212600000077',
      },
      pin: '246810',
    },
    'createIdentity',
  );
  await call('POST', '/identities', { individual_id: '!', claims: {} }, 'createIdentity');
  const accountId = person.body.account_id as string;
  await call('POST', '/identities/lookup', { individual_id: first!.individualId }, 'lookupIdentity');
  await call('POST', '/identities/lookup', { individual_id: '0000000000' }, 'lookupIdentity');
  await call('GET', `/identities/${accountId}`, undefined, 'getIdentity');
  await call(
    'PATCH',
    `/identities/${accountId}`,
    { claims: { ...person.body.claims, locale: 'fr-MA' }, pin: null },
    'updateIdentity',
  );

  const offer = await call(
    'POST',
    '/credential-offers',
    {
      credential_configuration_ids: ['AgeCredential_ldp_vc'],
      individual_id: first!.individualId,
      tx_code: false,
    },
    'createCredentialOffer',
  );
  await call(
    'POST',
    '/credential-offers',
    { credential_configuration_ids: ['nope'], individual_id: first!.individualId },
    'createCredentialOffer',
  );
  await redeem(base, offer.body);
  // An offer with a tx_code: the code goes to the person (here the development outbox), not the answer.
  await call('POST', '/credential-offers', {
    credential_configuration_ids: ['NationalIdCredential_ldp_vc'],
    individual_id: '7301948265',
    tx_code: true,
  });
  await call(
    'GET',
    `/outbox?to=${encodeURIComponent('youssef.benali@example.org')}&limit=1`,
    undefined,
    'listOutbox',
  );

  const page = await call('GET', '/ledger?limit=1', undefined, 'listLedger');
  await call('GET', '/ledger?cursor=x', undefined, 'listLedger');
  const recordId = page.body.records[0]?.id ?? page.body.records[0]?._id;
  await call('GET', `/ledger/${recordId}`, undefined, 'getLedgerRecord');
  await call('GET', '/ledger/nope', undefined, 'getLedgerRecord');
  await call('POST', `/ledger/${recordId}/suspend`, undefined, 'changeCredentialStatus');
  await call('POST', `/ledger/${recordId}/reinstate`, undefined, 'changeCredentialStatus');
  await call('POST', `/ledger/${recordId}/revoke`, undefined, 'changeCredentialStatus');

  await call('GET', '/clients', undefined, 'listClients');
  const client = await call(
    'POST',
    '/clients',
    {
      client_id: 'tour-relying-party',
      client_name: 'Tour relying party',
      redirect_uris: ['https://rp.example.org/callback'],
      token_endpoint_auth_method: 'none',
    },
    'createClient',
  );
  await call(
    'POST',
    '/clients',
    { client_id: 'tour-relying-party', redirect_uris: ['nope'] },
    'createClient',
  );
  await call('GET', `/clients/${client.body.client_id}`, undefined, 'getClient');
  await call(
    'PUT',
    `/clients/${client.body.client_id}`,
    { ...client.body, client_name: 'Tour relying party (renamed)' },
    'replaceClient',
  );
  await call('DELETE', `/clients/${client.body.client_id}`, undefined, 'deleteClient');
  await call('GET', '/clients/nope', undefined, 'getClient');

  await call('GET', `/consents?account_id=${accountId}`, undefined, 'listConsents');
  await call('GET', '/consents', undefined, 'listConsents');
  await call('GET', '/consents/nope', undefined, 'getConsent');
  await call('DELETE', '/consents/nope', undefined, 'deleteConsent');

  await call('DELETE', `/identities/${accountId}`, undefined, 'deleteIdentity');

  // An mdoc makes the ES256 credential key a document signer certificate; revoking it is refused
  // while the key signs (409), and done once the key is rotated out.
  const mdoc = await call('POST', '/credential-offers', {
    credential_configuration_ids: ['NationalIdCredential_mso_mdoc'],
    individual_id: first!.individualId,
  });
  await redeem(base, mdoc.body);
  const signing = (keys.body.keys as { kid: string; purpose: string; status: string; alg: string }[]).find(
    (k) => k.purpose === 'credential' && k.status === 'active' && k.alg === 'ES256',
  );
  const revokeSigner = () =>
    call(
      'POST',
      `/keys/${signing!.kid}/revoke-certificates`,
      { reason: 'superseded' },
      'revokeSignerCertificates',
    );
  await revokeSigner();
  await call('POST', '/keys/rotate?purpose=credential', undefined, 'rotateKeys');
  await call('POST', '/keys/rotate?purpose=nope', undefined, 'rotateKeys');
  await revokeSigner();
  await call('POST', '/keys/nope/revoke-certificates', undefined, 'revokeSignerCertificates');
  await call('GET', '/audit?limit=3', undefined, 'listAudit');
  await call('GET', '/audit?type=nope', undefined, 'listAudit');
  await call('GET', '/openapi/admin.json', undefined, 'getOpenApiDocument');
  return exchanges;
}

/** A wallet redeems the offer (pre-authorized code, no tx_code) for one credential. */
export async function redeem(base: string, offer: { credential_offer: any }): Promise<void> {
  const meta = (await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as {
    token_endpoint: string;
  };
  const token = (await (
    await fetch(meta.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:pre-authorized_code',
        'pre-authorized_code': preAuthorizedCode(offer),
      }),
    })
  ).json()) as { access_token: string };
  const { c_nonce } = (await (await fetch(`${base}/nonce`, { method: 'POST' })).json()) as {
    c_nonce: string;
  };
  const key = await holderKey('ES256');
  const response = await fetch(`${base}/credential`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token.access_token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      credential_configuration_id: offer.credential_offer.credential_configuration_ids[0],
      proofs: { jwt: [await proofJwt(key, base, c_nonce)] },
    }),
  });
  if (response.status !== 200) throw new Error(`no credential: ${response.status} ${await response.text()}`);
}
