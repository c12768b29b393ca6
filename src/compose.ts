import { isAbsolute, resolve } from 'node:path';
import {
  type ConfigurationRegistry,
  createConfigurationRegistry,
} from './credentials/configurations/registry.ts';
import { issueWithLibrary, managedKeySigner } from './credentials/formats/ldp-vc.ts';
import { createFormatRegistry, type FormatRegistry } from './credentials/formats/registry.ts';
import { createDocumentLoader } from './credentials/jsonld/document-loader.ts';
import { createStatusService, type StatusService } from './credentials/status/service.ts';
import { createIssuerCa, type IssuerCa } from './credentials/x509/issuer-ca.ts';
import { createGrants, type Grants } from './grants.ts';
import { type AdminParts, adminRouter } from './http/admin/routes.ts';
import { verificationMethodId } from './keys/documents.ts';
import { createKyc, type Kyc } from './kyc/module.ts';
import type { PreAuthorizedCodeRedeemer, TokenVerifier } from './oidc/bridge.ts';
import { hasLeniency } from './oidc/clients.ts';
import { HAIP_ALG, HAIP_FORMATS, isHaip } from './oidc/haip.ts';
import { createOidc, type Oidc } from './oidc/module.ts';
import type { Services } from './services.ts';
import { withExternalAuthorizationServers } from './vci/external-as/index.ts';
import { createVci, type Vci } from './vci/module.ts';

/**
 * The one composition root. Every part is built here, in dependency order, from what the parts
 * before it built; no part fills a slot in another later, and no part imports another's factory.
 *
 *   services     store, keys, clock, logger, metrics, audit (src/bootstrap.ts, built by the caller
 *                first so its start-up failures get their one line); the keys' reload timer starts last
 *   kyc          identity systems and delivery to people
 *   credentials  issuer CA, formats, status lists, credential configurations
 *   grants       what oidc and vci share: pre-authorized codes, offers and issuer_state, c_nonces,
 *                the configurations as the provider sees them
 *   oidc         the OpenID Provider and the login (given kyc and the grants); builds the token verifier
 *   vci          the credential issuer (given oidc.tokens, the grants and the credentials)
 *   admin        the admin API over the built parts
 *
 * The HTTP app (src/http/app.ts) then mounts every router over these parts.
 */
export interface Parts {
  readonly services: Services;
  readonly kyc: Kyc;
  readonly credentials: Credentials;
  readonly grants: Grants;
  readonly oidc: Oidc;
  readonly vci: Vci;
  readonly admin: ReturnType<typeof adminRouter>;
  /** Stops the parts' timers (the store is closed by its owner). */
  close(): Promise<void>;
}

/**
 * Stand-ins tests pass at construction: each gets the part as built and returns what the parts
 * after it receive instead (a fake, or a wrapper around the real one).
 */
export interface ComposeOptions {
  /** The access token verifier the credential issuer uses. */
  tokens?: (built: TokenVerifier) => TokenVerifier;
  /** The pre-authorized code redeemer the token endpoint uses. */
  preAuthorizedCodes?: (built: PreAuthorizedCodeRedeemer) => PreAuthorizedCodeRedeemer;
}

export async function compose(services: Services, options: ComposeOptions = {}): Promise<Parts> {
  const kyc = await createKyc(services);
  const credentials = await createCredentials(services);
  const grants = createGrants(services, {
    configurations: credentials.configurations,
    identitySystems: kyc.identitySystems,
  });
  const oidc = await createOidc(services, {
    identitySystems: kyc.identitySystems,
    grants: {
      ...grants,
      preAuthorizedCodes:
        options.preAuthorizedCodes?.(grants.preAuthorizedCodes) ?? grants.preAuthorizedCodes,
    },
  });
  // Tokens of trusted external authorization servers (vci.externalAuthorizationServers) beside ours.
  const tokens = withExternalAuthorizationServers(
    services,
    { identitySystems: kyc.identitySystems, configurations: credentials.configurations },
    oidc.tokens,
  );
  const vci = createVci(services, {
    identitySystems: kyc.identitySystems,
    configurations: credentials.configurations,
    formats: credentials.formats,
    status: credentials.status,
    tokens: options.tokens?.(tokens) ?? tokens,
    cNonces: grants.cNonces,
    clientLeniency: async (clientId, name) => hasLeniency(await oidc.state.clients.find(clientId), name),
  });
  const adminParts: AdminParts = { services, kyc, credentials, grants, oidc, vci };
  const admin = adminRouter(adminParts);
  const keyReload = reloadKeys(services);
  return {
    services,
    kyc,
    credentials,
    grants,
    oidc,
    vci,
    admin,
    async close() {
      clearInterval(keyReload);
      await credentials.close();
    },
  };
}

/** Keys rotated by the CLI or another instance become visible here without a restart. */
function reloadKeys({ keys, logger, config }: Services): NodeJS.Timeout {
  const timer = setInterval(() => {
    keys.reload().catch((error: unknown) => logger.error({ err: error }, 'key reload failed'));
  }, config.keys.reloadIntervalSeconds * 1000);
  timer.unref();
  return timer;
}

/** The credential side: signing formats, status lists and the credential configurations. */
export interface Credentials {
  /** Signs mdoc document-signer certificates (and x5c for token status lists). */
  readonly issuerCa: IssuerCa;
  readonly formats: FormatRegistry;
  readonly status: StatusService;
  readonly configurations: ConfigurationRegistry;
  /** Stops the configuration reload timer. */
  close(): Promise<void>;
}

const fromCwd = (dir: string) => (isAbsolute(dir) ? dir : resolve(dir));

async function createCredentials(services: Services): Promise<Credentials> {
  const { config, store, keys, clock, logger } = services;
  const publicUrl = config.resolved.publicUrl;
  const issuerCa = createIssuerCa({
    store,
    clock,
    encryptionSecret: config.keys.encryptionSecret,
    publicUrl,
    // Checked against the key store at revocation time: another instance may have rotated.
    isActiveKey: (kid) =>
      keys.published('credential').some((key) => key.kid === kid && key.status === 'active'),
  });
  await issuerCa.init();
  const formats = createFormatRegistry({ keys, publicUrl, clock, issuerCa });
  const documentLoader = createDocumentLoader({ publicUrl });
  const status = createStatusService({
    store,
    keys,
    clock,
    publicUrl,
    tokenX5c: (key) => issuerCa.x5c(key),
    // Bitstring lists for ldp_vc credentials are themselves ldp_vc credentials.
    signLdpCredential: (credential) => {
      const key = keys.active('credential', 'EdDSA');
      const signer = managedKeySigner(verificationMethodId(publicUrl, key.kid), key);
      const step = config.vci.timeRoundingSeconds * 1000;
      return issueWithLibrary(
        credential,
        'eddsa-rdfc-2022',
        signer,
        new Date(Math.floor(clock.now() / step) * step),
        documentLoader,
      );
    },
  });
  const configurations = await createConfigurationRegistry({
    configurationsDir: fromCwd(config.vci.configurationsDir),
    schemasDir: fromCwd(config.vci.schemasDir),
    // HAIP 1.0 (config profile): SD-JWT VC and mdoc only, ES256 only (src/oidc/haip.ts).
    availableFormats: new Set([...formats.keys()].filter((f) => !isHaip(config) || HAIP_FORMATS.includes(f))),
    signingAlgs: new Set(
      (isHaip(config) ? [HAIP_ALG] : ['EdDSA', 'ES256']).filter((alg) =>
        keys.published('credential').some((k) => k.alg === alg),
      ),
    ),
    publicUrl,
    documentLoader,
    store,
    clock,
    logger,
  });

  // Admin changes made on another instance reach this one within the reload interval.
  const reloadMs = config.vci.configurationReloadSeconds * 1000;
  const timer =
    reloadMs > 0
      ? setInterval(() => {
          configurations
            .reload()
            .catch((error: unknown) =>
              logger.warn({ err: error }, 'credential configurations reload failed'),
            );
        }, reloadMs)
      : undefined;
  timer?.unref();
  return { issuerCa, formats, status, configurations, close: async () => clearInterval(timer) };
}
