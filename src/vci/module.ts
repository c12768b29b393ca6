import { isAbsolute, resolve } from 'node:path';
import { credentialConfigurationRoutes } from '../admin/credential-configurations.ts';
import { ledgerRoutes } from '../admin/ledger.ts';
import { offerRoutes } from '../admin/offers.ts';
import { createConfigurationRegistry } from '../credentials/configurations/registry.ts';
import { issueWithLibrary, keyObjectSigner } from '../credentials/formats/ldp-vc.ts';
import { createFormatRegistry } from '../credentials/formats/registry.ts';
import { createDocumentLoader } from '../credentials/jsonld/document-loader.ts';
import { statusRoutes } from '../credentials/status/routes.ts';
import { createStatusService } from '../credentials/status/service.ts';
import { createIssuerCa } from '../credentials/x509/issuer-ca.ts';
import { iacaRoutes, signerRevocationRoutes } from '../credentials/x509/routes.ts';
import { verificationMethodId } from '../keys/documents.ts';
import type { Module, ModuleFactory } from '../modules.ts';
import { createIssuer } from './issuance.ts';
import { parseTrust } from './key-attestation.ts';
import { createLedger } from './ledger.ts';
import { createNonces } from './nonces.ts';
import { createOffers } from './offers.ts';
import { createPreAuthorizedCodes } from './pre-authorized.ts';
import { vciRoutes } from './routes.ts';

const fromCwd = (dir: string) => (isAbsolute(dir) ? dir : resolve(dir));

/**
 * The OpenID4VCI credential issuer: configurations, metadata, offers, nonce, credential, deferred
 * and notification endpoints, plus its admin API. Fills `links.preAuthorizedCodes` for the token
 * endpoint and reads `links.tokens` and `links.identitySystems` at request time.
 */
export const vciModule: ModuleFactory = async (services, links): Promise<Module> => {
  const { config, store, keys, clock, logger } = services;
  const publicUrl = config.resolved.publicUrl;
  // The issuer CA signs mdoc document-signer certificates (and x5c for token status lists).
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
  const formatDeps = { keys, publicUrl, clock, issuerCa };
  const formats = createFormatRegistry(formatDeps);
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
      const signer = keyObjectSigner(verificationMethodId(publicUrl, key.kid), key.alg, key.privateKey);
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
  const registry = await createConfigurationRegistry({
    configurationsDir: fromCwd(config.vci.configurationsDir),
    schemasDir: fromCwd(config.vci.schemasDir),
    availableFormats: new Set(formats.keys()),
    signingAlgs: new Set(
      ['EdDSA', 'ES256'].filter((alg) => keys.published('credential').some((k) => k.alg === alg)),
    ),
    publicUrl,
    documentLoader,
    store,
    clock,
    logger,
  });
  const ledger = createLedger(store, clock);
  const nonces = createNonces(store, clock, config.vci.cNonceTtlSeconds, config.keys.encryptionSecret);
  const codes = createPreAuthorizedCodes({
    store,
    clock,
    ttlSeconds: config.vci.preAuthorizedCodeTtlSeconds,
    maxAttempts: config.vci.txCodeMaxAttempts,
  });
  const identitySystems = () => links.identitySystems;
  let keyAttestationTrust: ReturnType<typeof parseTrust>;
  try {
    keyAttestationTrust = parseTrust(
      config.vci.keyAttestationTrustedJwks,
      config.vci.keyAttestationTrustedCaPems,
    );
  } catch (error) {
    throw new Error(`vci.keyAttestationTrustedCaPems: not a PEM certificate (${(error as Error).message})`);
  }
  const issuer = createIssuer({
    config,
    clock,
    store,
    logger,
    registry,
    formats,
    status,
    ledger,
    nonces,
    identitySystems,
    keyAttestationTrust,
    audit: services.audit,
  });
  const offers = createOffers({
    config,
    clock,
    store,
    registry,
    codes,
    identitySystems,
    metrics: services.metrics,
  });
  links.preAuthorizedCodes = codes;
  links.issuerStates = offers.issuerStates;
  links.cNonces = nonces;
  links.credentialConfigurations = {
    has: (id) => registry.has(id),
    claimsFor: (id) => registry.claimsFor(id),
    scopes: () => new Map(registry.list().flatMap((c) => (c.scope ? [[c.scope, c.id] as const] : []))),
  };

  // Admin changes made on another instance reach this one within the reload interval.
  const reloadMs = config.vci.configurationReloadSeconds * 1000;
  const timer =
    reloadMs > 0
      ? setInterval(() => {
          registry
            .reload()
            .catch((error: unknown) =>
              logger.warn({ err: error }, 'credential configurations reload failed'),
            );
        }, reloadMs)
      : undefined;
  timer?.unref();

  return {
    close: async () => clearInterval(timer),
    routes: [
      vciRoutes({ services, links, registry, issuer, nonces, offers }),
      statusRoutes({ status, publicUrl }),
      iacaRoutes({ issuerCa, publicUrl }),
    ],
    adminRoutes: [
      credentialConfigurationRoutes(registry),
      offerRoutes(offers, services.audit),
      ledgerRoutes({ ledger, status, audit: services.audit }),
      signerRevocationRoutes({ issuerCa, keys, audit: services.audit, publicUrl }),
    ],
  };
};
