import type { TestApp } from '../../helpers/app.ts';
import { admin, IDENTITY } from './helpers.ts';

/**
 * A person with verification records (OpenID Connect for Identity Assurance 1.0) in the mock
 * identity system, for the verified_claims suites: the IDENTITY's claims and PIN under another
 * individual ID.
 */

export const VERIFIED_PERSON = '5550007788';

export const RECORDS = [
  {
    verification: {
      trust_framework: 'eidas',
      assurance_level: 'high',
      time: '2024-05-01T10:00:00Z',
      verification_process: 'f24c6f-6d3f-4ec5-973e-b0d8506f3bc7',
      evidence: [
        {
          type: 'document',
          method: 'pipp',
          time: '2024-05-01T10:00:00Z',
          document_details: { type: 'idcard', issuer: { name: 'Civil Registry', country_code: 'MAR' } },
        },
      ],
    },
    claims: ['name', 'given_name', 'family_name', 'birthdate'],
  },
  {
    verification: {
      trust_framework: 'de_aml',
      assurance_level: 'substantial',
      time: '2023-01-01T00:00:00Z',
      evidence: [{ type: 'electronic_record', record: { type: 'population_register' } }],
    },
    claims: ['address', 'phone_number'],
  },
  // The trust framework eSignet's mock relying party asks for the verified name.
  { verification: { trust_framework: 'XYZ TF', time: '2022-02-02T00:00:00Z' }, claims: ['name'] },
];

/** Claims the verified_claims suites' clients may receive. */
export const VERIFIED_ALLOWED = [
  'name',
  'given_name',
  'family_name',
  'birthdate',
  'email',
  'phone_number',
  'address',
];

export async function createVerifiedPerson(app: TestApp): Promise<void> {
  await admin(app, 'POST', '/identities', {
    individual_id: VERIFIED_PERSON,
    pin: IDENTITY.pin,
    claims: IDENTITY.claims,
    verification: RECORDS,
  });
}
