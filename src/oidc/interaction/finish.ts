import { sha256 } from '../../audit/audit.ts';
import { InvalidTransaction } from '../../errors.ts';
import { SCOPE_CLAIMS } from '../../kyc/claims.ts';
import { ALL_USER_CLAIMS, AMR, type ClaimSet, releasedClaims } from '../claims.ts';
import { VERIFIED_CLAIMS } from '../verified-claims.ts';
import { credentialIds } from './policy.ts';
import type { InteractionPort } from './provider-port.ts';
import type { LoginDeps, LoginSession } from './session.ts';

/** What ends a login with a grant: consent given now, or remembered from before. */
export interface Consented {
  readonly set: ClaimSet;
  readonly accepted: readonly string[];
  /** A remembered consent keeps its own expiry: reusing it never extends it. */
  readonly rememberedUntil?: number;
}

/**
 * Creates the grant, records KYC and consent, and completes the interaction. Resolves to where the
 * browser goes next.
 */
export async function finishLogin(
  deps: LoginDeps,
  port: InteractionPort,
  session: LoginSession,
  consented: Consented,
): Promise<string> {
  const { clock, oidc, state } = deps;
  const { client, params, tx } = session;
  const auth = tx.auth;
  if (!auth) throw new InvalidTransaction('sign in before giving consent');
  const { set, rememberedUntil } = consented;
  const { released, declined } = releasedClaims(set, consented.accepted);
  const verified = set.verified?.some((c) => released.includes(c)) === true;
  const lifetime = rememberedUntil
    ? Math.max(1, Math.floor((rememberedUntil - clock.now()) / 1000))
    : oidc.consentTtlSeconds;
  const credentialScopes = state.credentialConfigurations.scopes();
  const scopes = set.scopes.filter(
    (s) => s === 'openid' || s === 'offline_access' || s in SCOPE_CLAIMS || credentialScopes.has(s),
  );
  // The grant (and so every token from it, see ttl in provider.ts) ends when the consent does.
  const grantId = await port.saveGrant({
    accountId: auth.subject,
    clientId: client.clientId,
    expiresInSeconds: lifetime,
    scopes,
    resource: typeof params.resource === 'string' ? params.resource : undefined,
    // verified_claims (OpenID Connect for Identity Assurance) once any claim asked for as verified
    // is released; otherwise rejected, so the provider does not ask for consent again.
    claims: [...withVariants(released, oidc.uiLocales), ...(verified ? [VERIFIED_CLAIMS] : [])],
    rejectedClaims: [
      ...withVariants(
        ALL_USER_CLAIMS.filter((c) => !released.includes(c)),
        oidc.uiLocales,
      ),
      ...(verified ? [] : [VERIFIED_CLAIMS]),
    ],
    authorizationDetails: set.authorizationDetails,
  });
  const amr = auth.factors.map((f) => AMR[f]);
  const configurationIds = credentialIds(deps, session);
  await state.grants.save(
    {
      _id: grantId,
      clientId: client.clientId,
      transactionId: session.uid,
      accountId: auth.accountId,
      subject: auth.subject,
      identitySystem: auth.identitySystem,
      consentedClaims: released,
      claimsLocales:
        typeof params.claims_locales === 'string' ? params.claims_locales.split(' ').filter(Boolean) : [],
      acr: auth.acr,
      amr,
      credentialConfigurationIds: configurationIds,
      authorizationDetails: set.authorizationDetails,
      kycToken: deps.transactions.kycToken(tx),
    },
    lifetime,
  );
  if (!rememberedUntil) {
    await state.consents.remember(
      {
        clientId: client.clientId,
        subject: auth.subject,
        accountId: auth.accountId,
        identitySystem: auth.identitySystem,
        fingerprint: set.fingerprint,
        scopes: set.scopes,
        acceptedClaims: released,
        declinedClaims: declined,
        authorizationDetails: set.authorizationDetails,
      },
      oidc.consentTtlSeconds,
    );
  }
  await deps.audit.record({
    type: 'consent_given',
    transactionId: session.uid,
    clientId: client.clientId,
    subjectHash: deps.audit.subjectHash(auth.accountId),
    grantHash: sha256(grantId),
    claims: released,
    remembered: rememberedUntil !== undefined,
    ...(configurationIds.length ? { configurationIds } : {}),
  });
  return port.finish({
    // No `ts`: oidc-provider stamps auth_time with its own clock, the one max_age is checked against.
    login: { accountId: auth.subject, acr: auth.acr, amr, remember: true },
    consent: { grantId },
  });
}

/** A claim and its language-tagged variants (`name`, `name#ar`, …). */
function withVariants(claims: readonly string[], locales: readonly string[]): string[] {
  return claims.flatMap((c) => [c, ...locales.map((l) => `${c}#${l}`)]);
}

/** The person cancelled: the relying party gets access_denied. */
export function abortLogin(port: InteractionPort): Promise<string> {
  return port.finish({ error: 'access_denied', error_description: 'the person cancelled the sign-in' });
}
