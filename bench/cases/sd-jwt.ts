import { createSdJwtFormat } from '../../src/credentials/formats/sd-jwt.ts';
import { type BenchCase, benchDeps, benchRequest, PUBLIC_URL, runStandalone } from './jwt-vc.ts';

/** dc+sd-jwt issuance through @sd-jwt/sd-jwt-vc: five selectively disclosable claims (one nested). */
function sdJwtCase(alg: 'ES256' | 'EdDSA'): BenchCase {
  return {
    name: `dc+sd-jwt ${alg} (5 disclosures)`,
    group: 'dc+sd-jwt',
    async setup() {
      const format = createSdJwtFormat(await benchDeps());
      const base = benchRequest(alg, {
        status: [{ kind: 'token', uri: `${PUBLIC_URL}/status/token/AAAAAAAAAAAAAAAAAAAAAA`, idx: 4242 }],
      });
      const request = {
        ...base,
        profile: {
          ...base.profile,
          vct: `${PUBLIC_URL}/vct/national-id`,
          selectivelyDisclosable: ['given_name', 'family_name', 'birthdate', 'email', 'address.locality'],
        },
      };
      return () => format.issue(request);
    },
  };
}

export const cases: BenchCase[] = [sdJwtCase('ES256'), sdJwtCase('EdDSA')];
export default cases;

if (import.meta.main) await runStandalone(cases);
