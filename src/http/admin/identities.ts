import { Router } from '@koa/router';
import type { Context } from 'koa';
import { unsafeTextIn } from '../../credentials/configurations/text.ts';
import { NotFound } from '../../errors.ts';
import { checkClaims, invalidField as fail } from '../../kyc/claim-shapes.ts';
import type { Identity, IdentityInput, IdentityStore } from '../../kyc/identity-store.ts';
import { BadVerificationRecords, parseVerificationRecords } from '../../kyc/verification.ts';
import type { Services } from '../../services.ts';
import { readJson } from '../body.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates an identity body; `partial` for PATCH (every member optional, `pin`/`password` may be null). */
export function parseIdentityBody(body: Json, partial: boolean) {
  const known = new Set(['individual_id', 'claims', 'pin', 'password', 'kyc_pending', 'verification']);
  for (const key of Object.keys(body)) if (!known.has(key)) throw fail(key, 'is not a known member');
  const out: Omit<Partial<IdentityInput>, 'pin' | 'password'> & {
    pin?: string | null;
    password?: string | null;
  } = {};
  if (body.individual_id !== undefined || !partial) {
    const id = body.individual_id;
    if (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9 -]{2,62}[A-Za-z0-9]$/.test(id)) {
      throw fail('individual_id', 'must be 4 to 64 letters, digits, spaces or dashes');
    }
    out.individualId = id;
  }
  if (body.claims !== undefined || !partial) out.claims = checkClaims(body.claims);
  if (body.pin !== undefined) {
    if (!(partial && body.pin === null) && (typeof body.pin !== 'string' || !/^\d{4,12}$/.test(body.pin))) {
      throw fail('pin', 'must be 4 to 12 digits');
    }
    out.pin = body.pin as string | null;
  }
  if (body.password !== undefined) {
    const pw = body.password;
    if (!(partial && pw === null) && (typeof pw !== 'string' || pw.length < 8 || pw.length > 128)) {
      throw fail('password', 'must be 8 to 128 characters');
    }
    out.password = pw as string | null;
  }
  if (body.kyc_pending !== undefined) {
    if (typeof body.kyc_pending !== 'boolean') throw fail('kyc_pending', 'must be a boolean');
    out.pending = body.kyc_pending;
  }
  if (body.verification !== undefined) {
    const { verification } = body;
    if (
      (!isObject(verification) && !Array.isArray(verification)) ||
      JSON.stringify(verification).length > 10_000
    ) {
      throw fail(
        'verification',
        'must be a verification element or a list of verification records (at most 10,000 characters as JSON)',
      );
    }
    const [unsafe] = unsafeTextIn(verification);
    if (unsafe) throw fail(`verification${unsafe[0].replaceAll('/', '.')}`, unsafe[1]);
    try {
      parseVerificationRecords(verification, []);
    } catch (error) {
      if (error instanceof BadVerificationRecords) throw fail('verification', error.message);
      throw error;
    }
    out.verification = verification as IdentityInput['verification'];
  }
  return out;
}

/** The admin view of an identity: personal data included (admin only, never cached). */
export function identityView(identity: Identity) {
  return {
    account_id: identity.accountId,
    individual_id: identity.individualId,
    claims: identity.claims,
    ...(identity.verification ? { verification: identity.verification } : {}),
    kyc_pending: identity.pending,
    has_pin: identity.hasPin,
    has_password: identity.hasPassword,
    created_at: new Date(identity.createdAt).toISOString(),
    updated_at: new Date(identity.updatedAt).toISOString(),
  };
}

function intParam(ctx: Context, name: string, fallback: number, max: number): number {
  const raw = ctx.query[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(value) || value < 0 || value > max) {
    throw fail(name, `must be an integer from 0 to ${max}`);
  }
  return value;
}

const ACCOUNT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Admin API for the mock identity system's people (mounted under /admin). Paths carry the random
 * account id, never the individual ID (URLs end up in logs); look people up by individual ID with
 * `POST /identities/lookup`. Responses hold personal data: admin only and `no-store`.
 */
export function identityAdminRoutes(services: Services, identities: IdentityStore): Router {
  const router = new Router();
  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  readRoutes(router, identities, services.config.http.bodyLimitBytes);
  writeRoutes(router, services, identities);
  return router;
}

async function loadIdentity(ctx: Context, identities: IdentityStore): Promise<Identity> {
  const id = ctx.params.accountId ?? '';
  const identity = ACCOUNT_ID.test(id) ? await identities.get(id) : undefined;
  if (!identity) throw new NotFound('no identity with this account id');
  return identity;
}

/** Listing (paged by offset), lookup by individual ID (in the body, never the URL), one identity. */
function readRoutes(router: Router, identities: IdentityStore, limit: number): void {
  router.get('/identities', async (ctx) => {
    const offset = intParam(ctx, 'offset', 0, 1_000_000);
    const count = intParam(ctx, 'limit', 50, 200);
    const page = await identities.list({ offset, limit: count + 1 });
    ctx.body = {
      identities: page.slice(0, count).map(identityView),
      ...(page.length > count ? { next_offset: offset + count } : {}),
    };
  });
  router.post('/identities/lookup', async (ctx) => {
    const { individualId } = parseIdentityBody(await readJson(ctx, limit), true);
    if (!individualId) throw fail('individual_id', 'is required');
    const identity = await identities.byIndividualId(individualId);
    if (!identity) throw new NotFound('no identity with this individual ID');
    ctx.body = identityView(identity);
  });
  router.get('/identities/:accountId', async (ctx) => {
    ctx.body = identityView(await loadIdentity(ctx, identities));
  });
}

/** Create, update and delete, each audited by account hash and claim names only. */
function writeRoutes(router: Router, services: Services, identities: IdentityStore): void {
  const limit = services.config.http.bodyLimitBytes;
  const { audit } = services;
  router.post('/identities', async (ctx) => {
    const input = parseIdentityBody(await readJson(ctx, limit), false) as IdentityInput;
    const identity = await identities.create(input);
    await audit.record({ type: 'identity_created', subjectHash: audit.subjectHash(identity.accountId) });
    ctx.status = 201;
    ctx.set('Location', `${services.config.resolved.publicUrl}/admin/identities/${identity.accountId}`);
    ctx.body = identityView(identity);
  });
  router.patch('/identities/:accountId', async (ctx) => {
    const { accountId } = await loadIdentity(ctx, identities);
    const patch = parseIdentityBody(await readJson(ctx, limit), true);
    const updated = await identities.update(accountId, patch);
    if (!updated) throw new NotFound('no identity with this account id');
    await audit.record({
      type: 'identity_updated',
      subjectHash: audit.subjectHash(accountId),
      claims: Object.keys(patch.claims ?? {}),
    });
    ctx.body = identityView(updated);
  });
  // Idempotent (RFC 9110 §9.2.2): deleting an identity that is already gone succeeds again, and
  // only the call that deleted it is audited. An account id that never existed looks the same:
  // the store keeps no tombstones, so "already deleted" and "never there" cannot be told apart.
  router.delete('/identities/:accountId', async (ctx) => {
    const id = ctx.params.accountId ?? '';
    if (!ACCOUNT_ID.test(id)) throw new NotFound('no identity with this account id');
    if (await identities.delete(id)) {
      await audit.record({ type: 'identity_deleted', subjectHash: audit.subjectHash(id) });
    }
    ctx.status = 204;
  });
}
