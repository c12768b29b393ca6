import type { TestApp } from '../../helpers/app.ts';
import {
  type AuthorizeOptions,
  admin,
  Browser,
  type Reply,
  startAuthorization,
  type TestClient,
} from './helpers.ts';

/** One login transaction driven through the JSON interaction API (rows 15, 47-49). */
export interface Login {
  browser: Browser;
  interaction: string;
  details: any;
  headers: Record<string, string>;
  post(path: string, json: unknown): Promise<Reply>;
  authenticate(individualId: string, factor: string, challenge: unknown): Promise<Reply>;
}

export async function beginLogin(
  app: TestApp,
  client: TestClient,
  options: AuthorizeOptions = {},
): Promise<Login> {
  const browser = new Browser(new URL(app.url).origin);
  const { interaction, reply } = await startAuthorization(app, browser, client, options);
  if (!interaction) throw new Error(`authorize did not redirect: ${reply.status} ${reply.text}`);
  const details = (await browser.fetch(`${interaction}/api`)).json();
  const headers = { 'x-csrf-token': details.csrf_token as string, origin: new URL(app.url).origin };
  const post = (path: string, json: unknown) =>
    browser.fetch(`${interaction}/api/${path}`, { json, headers });
  return {
    browser,
    interaction,
    details,
    headers,
    post,
    authenticate: (individual_id, factor, challenge) =>
      post('authenticate', { individual_id, factor, challenge }),
  };
}

/** Messages in the development outbox: the stub OTP channel's send counter. */
export async function outboxCount(app: TestApp): Promise<number> {
  const { messages } = await admin(app, 'GET', '/outbox?limit=500');
  return (messages as unknown[]).length;
}
