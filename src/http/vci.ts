import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { ConfigurationRegistry } from '../credentials/configurations/registry.ts';
import { InvalidNotificationId, NotFound } from '../errors.ts';
import type { TokenVerifier } from '../oidc/bridge.ts';
import type { Services } from '../services.ts';
import { encryptResponse, prepareResponseEncryption, type ResponseEncryption } from '../vci/encryption.ts';
import { type IssuanceOutcome, type Issuer, resolveCredentialRequest } from '../vci/issuance.ts';
import { hasTrust, parseTrust } from '../vci/key-attestation.ts';
import { buildIssuerMetadata, createMetadataSigner, endpointsFor } from '../vci/metadata.ts';
import type { Nonces } from '../vci/nonces.ts';
import type { Offers } from '../vci/offers.ts';
import {
  type CredentialGrant,
  createWires,
  decodeDeferredCredentialRequest,
  decodeGrant,
  decodeNotificationRequest,
  type EncodedResponse,
} from '../vci/wire/index.ts';
import { readJson } from './body.ts';
import { answerWalletPreflight, noStore, publicCacheable, walletCors } from './middleware.ts';

/**
 * The OpenID4VCI HTTP surface. Each endpoint is a short pipeline: authenticate, parse, check,
 * act, answer. Paths carry the public URL's path (the app is mounted at the host root), and the
 * 1.0 well-known is also routed with the path inserted after the host (§12.2.2).
 */
export interface VciRouteDeps {
  services: Services;
  /** Verifies access tokens (built by the OpenID Provider, src/oidc/token-verifier.ts). */
  tokens: TokenVerifier;
  registry: ConfigurationRegistry;
  issuer: Issuer;
  nonces: Nonces;
  offers: Offers;
}

function acceptLanguages(ctx: Context): string[] {
  return ctx
    .get('Accept-Language')
    .split(',')
    .map((part) => part.split(';')[0]!.trim())
    .filter((tag) => /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(tag))
    .slice(0, 10);
}

export function vciRoutes(deps: VciRouteDeps): Router {
  const { services, tokens, registry, issuer, nonces, offers } = deps;
  const { config } = services;
  const publicUrl = config.resolved.publicUrl;
  const basePath = new URL(publicUrl).pathname.replace(/\/+$/, '');
  const endpoints = endpointsFor(publicUrl);
  const limit = config.http.bodyLimitBytes;
  const attestationProofType = hasTrust(
    parseTrust(config.vci.keyAttestationTrustedJwks, config.vci.keyAttestationTrustedCaPems),
  );
  const signMetadata = createMetadataSigner({ keys: services.keys, clock: services.clock, publicUrl });
  const router = new Router();

  const wires = createWires(nonces);

  async function grantOf(ctx: Context, url: string): Promise<CredentialGrant> {
    const grant = await tokens.verify({
      authorization: ctx.get('Authorization') || undefined,
      dpop: ctx.get('DPoP') || undefined,
      method: ctx.method,
      url,
    });
    return decodeGrant(grant);
  }

  /**
   * Renders (and encrypts) the answer, and only then records it (`commit`): when rendering fails,
   * `abandon` gives back what the outcome spent and nothing says a credential left (issue 10).
   */
  async function deliver(
    ctx: Context,
    outcome: IssuanceOutcome,
    encode: (outcome: IssuanceOutcome) => Promise<EncodedResponse>,
    encryption: ResponseEncryption | undefined,
  ) {
    let rendered: { status: number; body: Record<string, unknown> | string };
    try {
      const { status, body } = await encode(outcome);
      rendered = { status, body: encryption ? await encryptResponse(body, encryption) : body };
    } catch (error) {
      await outcome.abandon();
      throw error;
    }
    await outcome.commit();
    noStore(ctx);
    ctx.status = rendered.status;
    if (encryption) ctx.type = 'application/jwt';
    ctx.body = rendered.body;
  }

  /** Counted once the answer is settled: credentials handed out, by configuration and format. */
  function countIssued(outcome: IssuanceOutcome) {
    if (outcome.kind !== 'issued') return;
    services.metrics.credentialsIssued.inc(
      { configuration: outcome.configurationId, format: outcome.format },
      outcome.credentials.length,
    );
  }

  /** Runs `work`, rethrowing its error as `encode` names it (the wire version's error codes). */
  async function encodingErrors<T>(
    encode: (error: unknown) => Promise<unknown>,
    work: () => Promise<T>,
  ): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw await encode(error);
    }
  }

  // §12.2.2 (1.0): path inserted after the host; draft 13: appended to the issuer identifier.
  const wellKnownPaths = [
    ...new Set([
      `/.well-known/openid-credential-issuer${basePath}`,
      `${basePath}/.well-known/openid-credential-issuer`,
    ]),
  ];
  for (const path of wellKnownPaths) {
    router.get(path, async function serveIssuerMetadata(ctx) {
      const locales = acceptLanguages(ctx);
      const metadata = buildIssuerMetadata(registry, {
        publicUrl,
        batchSize: config.vci.batchSize,
        requireEncryption: config.vci.requireEncryption,
        issuerDisplay: config.vci.issuerDisplay,
        attestationProofType,
        locales,
      });
      publicCacheable(ctx, 60);
      ctx.set('Vary', 'Accept, Accept-Language');
      if (locales.length > 0) ctx.set('Content-Language', locales.join(', '));
      // §12.2.3: signed metadata is the whole response as application/jwt when the wallet asks for it.
      if (
        config.vci.signedMetadata &&
        ctx.accepts('application/json', 'application/jwt') === 'application/jwt' &&
        ctx.get('Accept').includes('application/jwt')
      ) {
        ctx.type = 'application/jwt';
        ctx.body = await signMetadata(metadata);
        return;
      }
      ctx.body = config.vci.signedMetadata
        ? { ...metadata, signed_metadata: await signMetadata(metadata) }
        : metadata;
    });
  }

  // §7: the nonce endpoint; unprotected, no-store.
  router.options(`${basePath}/nonce`, answerWalletPreflight);
  router.post(`${basePath}/nonce`, walletCors, async function issueNonce(ctx) {
    const { nonce } = await nonces.issue();
    noStore(ctx);
    ctx.body = { c_nonce: nonce };
  });

  // §8: the credential endpoint. Every parameter is checked (request, encryption, proofs, claims)
  // before the first side effect; see Issuer.issue and deliver for the order after that.
  router.options(`${basePath}/credential`, answerWalletPreflight);
  router.post(`${basePath}/credential`, walletCors, async function credentialEndpoint(ctx) {
    const grant = await grantOf(ctx, endpoints.credential);
    const body = await readJson(ctx, limit);
    // The protocol version is decided here, once; the core sees only the typed request.
    const wire = wires.forCredentialRequest(body);
    const decoded = wire.decodeCredentialRequest(body, {
      batchSize: config.vci.batchSize,
      registry,
      grantedConfigurationIds: grant.credentialConfigurationIds,
    });
    const request = resolveCredentialRequest(decoded.request, grant, registry);
    const encryption = await prepareResponseEncryption(decoded.encryption, config.vci.requireEncryption);
    const proofs = await encodingErrors(wire.encodeError, () => issuer.verifyProofs(request, grant));
    // One unit of work: the nonce consumed, the status indices, the ledger and audit records are
    // committed together, and the answer (set on ctx, sent after this handler) waits for that.
    const outcome = await services.store.unit(async () => {
      const outcome = await encodingErrors(wire.encodeError, () =>
        issuer.issue(request, proofs, grant, wire.version),
      );
      await deliver(ctx, outcome, wire.encodeCredentialResponse, encryption);
      return outcome;
    });
    countIssued(outcome);
  });

  // §9: the deferred credential endpoint.
  router.options(`${basePath}/deferred_credential`, answerWalletPreflight);
  router.post(`${basePath}/deferred_credential`, walletCors, async function deferredCredentialEndpoint(ctx) {
    const grant = await grantOf(ctx, endpoints.deferred);
    const request = decodeDeferredCredentialRequest(await readJson(ctx, limit));
    const encryption = await prepareResponseEncryption(request.encryption, config.vci.requireEncryption);
    const outcome = await issuer.poll(request.transactionId, grant);
    // The version of the credential request that started the transaction (1.0 while pending).
    const wire = wires.forTag(outcome.kind === 'issued' ? outcome.wireTag : undefined);
    await deliver(ctx, outcome, wire.encodeDeferredResponse, encryption);
    countIssued(outcome);
  });

  // §11: the notification endpoint; idempotent, 204.
  router.options(`${basePath}/notification`, answerWalletPreflight);
  router.post(`${basePath}/notification`, walletCors, async function notificationEndpoint(ctx) {
    const grant = await grantOf(ctx, endpoints.notification);
    const request = decodeNotificationRequest(await readJson(ctx, limit));
    const known = await issuer.notify(request.notificationId, request.event, grant);
    if (!known) throw new InvalidNotificationId('the notification_id is not known for this access token');
    noStore(ctx);
    ctx.status = 204;
  });

  // §4.1.3: an offer by reference, served once.
  router.get(`${basePath}/credential-offer/:offerId`, async function serveCredentialOffer(ctx) {
    const offerId = String(ctx.params.offerId ?? '');
    // Link checkers and previews send HEAD (RFC 9110 §9.3.2: GET's headers, no content): it must
    // not use up the one GET the wallet has, so it only says whether the offer is still there.
    if (ctx.method === 'HEAD') {
      if (!(await offers.available(offerId)))
        throw new NotFound('this credential offer is unknown, expired or was already used');
      noStore(ctx);
      ctx.status = 200;
      ctx.type = 'application/json';
      return;
    }
    const offer = await offers.take(offerId);
    if (!offer) throw new NotFound('this credential offer is unknown, expired or was already used');
    noStore(ctx);
    ctx.body = offer;
  });

  return router;
}
