import { may } from '../../console/roles.ts';
import { escapeHtml as h } from '../html.ts';
import { alert, csrfField, type Frame, layout } from './pages.ts';
import { fill } from './strings.ts';

/**
 * Console pages for clients, consents, operators and the demo outbox (same rules as pages.ts: no
 * inline script or style, labels on every input, errors tied to their field and announced).
 */
const when = (epochMs: number) => new Date(epochMs).toISOString().replace('T', ' ').slice(0, 16);
const notice = (text?: string) => (text ? `<p class="info" role="status">${h(text)}</p>` : '');
const table = (heads: readonly string[], rows: readonly string[]) =>
  `<div class="scroll"><table><thead><tr>${heads.map((x) => `<th scope="col">${h(x)}</th>`).join('')}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table></div>`;

export interface ClientRow {
  readonly clientId: string;
  readonly name?: string;
  readonly wallet: boolean;
  readonly redirectUris: readonly string[];
}

export function clientsPage(frame: Frame, clients: readonly ClientRow[]): string {
  const { t } = frame;
  const canManage = frame.operator && may(frame.operator.role, 'administer');
  return layout(
    frame,
    `${canManage ? `<p><a class="button primary" href="/console/clients/new">${h(t.newClient)}</a></p>` : ''}
${
  clients.length === 0
    ? `<p>${h(t.none)}</p>`
    : table(
        [t.clientId, t.clientName, t.clientKind, t.redirectUris],
        clients.map(
          (c) =>
            `<tr><td><a href="/console/clients/${encodeURIComponent(c.clientId)}"><code>${h(c.clientId)}</code></a></td><td>${h(c.name ?? '')}</td><td>${h(c.wallet ? t.kind_wallet : t.kind_relying_party)}</td><td>${c.redirectUris.map((u) => `<code>${h(u)}</code>`).join('<br>')}</td></tr>`,
        ),
      )
}`,
  );
}

/** One client's registration: read-only for every role, the JSON editor for administrators. */
export function clientPage(
  frame: Frame,
  form: { action: string; text: string; error?: string; editable: boolean },
): string {
  const { t } = frame;
  if (!form.editable) return layout(frame, `<pre class="json" tabindex="0">${h(form.text)}</pre>`);
  const invalid = form.error !== undefined;
  return layout(
    frame,
    `<form method="post" action="${h(form.action)}" class="stack">${csrfField(frame.csrf ?? '')}
${alert(form.error, 'problems')}
<p class="field"><label for="metadata">${h(t.metadata)}</label>
<span class="hint" id="metadata-hint">${h(t.metadataHint)}</span>
<textarea id="metadata" name="metadata" rows="20" spellcheck="false" aria-describedby="metadata-hint${invalid ? ' problems' : ''}"${invalid ? ' aria-invalid="true"' : ''}>${h(form.text)}</textarea></p>
<button type="submit" class="primary">${h(t.save)}</button>
</form>`,
  );
}

export interface ConsentRow {
  readonly id: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly claims: readonly string[];
  readonly givenAt: number;
  readonly expiresAt: number;
}

export function consentsPage(
  frame: Frame,
  query: string,
  consents: readonly ConsentRow[] | undefined,
  message?: string,
): string {
  const { t } = frame;
  const canRevoke = frame.operator && may(frame.operator.role, 'administer');
  const rows = (consents ?? []).map(
    (c) =>
      `<tr><td><code>${h(c.clientId)}</code></td><td>${c.scopes.map((s) => `<code>${h(s)}</code>`).join(' ')}</td><td>${c.claims.map((s) => `<code>${h(s)}</code>`).join(' ')}</td><td>${h(when(c.givenAt))}</td><td>${h(when(c.expiresAt))}</td><td>${
        canRevoke
          ? `<form method="post" action="/console/consents/${h(c.id)}/revoke" class="action">${csrfField(frame.csrf ?? '')}<input type="hidden" name="q" value="${h(query)}"><button type="submit" class="danger">${h(t.revokeConsent)}</button></form>`
          : ''
      }</td></tr>`,
  );
  return layout(
    frame,
    `${notice(message)}
<form method="get" action="/console/consents" class="filters">
<p class="field"><label for="q">${h(t.accountOrSubject)}</label>
<input id="q" name="q" type="text" required autocomplete="off" value="${h(query)}" aria-describedby="q-hint">
<span class="hint" id="q-hint">${h(t.accountOrSubjectHint)}</span></p>
<button type="submit" class="primary">${h(t.search)}</button></form>
${
  consents === undefined
    ? ''
    : consents.length === 0
      ? `<p>${h(t.none)}</p>`
      : table([t.clients, t.scopes, t.claimsAccepted, t.given, t.expires, ''], rows)
}`,
  );
}

export interface OutboxRow {
  readonly channel: string;
  readonly to: string;
  readonly text: string;
  readonly createdAt: number;
}

export function outboxPage(frame: Frame, messages: readonly OutboxRow[] | undefined): string {
  const { t } = frame;
  if (!messages) return layout(frame, `<p>${h(t.outboxDisabled)}</p>`);
  return layout(
    frame,
    `<p class="hint">${h(t.outboxHint)}</p>
${
  messages.length === 0
    ? `<p>${h(t.none)}</p>`
    : table(
        [t.at, t.channel, t.recipient, t.message],
        messages.map(
          (m) =>
            `<tr><td>${h(when(m.createdAt))}</td><td>${h(m.channel)}</td><td>${h(m.to)}</td><td>${h(m.text)}</td></tr>`,
        ),
      )
}`,
  );
}

export interface OperatorRow {
  readonly id: string;
  readonly username: string;
  readonly role: 'administrator' | 'issuance_officer' | 'auditor';
  readonly totp: boolean;
  readonly createdAt: number;
}

export function operatorsPage(
  frame: Frame,
  operators: readonly OperatorRow[],
  form: { error?: string; username?: string; message?: string; enrolUri?: string } = {},
): string {
  const { t } = frame;
  const self = frame.operator?.id;
  const roles = ['administrator', 'issuance_officer', 'auditor'] as const;
  const invalid = form.error ? ' aria-describedby="operator-error" aria-invalid="true"' : '';
  return layout(
    frame,
    `${notice(form.message)}
${form.enrolUri ? `<p>${h(t.totpEnrol)}</p><p class="field"><label for="enrol">TOTP URI</label><input id="enrol" type="text" readonly value="${h(form.enrolUri)}"></p>` : ''}
${table(
  [t.username, t.role, 'TOTP', t.created, ''],
  operators.map(
    (o) =>
      `<tr><td>${h(o.username)}</td><td>${h(t[`role_${o.role}`])}</td><td>${o.totp ? '✓' : '—'}</td><td>${h(when(o.createdAt))}</td><td>${
        o.id === self
          ? ''
          : `<form method="post" action="/console/operators/${h(o.id)}/remove" class="action">${csrfField(frame.csrf ?? '')}<button type="submit" class="danger" aria-label="${h(`${t.removeOperator} ${o.username}`)}">${h(t.removeOperator)}</button></form>`
      }</td></tr>`,
  ),
)}
<section aria-labelledby="new-operator"><h2 id="new-operator">${h(t.newOperator)}</h2>
${alert(form.error, 'operator-error')}
<form method="post" action="/console/operators" class="stack narrow">${csrfField(frame.csrf ?? '')}
<p class="field"><label for="username">${h(t.username)}</label>
<input id="username" name="username" type="text" required autocomplete="off" value="${h(form.username ?? '')}"${invalid}></p>
<p class="field"><label for="password">${h(t.password)}</label>
<input id="password" name="password" type="password" required autocomplete="new-password"${invalid}></p>
<p class="field"><label for="role">${h(t.role)}</label><select id="role" name="role">${roles
      .map((r) => `<option value="${r}">${h(t[`role_${r}`])}</option>`)
      .join('')}</select></p>
<p class="check"><input type="checkbox" id="totp" name="totp" value="true" checked><label for="totp">${h(t.withTotp)}</label></p>
<button type="submit" class="primary">${h(t.newOperator)}</button>
</form></section>`,
  );
}

export const signerRevokedNotice = (frame: Frame, kid: string, count: number) =>
  fill(frame.t.certificatesRevoked, { kid, count: String(count) });
