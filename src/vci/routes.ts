import { Router } from '@koa/router';
import type { Context, Next } from 'koa';
import type { ConfigurationRegistry } from '../credentials/configurations/registry.ts';
import {
  type AppError,
  InvalidNonce,
  InvalidNotificationId,
  InvalidNotificationRequest,
  InvalidProof,
  NotFound,
  TemporarilyUnavailable,
} from '../errors.ts';
import { readJson } from '../http/body.ts';
import { noStore } from '../http/middleware.ts';
import type { Links } from '../modules.ts';
import type { IssuanceGrant } from '../oidc/bridge.ts';
import type { Services } from '../services.ts';
import { encryptResponse, parseResponseEncryption, type ResponseEncryption } from './encryption.ts';
import {
  type IssuanceOutcome,
  type Issuer,
  parseCredentialRequest,
  type RequestVersion,
} from './issuance.ts';
import { hasTrust, parseTrust } from './key-attestation.ts';
import { buildIssuerMetadata, createMetadataSigner, endpointsFor } from './metadata.ts';
import type { Nonces } from './nonces.ts';
import type { Offers } from './offers.ts';

/**
 * The OpenID4VCI HTTP surface. Each endpoint is a short pipeline: authenticate, parse, check,
 * act, answer. Paths carry the public URL's path (the app is mounted at the host root), and the
 * 1.0 well-known is also routed with the path inserted after the host (§12.2.2).
 */
export interface VciRouteDeps {
  services: Services;
  links: Links;
  registry: ConfigurationRegistry;
  issuer: Issuer;
  nonces: Nonces;
  offers: Offers;
}

const NOTIFICATION_EVENTS = new Set(['credential_accepted', 'credential_failure', 'credential_deleted']);

/**
 * CORS for browser wallets on the nonce, credential, deferred and notification endpoints (Fetch
 * standard, CORS protocol: https://fetch.spec.whatwg.org/#http-cors-protocol). Same policy as the
 * metadata: any origin, never credentials mode; access tokens travel in Authorization and DPoP
 * headers, which a page can only send on purpose, so no cookie makes a cross-site request act for
 * anyone. The answer's headers a wallet needs (RFC 6750 §3 and RFC 9449 §8 challenges) are exposed.
 */
const CORS_ALLOW_HEADERS = 'Authorization, DPoP, Content-Type';
const CORS_EXPOSE_HEADERS = 'WWW-Authenticate, DPoP-Nonce, Retry-After';
const CORS_MAX_AGE_SECONDS = 600;

/** Set before the handler runs, so error answers (rendered upstream) keep them too. */
async function allowAnyOrigin(ctx: Context, next: Next): Promise<void> {
  ctx.set('Access-Control-Allow-Origin', '*');
  ctx.set('Access-Control-Expose-Headers', CORS_EXPOSE_HEADERS);
  await next();
}

/** The preflight (and a plain OPTIONS): POST only, with the headers a wallet sends. */
function answerPreflight(ctx: Context): void {
  ctx.set('Access-Control-Allow-Origin', '*');
  ctx.set('Access-Control-Allow-Methods', 'POST');
  ctx.set('Access-Control-Allow-Headers', CORS_ALLOW_HEADERS);
  ctx.set('Access-Control-Max-Age', String(CORS_MAX_AGE_SECONDS));
  ctx.set('Allow', 'POST, OPTIONS');
  ctx.status = 204;
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
  const { services, links, registry, issuer, nonces, offers } = deps;
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

  async function grantOf(ctx: Context, url: string): Promise<IssuanceGrant> {
    if (!links.tokens) throw new TemporarilyUnavailable('the authorization server is not available');
    return links.tokens.verify({
      authorization: ctx.get('Authorization') || undefined,
      dpop: ctx.get('DPoP') || undefined,
      method: ctx.method,
      url,
    });
  }

  /** The answer's body for an outcome (a fresh c_nonce in it for draft 13, which is stateless). */
  async function bodyOf(
    outcome: IssuanceOutcome,
    version: RequestVersion,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    if (outcome.kind === 'pending') {
      return {
        status: 202,
        body: { transaction_id: outcome.transactionId, interval: outcome.intervalSeconds },
      };
    }
    if (version === 'draft13') {
      const { nonce, expiresInSeconds } = await nonces.issue();
      return {
        status: 200,
        body: {
          credential: outcome.credentials[0],
          c_nonce: nonce,
          c_nonce_expires_in: expiresInSeconds,
          notification_id: outcome.notificationId,
        },
      };
    }
    return {
      status: 200,
      body: {
        credentials: outcome.credentials.map((credential) => ({ credential })),
        notification_id: outcome.notificationId,
      },
    };
  }

  /**
   * Renders (and encrypts) the answer, and only then records it (`commit`): when rendering fails,
   * `abandon` gives back what the outcome spent and nothing says a credential left (issue 10).
   */
  async function deliver(
    ctx: Context,
    outcome: IssuanceOutcome,
    version: RequestVersion,
    encryption: ResponseEncryption | undefined,
  ) {
    let rendered: { status: number; body: Record<string, unknown> | string };
    try {
      const { status, body } = await bodyOf(outcome, version);
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

  /** Draft 13 §7.3.2: a nonce problem is `invalid_proof` carrying a fresh c_nonce to retry with. */
  async function draft13NonceErrors<T>(version: RequestVersion, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (version === 'draft13' && (error instanceof InvalidNonce || error instanceof InvalidProof)) {
        const { nonce, expiresInSeconds } = await nonces.issue();
        throw new InvalidProof((error as AppError).description, {
          extra: { c_nonce: nonce, c_nonce_expires_in: expiresInSeconds },
        });
      }
      throw error;
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
      ctx.set('Access-Control-Allow-Origin', '*');
      ctx.set('Cache-Control', 'public, max-age=60');
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
  router.options(`${basePath}/nonce`, answerPreflight);
  router.post(`${basePath}/nonce`, allowAnyOrigin, async function issueNonce(ctx) {
    const { nonce } = await nonces.issue();
    noStore(ctx);
    ctx.body = { c_nonce: nonce };
  });

  // §8: the credential endpoint. Every parameter is checked (request, encryption, proofs, claims)
  // before the first side effect; see Issuer.issue and deliver for the order after that.
  router.options(`${basePath}/credential`, answerPreflight);
  router.post(`${basePath}/credential`, allowAnyOrigin, async function credentialEndpoint(ctx) {
    const grant = await grantOf(ctx, endpoints.credential);
    const body = await readJson(ctx, limit);
    const parsed = parseCredentialRequest(body, grant, registry, config.vci.batchSize);
    const encryption = await parseResponseEncryption(parsed.encryption, config.vci.requireEncryption);
    const proofs = await draft13NonceErrors(parsed.version, () => issuer.verifyProofs(parsed, grant));
    // One unit of work: the nonce consumed, the status indices, the ledger and audit records are
    // committed together, and the answer (set on ctx, sent after this handler) waits for that.
    const outcome = await services.store.unit(async () => {
      const outcome = await draft13NonceErrors(parsed.version, () => issuer.issue(parsed, proofs, grant));
      await deliver(ctx, outcome, parsed.version, encryption);
      return outcome;
    });
    countIssued(outcome);
  });

  // §9: the deferred credential endpoint.
  router.options(`${basePath}/deferred_credential`, answerPreflight);
  router.post(
    `${basePath}/deferred_credential`,
    allowAnyOrigin,
    async function deferredCredentialEndpoint(ctx) {
      const grant = await grantOf(ctx, endpoints.deferred);
      const body = await readJson(ctx, limit);
      const encryption = await parseResponseEncryption(
        body.credential_response_encryption,
        config.vci.requireEncryption,
      );
      const outcome = await issuer.poll(body.transaction_id, grant);
      await deliver(ctx, outcome, outcome.kind === 'issued' ? (outcome.version ?? 'v1') : 'v1', encryption);
      countIssued(outcome);
    },
  );

  // §11: the notification endpoint; idempotent, 204.
  router.options(`${basePath}/notification`, answerPreflight);
  router.post(`${basePath}/notification`, allowAnyOrigin, async function notificationEndpoint(ctx) {
    const grant = await grantOf(ctx, endpoints.notification);
    const body = await readJson(ctx, limit);
    if (typeof body.notification_id !== 'string' || body.notification_id.length > 200) {
      throw new InvalidNotificationRequest('notification_id is required');
    }
    if (typeof body.event !== 'string' || !NOTIFICATION_EVENTS.has(body.event)) {
      throw new InvalidNotificationRequest(
        'event must be credential_accepted, credential_failure or credential_deleted',
      );
    }
    if (
      body.event_description !== undefined &&
      (typeof body.event_description !== 'string' || /[^\x20-\x7E]/.test(body.event_description))
    ) {
      throw new InvalidNotificationRequest('event_description must be ASCII text');
    }
    const known = await issuer.notify(body.notification_id, body.event as 'credential_accepted', grant);
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
