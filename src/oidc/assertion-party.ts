import { InvalidClient } from '../errors.ts';

function claimsOf(assertion: string): Record<string, unknown> | undefined {
  try {
    const payload = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return payload && typeof payload === 'object' ? payload : undefined;
  } catch {
    return undefined;
  }
}

/**
 * RFC 7523 §3 (rules 1 and 2) with RFC 7521 §4.2: a client assertion's `iss` and `sub` MUST both be
 * the client's id, and a `client_id` parameter, when sent, MUST name the same client. An assertion
 * that names another party does not authenticate this client, so it is `invalid_client` (401), as
 * SECURITY.md row 7 expects; oidc-provider alone answers 400 invalid_request ("client_id mismatch").
 * This runs before the provider and only looks at the claims: the signature is still checked there.
 */
export function checkAssertionParty(form: URLSearchParams): void {
  const assertion = form.get('client_assertion');
  if (!assertion || form.getAll('client_assertion').length > 1) return;
  const claims = claimsOf(assertion);
  if (!claims) return;
  const clientId = form.get('client_id');
  const mismatch =
    (typeof claims.sub === 'string' && typeof claims.iss === 'string' && claims.sub !== claims.iss) ||
    (clientId !== null && typeof claims.sub === 'string' && claims.sub !== clientId);
  if (mismatch) {
    throw new InvalidClient(
      'client authentication failed: the assertion does not name this client as iss and sub',
    );
  }
}
