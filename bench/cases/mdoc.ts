import { systemClock } from '../../src/clock.ts';
import { createMdocFormat } from '../../src/credentials/formats/mdoc.ts';
import { createIssuerCa } from '../../src/credentials/x509/issuer-ca.ts';
import { openStore } from '../../src/store/index.ts';
import { type BenchCase, benchDeps, benchRequest, PUBLIC_URL, runStandalone } from './jwt-vc.ts';

/** mso_mdoc issuance: eight elements, ES256 COSE_Sign1 with the document signer certificate. */
const mdocCase: BenchCase = {
  name: 'mso_mdoc ES256 (8 elements)',
  group: 'mso_mdoc',
  async setup() {
    const deps = await benchDeps();
    const issuerCa = createIssuerCa({
      store: await openStore({ kind: 'embedded', file: ':memory:' }, systemClock, 0),
      clock: systemClock,
      encryptionSecret: 'bench-secret-bench-secret-bench-secret-00',
      publicUrl: PUBLIC_URL,
    });
    await issuerCa.init();
    const format = createMdocFormat({ ...deps, issuerCa });
    const base = benchRequest('ES256', {
      status: [{ kind: 'token', uri: `${PUBLIC_URL}/status/token/AAAAAAAAAAAAAAAAAAAAAA`, idx: 4242 }],
    });
    const request = {
      ...base,
      profile: { ...base.profile, doctype: 'org.iso.18013.5.1.mDL', namespace: 'org.iso.18013.5.1' },
    };
    return () => format.issue(request);
  },
};

export const cases: BenchCase[] = [mdocCase];
export default cases;

if (import.meta.main) await runStandalone(cases);
