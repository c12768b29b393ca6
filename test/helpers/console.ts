import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { createOperators, operatorPolicy } from '../../src/console/operators.ts';
import type { TestApp } from './app.ts';

/** The console's sign-in policy as tests run it: a low scrypt cost, the configured lockout. */
export function operatorsOf(app: TestApp) {
  const { config, store, audit } = app.services;
  return createOperators({
    store,
    clock: app.clock,
    audit,
    policy: operatorPolicy(config),
  });
}

export const PASSWORD = 'a long enough test password';

/** A browser-like client over undici: one cookie jar, forms posted as a browser posts them. */
export class ConsoleClient {
  readonly cookies = new Map<string, string>();
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async send(
    method: 'GET' | 'POST',
    path: string,
    form?: Record<string, string | string[]>,
    headers: Record<string, string> = {},
  ) {
    const body = form
      ? new URLSearchParams(
          Object.entries(form).flatMap(([k, v]) =>
            Array.isArray(v) ? v.map((x): [string, string] => [k, x]) : [[k, v] as [string, string]],
          ),
        ).toString()
      : undefined;
    const res = await request(`${this.base}${path}`, {
      method,
      headers: {
        ...(this.cookies.size ? { cookie: this.cookieHeader } : {}),
        ...(body !== undefined
          ? { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(this.base).origin }
          : {}),
        ...headers,
      },
      ...(body !== undefined ? { body } : {}),
    });
    const setCookie = res.headers['set-cookie'];
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair, ...attributes] = line.split(';');
      const [name, value] = pair!.split('=') as [string, string];
      if (attributes.some((a) => /max-age=0/i.test(a.trim())) || value === '')
        this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value);
    }
    const text = await res.body.text();
    return {
      status: res.statusCode,
      headers: res.headers,
      text,
      location: res.headers.location as string | undefined,
      setCookie,
    };
  }

  /** The CSRF token of the last form on a page. */
  static csrf(html: string): string {
    const all = [...html.matchAll(/name="csrf" value="([^"]+)"/g)];
    if (all.length === 0) throw new Error('no csrf field on the page');
    return all.at(-1)![1]!;
  }

  async signIn(username: string, password = PASSWORD, totp?: string) {
    const form = await this.send('GET', '/console/sign-in');
    return this.send('POST', '/console/sign-in', {
      csrf: ConsoleClient.csrf(form.text),
      username,
      password,
      ...(totp !== undefined ? { totp } : {}),
    });
  }

  /** The session's CSRF token, read from a signed-in page. */
  async sessionCsrf(): Promise<string> {
    return ConsoleClient.csrf((await this.send('GET', '/console/offers')).text);
  }
}

/** A new credential type for tests: proof-of-age's definition as `library-card`, ldp_vc only. */
export function libraryCard() {
  const { $comment: _comment, ...base } = JSON.parse(
    readFileSync('credential-configurations/proof-of-age.json', 'utf8'),
  );
  const ldp = (base.formats as Record<string, Record<string, unknown>>).ldp_vc!;
  return {
    ...base,
    id: 'library-card',
    scope: 'library_card',
    formats: { ldp_vc: { ...ldp, configurationId: 'LibraryCard_ldp_vc' } },
  };
}
