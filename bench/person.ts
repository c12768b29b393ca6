/**
 * The benches' one person: enrolled in the service's mock identity system (bench/cases/http.ts)
 * and known from the start to the plain alternative (bench/plain-issuer.ts), so both issue the
 * same claims.
 */
export const BENCH_PERSON = {
  individualId: '9876543210',
  claims: {
    name: 'Amina Hassan',
    given_name: 'Amina',
    family_name: 'Hassan',
    birthdate: '1990-04-12',
    gender: 'female',
    email: 'amina@example.org',
    phone_number: '+255700000001',
    address: { street_address: '12 Uhuru St', locality: 'Dodoma', postal_code: '41101', country: 'TZ' },
  },
} as const;
