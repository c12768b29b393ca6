import type { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import {
  InvalidCredentialRequest,
  InvalidEncryptionParameters,
  InvalidNotificationId,
} from '../../errors.ts';
import type { TokenVerifier } from '../../oidc/bridge.ts';
import {
  decryptRequest,
  encryptResponse,
  prepareResponseEncryption,
  type ResponseEncryption,
} from '../../vci/encryption.ts';
import { type IssuanceOutcome, resolveCredentialRequest } from '../../vci/issuance.ts';
import { endpointsFor } from '../../vci/metadata.ts';
import {
  type CredentialGrant,
  createWires,
  decodeDeferredCredentialRequest,
  decodeGrant,
  decodeNotificationRequest,
  type EncodedResponse,
  type Wires,
} from '../../vci/wire/index.ts';
import { checkKeys, readJson, readRaw } from '../body.ts';
import type { Metrics } from '../metrics.ts';
import { answerWalletPreflight, noStore, walletCors } from '../middleware.ts';
import type { VciRouteDeps } from './deps.ts';

/** What the endpoints below share, built once per router. */
interface Endpoint extends VciRouteDeps {
  readonly endpoints: ReturnType<typeof endpointsFor>;
  readonly limit: number;
  readonly wires: Wires;
}

/**
 * The nonce (§7), credential (§8), deferred credential (§9) and notification (§11) endpoints of
 * OpenID4VCI 1.0: POST, with CORS for browser wallets (src/http/middleware.ts `walletCors`).
 */
export function credentialRoutes(router: Router, deps: VciRouteDeps, basePath: string): void {
  const { config } = deps.services;
  const endpoint: Endpoint = {
    ...deps,
    endpoints: endpointsFor(config.resolved.publicUrl),
    limit: config.http.bodyLimitBytes,
    wires: createWires(deps.nonces),
  };
  const post = (path: string, handler: Middleware) => {
    router.options(`${basePath}${path}`, answerWalletPreflight);
    router.post(`${basePath}${path}`, walletCors, handler);
  };
  post('/nonce', issueNonce(endpoint));
  post('/credential', credentialEndpoint(endpoint));
  post('/deferred_credential', deferredCredentialEndpoint(endpoint));
  post('/notification', notificationEndpoint(endpoint));
}

/** §7: unprotected, no-store. */
function issueNonce({ nonces }: Endpoint): Middleware {
  return async function issueNonce(ctx) {
    const { nonce } = await nonces.issue();
    noStore(ctx);
    ctx.body = { c_nonce: nonce };
  };
}

/**
 * §8: every parameter is checked (request, encryption, proofs, claims) before the first side
 * effect; see Issuer.issue and deliver for the order after that.
 */
function credentialEndpoint(e: Endpoint): Middleware {
  const { config, store, metrics } = e.services;
  return async function credentialEndpoint(ctx) {
    const grant = await grantOf(e.tokens, ctx, e.endpoints.credential);
    const body = await readRequest(ctx, e);
    // The protocol version is decided here, once; the core sees only the typed request.
    const wire = e.wires.forCredentialRequest(body);
    const decoded = wire.decodeCredentialRequest(body, {
      batchSize: config.vci.batchSize,
      registry: e.registry,
      grantedConfigurationIds: grant.credentialConfigurationIds,
    });
    const request = resolveCredentialRequest(decoded.request, grant, e.registry);
    const encryption = await prepareResponseEncryption(decoded.encryption, config.vci.requireEncryption);
    const proofs = await encodingErrors(wire.encodeError, () => e.issuer.verifyProofs(request, grant));
    // One unit of work: the nonce consumed, the status indices, the ledger and audit records are
    // committed together, and the answer (set on ctx, sent after this handler) waits for that.
    const outcome = await store.unit(async () => {
      const outcome = await encodingErrors(wire.encodeError, () =>
        e.issuer.issue(request, proofs, grant, wire.version),
      );
      await deliver(ctx, outcome, wire.encodeCredentialResponse, encryption);
      return outcome;
    });
    countIssued(metrics, outcome);
  };
}

/** §9. */
function deferredCredentialEndpoint(e: Endpoint): Middleware {
  const { config, metrics } = e.services;
  return async function deferredCredentialEndpoint(ctx) {
    const grant = await grantOf(e.tokens, ctx, e.endpoints.deferred);
    const request = decodeDeferredCredentialRequest(await readRequest(ctx, e));
    const encryption = await prepareResponseEncryption(request.encryption, config.vci.requireEncryption);
    const outcome = await e.issuer.poll(request.transactionId, grant);
    // The version of the credential request that started the transaction (1.0 while pending).
    const wire = e.wires.forTag(outcome.kind === 'issued' ? outcome.wireTag : undefined);
    await deliver(ctx, outcome, wire.encodeDeferredResponse, encryption);
    countIssued(metrics, outcome);
  };
}

/** §11: idempotent, 204. */
function notificationEndpoint(e: Endpoint): Middleware {
  return async function notificationEndpoint(ctx) {
    const grant = await grantOf(e.tokens, ctx, e.endpoints.notification);
    const request = decodeNotificationRequest(await readJson(ctx, e.limit));
    const known = await e.issuer.notify(request.notificationId, request.event, grant);
    if (!known) throw new InvalidNotificationId('the notification_id is not known for this access token');
    noStore(ctx);
    ctx.status = 204;
  };
}

/**
 * The credential or deferred credential request (§8.2, §9.1): JSON, or a JWT encrypted to the
 * issuer (§10, `application/jwt`), decrypted here before anything is decoded or spent. With
 * `vci.requireRequestEncryption` a plain request is refused (§10: "When encryption of a message
 * was required but the received message is unencrypted, it SHOULD be rejected").
 */
async function readRequest(ctx: Context, e: Endpoint): Promise<Record<string, unknown>> {
  if (ctx.request.type === 'application/jwt') {
    const jwe = (await readRaw(ctx, e.limit)).toString('utf8').trim();
    const plaintext = await decryptRequest(jwe, e.services.keys.published('encryption'));
    let parsed: unknown;
    try {
      parsed = JSON.parse(plaintext);
    } catch {
      throw new InvalidCredentialRequest('the decrypted request is not a JSON object');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new InvalidCredentialRequest('the decrypted request is not a JSON object');
    checkKeys(parsed);
    return parsed as Record<string, unknown>;
  }
  if (e.services.config.vci.requireRequestEncryption) {
    throw new InvalidEncryptionParameters(
      'this issuer requires the request encrypted to credential_request_encryption (application/jwt)',
    );
  }
  return readJson(ctx, e.limit);
}

async function grantOf(tokens: TokenVerifier, ctx: Context, url: string): Promise<CredentialGrant> {
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
function countIssued(metrics: Metrics, outcome: IssuanceOutcome) {
  if (outcome.kind !== 'issued') return;
  metrics.credentialsIssued.inc(
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
