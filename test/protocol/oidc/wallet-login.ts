import type { VciHarness } from '../vci/harness.ts';
import type { Browser } from './helpers.ts';

/**
 * A new person logs in with their PIN through the JSON interaction API and consents to `birthdate`;
 * returns the authorization code from the redirect (wallet flows of the VCI harness).
 */
export async function walletLogin(h: VciHarness, browser: Browser, interaction: string): Promise<string> {
  const who = await h.person();
  const details = (await browser.fetch(`${interaction}/api`)).json();
  const csrf = { 'x-csrf-token': details.csrf_token as string, origin: new URL(h.url).origin };
  const auth = await browser.fetch(`${interaction}/api/authenticate`, {
    json: { individual_id: who.individualId, factor: 'pin', challenge: '135790' },
    headers: csrf,
  });
  let to = auth.json().redirect_to as string | undefined;
  if (!to) {
    const consent = await browser.fetch(`${interaction}/api/consent`, {
      json: { accepted_claims: ['birthdate'] },
      headers: csrf,
    });
    to = consent.json().redirect_to as string;
  }
  const callback = new URL((await browser.follow(to)).url);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${callback.href}`);
  return code;
}
