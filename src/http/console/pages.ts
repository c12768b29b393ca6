import type { AuditRecord } from '../../audit/audit.ts';
import type { ConsoleOffer } from '../../console/offers.ts';
import type { Operator } from '../../console/operators.ts';
import { may } from '../../console/roles.ts';
import type { CredentialPreview } from '../../credentials/configurations/preview.ts';
import type { LedgerRecord } from '../../vci/ledger.ts';
import { escapeHtml as h } from '../html.ts';
import { type ConsoleLocale, type ConsoleTexts, fill } from './strings.ts';

/**
 * Server-rendered console pages: no inline script or style (the CSP allows only same-origin
 * assets), everything works without script (console.js only refreshes an offer's state), every
 * input has a visible label, errors are tied to their fields (aria-describedby) and announced.
 */
export const CONSOLE_CSP =
  "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

type Section =
  | 'offers'
  | 'ledger'
  | 'types'
  | 'keys'
  | 'clients'
  | 'consents'
  | 'audit'
  | 'operators'
  | 'outbox';
/** Sections every role reads; administrators also see operators and the outbox (which holds codes). */
const SECTIONS: readonly Section[] = ['offers', 'ledger', 'types', 'keys', 'clients', 'consents', 'audit'];
const ADMIN_SECTIONS: readonly Section[] = ['operators', 'outbox'];

export interface Frame {
  readonly t: ConsoleTexts;
  readonly locale: ConsoleLocale;
  readonly title: string;
  readonly operator?: Operator;
  readonly csrf?: string;
  /** The section shown, marked in the navigation. */
  readonly section?: Section;
}

export const csrfField = (csrf: string) => `<input type="hidden" name="csrf" value="${h(csrf)}">`;
const when = (epochMs: number) => new Date(epochMs).toISOString().replace('T', ' ').slice(0, 16);

export function layout(frame: Frame, body: string, withScript = false): string {
  const { t, operator } = frame;
  const other = frame.locale === 'en' ? 'ar' : 'en';
  const nav = operator
    ? `<nav aria-label="${h(t.nav)}"><ul>${[
        ...SECTIONS,
        ...(may(operator.role, 'administer') ? ADMIN_SECTIONS : []),
      ]
        .map((s) => {
          const href = `/console/${s === 'types' ? 'credential-types' : s}`;
          const current = frame.section === s ? ' aria-current="page"' : '';
          return `<li><a href="${href}"${current}>${h(t[s])}</a></li>`;
        })
        .join('')}</ul></nav>
<form method="post" action="/console/sign-out" class="signout">${csrfField(frame.csrf ?? '')}
<span>${h(fill(t.signedInAs, { user: operator.username, role: t[`role_${operator.role}`] }))}</span>
<button type="submit" class="secondary">${h(t.signOut)}</button></form>`
    : '';
  return `<!doctype html>
<html lang="${frame.locale}" dir="${t.dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${h(frame.title)} · ${h(t.console)}</title>
<link rel="stylesheet" href="/console/assets/console.css">
${withScript ? '<script src="/console/assets/console.js" defer></script>' : ''}
</head>
<body>
<header class="top"><a class="brand" href="/console">${h(t.console)}</a>
<a class="lang" href="?lang=${other}" lang="${other}" hreflang="${other}">${other === 'ar' ? 'العربية' : 'English'}</a>
${nav}</header>
<main id="main">
<h1>${h(frame.title)}</h1>
${body}
</main>
</body>
</html>`;
}

export function alert(message: string | undefined, id = 'error'): string {
  return message ? `<p class="alert" role="alert" id="${id}">${h(message)}</p>` : '';
}

export function signInPage(frame: Frame, csrf: string, error?: string): string {
  const { t } = frame;
  const described = error ? ' aria-describedby="error" aria-invalid="true"' : '';
  return layout(
    frame,
    `${alert(error)}
<form method="post" action="/console/sign-in" class="stack narrow">${csrfField(csrf)}
<p class="field"><label for="username">${h(t.username)}</label>
<input id="username" name="username" type="text" autocomplete="username" required autofocus${described}></p>
<p class="field"><label for="password">${h(t.password)}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${described}></p>
<p class="field"><label for="totp">${h(t.totp)}</label>
<input id="totp" name="totp" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}"></p>
<button type="submit" class="primary">${h(t.signIn)}</button>
</form>`,
  );
}

export interface OfferFormView {
  readonly types: readonly { id: string; name: string; format: string }[];
  readonly error?: string;
  readonly errorField?: 'individual_id' | 'types';
  readonly individualId?: string;
  readonly selected?: readonly string[];
  readonly txCode?: boolean;
}

const stateLabel = (t: ConsoleTexts, state: ConsoleOffer['state']) => t[`state_${state}`];

export function offersPage(frame: Frame, form: OfferFormView, recent: readonly ConsoleOffer[]): string {
  const { t } = frame;
  const canOffer = frame.operator && may(frame.operator.role, 'offer');
  const idError = form.errorField === 'individual_id';
  const typeError = form.errorField === 'types';
  const newOffer = canOffer
    ? `<section aria-labelledby="new-offer"><h2 id="new-offer">${h(t.newOffer)}</h2>
${form.errorField ? '' : alert(form.error)}
<form method="post" action="/console/offers" class="stack">${csrfField(frame.csrf ?? '')}
<p class="field"><label for="individual_id">${h(t.individualId)}</label>
<input id="individual_id" name="individual_id" type="text" required autocomplete="off" value="${h(form.individualId ?? '')}" aria-describedby="individual_id-hint${idError ? ' individual_id-error' : ''}"${idError ? ' aria-invalid="true"' : ''}>
<span class="hint" id="individual_id-hint">${h(t.individualIdHint)}</span>
${idError ? alert(form.error, 'individual_id-error') : ''}</p>
<fieldset${typeError ? ' aria-describedby="types-error"' : ''}><legend>${h(t.credentialTypes)}</legend>
${typeError ? alert(form.error, 'types-error') : ''}
${form.types
  .map(
    (c, i) =>
      `<p class="check"><input type="checkbox" id="type-${i}" name="configuration_id" value="${h(c.id)}"${form.selected?.includes(c.id) ? ' checked' : ''}>
<label for="type-${i}">${h(c.name)} <span class="hint">${h(c.format)} · <code>${h(c.id)}</code></span></label></p>`,
  )
  .join('\n')}
</fieldset>
<p class="check"><input type="checkbox" id="tx_code" name="tx_code" value="true"${form.txCode === false ? '' : ' checked'}>
<label for="tx_code">${h(t.txCode)}</label></p>
<button type="submit" class="primary">${h(t.createOffer)}</button>
</form></section>`
    : '';
  return layout(
    frame,
    `${newOffer}
<section aria-labelledby="recent"><h2 id="recent">${h(t.recentOffers)}</h2>
${
  recent.length === 0
    ? `<p>${h(t.none)}</p>`
    : `<div class="scroll"><table><thead><tr><th scope="col">${h(t.created)}</th><th scope="col">${h(t.types)}</th><th scope="col">${h(t.txCode)}</th><th scope="col">${h(t.state)}</th></tr></thead><tbody>
${recent
  .map(
    (o) =>
      `<tr><td><a href="/console/offers/${h(o.id)}">${h(when(o.createdAt))}</a></td><td>${o.configurationIds.map((id) => `<code>${h(id)}</code>`).join(' ')}</td><td>${h(o.txCodeSentTo ? fill(t.txCodeSent, { to: o.txCodeSentTo }) : t.txCodeNotSent)}</td><td class="state-${o.state}">${h(stateLabel(t, o.state))}</td></tr>`,
  )
  .join('\n')}
</tbody></table></div>`
}
</section>`,
  );
}

/** One offer: its QR code and link only in the answer that made it (they are shown once). */
export function offerPage(
  frame: Frame,
  offer: ConsoleOffer,
  shown?: { qrSvg: string; link: string },
): string {
  const { t } = frame;
  const qr = shown
    ? `<p>${h(t.scanHint)}</p>
<figure class="qr" aria-label="${h(t.offerLink)}">${shown.qrSvg.replace('<svg ', '<svg role="img" aria-label="QR" ')}</figure>
<p class="field"><label for="offer-link">${h(t.offerLink)}</label>
<input id="offer-link" type="text" readonly value="${h(shown.link)}"></p>
<p><a id="offer-anchor" href="${h(shown.link)}">${h(t.offerLink)}</a></p>`
    : '';
  return layout(
    frame,
    `${qr}
<dl class="facts">
<dt>${h(t.types)}</dt><dd>${offer.configurationIds.map((id) => `<code>${h(id)}</code>`).join(' ')}</dd>
<dt>${h(t.txCode)}</dt><dd id="tx-code-delivery">${h(offer.txCodeSentTo ? fill(t.txCodeSent, { to: offer.txCodeSentTo }) : t.txCodeNotSent)}</dd>
<dt>${h(t.expires)}</dt><dd>${h(when(offer.expiresAt))} UTC</dd>
<dt>${h(t.state)}</dt><dd><output id="offer-state" class="state-${offer.state}" aria-live="polite" data-state-url="/console/offers/${h(offer.id)}/state" data-labels="${h(JSON.stringify({ waiting: t.state_waiting, redeemed: t.state_redeemed, expired: t.state_expired }))}">${h(stateLabel(t, offer.state))}</output></dd>
</dl>
<p><a href="/console/offers/${h(offer.id)}">${h(t.refreshState)}</a></p>`,
    true,
  );
}

export interface LedgerQuery {
  configurationId?: string;
  format?: string;
  status?: string;
  from?: string;
  to?: string;
}

export function ledgerPage(
  frame: Frame,
  query: LedgerQuery,
  choices: { configurations: readonly string[]; formats: readonly string[] },
  records: readonly LedgerRecord[],
): string {
  const { t } = frame;
  const select = (name: string, label: string, options: readonly [string, string][], value?: string) =>
    `<p class="field"><label for="${name}">${h(label)}</label><select id="${name}" name="${name}"><option value="">${h(t.any)}</option>${options
      .map(([v, l]) => `<option value="${h(v)}"${v === value ? ' selected' : ''}>${h(l)}</option>`)
      .join('')}</select></p>`;
  return layout(
    frame,
    `<form method="get" action="/console/ledger" class="filters">
${select(
  'configuration_id',
  t.configuration,
  choices.configurations.map((c) => [c, c]),
  query.configurationId,
)}
${select(
  'format',
  t.format,
  choices.formats.map((f) => [f, f]),
  query.format,
)}
${select(
  'status',
  t.status,
  (['issued', 'suspended', 'revoked'] as const).map((s) => [s, t[`status_${s}`]]),
  query.status,
)}
<p class="field"><label for="from">${h(t.from)}</label><input id="from" name="from" type="date" value="${h(query.from ?? '')}"></p>
<p class="field"><label for="to">${h(t.to)}</label><input id="to" name="to" type="date" value="${h(query.to ?? '')}"></p>
<button type="submit" class="primary">${h(t.search)}</button>
</form>
${
  records.length === 0
    ? `<p>${h(t.none)}</p>`
    : `<div class="scroll"><table><thead><tr><th scope="col">${h(t.issued)}</th><th scope="col">${h(t.configuration)}</th><th scope="col">${h(t.format)}</th><th scope="col">${h(t.status)}</th></tr></thead><tbody>
${records
  .map(
    (r) =>
      `<tr><td><a href="/console/ledger/${h(r._id)}">${h(when(r.issuedAt))}</a></td><td><code>${h(r.configurationId)}</code></td><td>${h(r.format)}</td><td class="status-${h(r.status)}">${h(t[`status_${r.status}`])}</td></tr>`,
  )
  .join('\n')}
</tbody></table></div>`
}`,
  );
}

export const REASONS = [
  'holder_request',
  'superseded',
  'affiliation_changed',
  'key_compromise',
  'privilege_withdrawn',
  'cessation_of_operation',
  'investigation',
] as const;
export type Reason = (typeof REASONS)[number];

export function ledgerRecordPage(
  frame: Frame,
  record: LedgerRecord,
  current: 'valid' | 'suspended' | 'revoked',
  notice?: string,
): string {
  const { t } = frame;
  const canChange =
    frame.operator && may(frame.operator.role, 'change_status') && record.statusEntries.length > 0;
  const actions = canChange
    ? (['revoke', 'suspend', 'reinstate'] as const)
        .map(
          (
            action,
          ) => `<form method="post" action="/console/ledger/${h(record._id)}/${action}" class="action">${csrfField(frame.csrf ?? '')}
<p class="field"><label for="reason-${action}">${h(t.reason)}</label>
<select id="reason-${action}" name="reason" required>${REASONS.map((r) => `<option value="${r}">${h(t[`reason_${r}`])}</option>`).join('')}</select></p>
<button type="submit" class="${action === 'reinstate' ? 'secondary' : 'danger'}">${h(t[action])}</button></form>`,
        )
        .join('\n')
    : '';
  return layout(
    frame,
    `${notice ? `<p class="info" role="status">${h(notice)}</p>` : ''}
<dl class="facts">
<dt>ID</dt><dd><code>${h(record._id)}</code></dd>
<dt>${h(t.configuration)}</dt><dd><code>${h(record.configurationId)}</code> (${h(t.version)} ${record.definitionVersion})</dd>
<dt>${h(t.format)}</dt><dd>${h(record.format)}</dd>
<dt>${h(t.issued)}</dt><dd>${h(when(record.issuedAt))} UTC</dd>
<dt>${h(t.currentStatus)}</dt><dd id="current-status" class="status-${current}">${h(t[`status_${current}`])}</dd>
<dt>${h(t.statusEntries)}</dt><dd><ul>${record.statusEntries
      .map((e) => `<li><code dir="ltr">${h(JSON.stringify(e))}</code></li>`)
      .join('')}</ul></dd>
</dl>
<div class="actions">${actions}</div>`,
  );
}

export interface TypeSummary {
  id: string;
  version: number;
  retired: boolean;
  name: string;
  configurationIds: readonly string[];
}

export function typesPage(frame: Frame, types: readonly TypeSummary[]): string {
  const { t } = frame;
  const canManage = frame.operator && may(frame.operator.role, 'manage_configurations');
  return layout(
    frame,
    `${canManage ? `<p><a class="button primary" href="/console/credential-types/new">${h(t.newType)}</a></p>` : ''}
<div class="scroll"><table><thead><tr><th scope="col">ID</th><th scope="col">${h(t.types)}</th><th scope="col">${h(t.version)}</th><th scope="col">${h(t.status)}</th></tr></thead><tbody>
${types
  .map(
    (d) =>
      `<tr><td><a href="/console/credential-types/${h(d.id)}">${h(d.id)}</a></td><td>${h(d.name)}<br>${d.configurationIds.map((c) => `<code>${h(c)}</code>`).join(' ')}</td><td>${d.version}</td><td>${h(d.retired ? t.retired : t.active)}</td></tr>`,
  )
  .join('\n')}
</tbody></table></div>`,
  );
}

export interface Problem {
  field: string;
  reason: string;
}

/** The definition editor: the admin API's problems listed by field, tied to the text area. */
/** What each format would issue for the demo person (src/credentials/configurations/preview.ts). */
function previewSection(t: ConsoleTexts, previews: readonly CredentialPreview[]): string {
  return previews.length
    ? `<section aria-labelledby="preview"><h2 id="preview">${h(t.preview)}</h2><p class="hint">${h(t.previewHint)}</p>
${previews
  .map(
    (
      p,
    ) => `<h3 id="preview-${h(p.configurationId)}">${h(p.format)} · <code>${h(p.configurationId)}</code></h3>
${p.missing.length ? alert(fill(t.previewMissing, { claims: p.missing.join(', ') }), `preview-missing-${h(p.configurationId)}`) : ''}
${p.selectivelyDisclosable ? `<p>${h(fill(t.disclosable, { claims: p.selectivelyDisclosable.join(', ') }))}</p>` : ''}
<pre class="json preview" tabindex="0" aria-labelledby="preview-${h(p.configurationId)}">${h(JSON.stringify(p.content, null, 2))}</pre>`,
  )
  .join('\n')}</section>`
    : '';
}

export function typeFormPage(
  frame: Frame,
  form: {
    action: string;
    text: string;
    problems?: readonly Problem[];
    error?: string;
    previews?: readonly CredentialPreview[];
  },
): string {
  const { t } = frame;
  const problems = form.problems?.length
    ? `<div class="alert" role="alert" id="problems"><p>${h(t.problems)}</p><ul>${form.problems
        .map(
          (p) =>
            `<li><code class="field-name">${h(p.field || '/')}</code>: <span class="reason">${h(p.reason)}</span></li>`,
        )
        .join('')}</ul></div>`
    : alert(form.error, 'problems');
  const invalid = form.problems?.length || form.error;
  return layout(
    frame,
    `<form method="post" action="${h(form.action)}" class="stack">${csrfField(frame.csrf ?? '')}
${problems}
<p class="field"><label for="definition">${h(t.definition)}</label>
<span class="hint" id="definition-hint">${h(t.definitionHint)}</span>
<textarea id="definition" name="definition" rows="24" spellcheck="false" aria-describedby="definition-hint${invalid ? ' problems' : ''}"${invalid ? ' aria-invalid="true"' : ''}>${h(form.text)}</textarea></p>
<p class="actions"><button type="submit" class="primary">${h(t.save)}</button>
<button type="submit" name="intent" value="preview" class="secondary">${h(t.previewButton)}</button></p>
</form>
${previewSection(t, form.previews ?? [])}`,
  );
}

export function typePage(
  frame: Frame,
  definition: Record<string, unknown>,
  versions: readonly TypeSummary[],
  previews: readonly CredentialPreview[] = [],
): string {
  const { t } = frame;
  const id = String(definition.id);
  const canManage =
    frame.operator && may(frame.operator.role, 'manage_configurations') && !definition.retired;
  return layout(
    frame,
    `<h2>${h(t.versions)}</h2>
<ul>${versions.map((v) => `<li>${h(t.version)} ${v.version}${v.retired ? ` (${h(t.retired)})` : ''}</li>`).join('')}</ul>
<pre class="json" tabindex="0">${h(JSON.stringify(definition, null, 2))}</pre>
${previewSection(t, previews)}
${
  canManage
    ? `<p><a class="button primary" href="/console/credential-types/${h(id)}/edit">${h(t.edit)}</a></p>
<form method="post" action="/console/credential-types/${h(id)}/retire">${csrfField(frame.csrf ?? '')}
<p class="hint">${h(t.retireHint)}</p><button type="submit" class="danger">${h(t.retire)}</button></form>`
    : ''
}`,
  );
}

export interface KeyView {
  kid: string;
  purpose: string;
  alg: string;
  status: string;
  createdAt: number;
  publishUntil?: number;
}

export function keysPage(
  frame: Frame,
  keys: readonly KeyView[],
  signer: { reasons: readonly string[]; notice?: string; error?: string },
): string {
  const { t } = frame;
  const canRotate = frame.operator && may(frame.operator.role, 'administer');
  // Signer certificates belong to credential keys; revoking is refused (409) while a key still signs.
  const revocable = canRotate ? keys.filter((k) => k.purpose === 'credential' && k.status !== 'active') : [];
  const revoke = revocable.length
    ? `<section aria-labelledby="signers"><h2 id="signers">${h(t.revokeCertificates)}</h2>
<p class="hint">${h(t.retiredKeysHint)}</p>
${revocable
  .map(
    (k, i) =>
      `<form method="post" action="/console/keys/${h(k.kid)}/revoke-certificates" class="action">${csrfField(frame.csrf ?? '')}
<p class="field"><label for="signer-reason-${i}">${h(t.reason)} <code>${h(k.kid)}</code></label>
<select id="signer-reason-${i}" name="reason">${signer.reasons.map((r) => `<option>${h(r)}</option>`).join('')}</select></p>
<button type="submit" class="danger">${h(t.revokeCertificates)}</button></form>`,
  )
  .join('\n')}</section>`
    : '';
  return layout(
    frame,
    `${signer.notice ? `<p class="info" role="status">${h(signer.notice)}</p>` : ''}${alert(signer.error)}
<div class="scroll"><table><thead><tr><th scope="col">kid</th><th scope="col">${h(t.purpose)}</th><th scope="col">${h(t.algorithm)}</th><th scope="col">${h(t.status)}</th><th scope="col">${h(t.created)}</th><th scope="col">${h(t.published)}</th></tr></thead><tbody>
${keys
  .map(
    (k) =>
      `<tr><td><code>${h(k.kid)}</code></td><td>${h(k.purpose)}</td><td>${h(k.alg)}</td><td>${h(k.status)}</td><td>${h(when(k.createdAt))}</td><td>${k.publishUntil ? h(when(k.publishUntil)) : '—'}</td></tr>`,
  )
  .join('\n')}
</tbody></table></div>
${
  canRotate
    ? (['credential', 'oidc'] as const)
        .map(
          (p) =>
            `<form method="post" action="/console/keys/rotate" class="action">${csrfField(frame.csrf ?? '')}<input type="hidden" name="purpose" value="${p}"><button type="submit" class="secondary">${h(fill(t.rotate, { purpose: p }))}</button></form>`,
        )
        .join('\n')
    : ''
}
${revoke}`,
  );
}

export function auditPage(
  frame: Frame,
  query: { type?: string; days: number },
  types: readonly string[],
  records: readonly AuditRecord[],
): string {
  const { t } = frame;
  const detail = (r: AuditRecord) =>
    Object.entries(r)
      .filter(([k]) => !['_id', 'type', 'at', 'day', 'operatorId', 'requestId'].includes(k))
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
      .join(' ');
  return layout(
    frame,
    `<form method="get" action="/console/audit" class="filters">
<p class="field"><label for="type">${h(t.eventType)}</label><select id="type" name="type"><option value="">${h(t.any)}</option>${types
      .map((ty) => `<option${ty === query.type ? ' selected' : ''}>${h(ty)}</option>`)
      .join('')}</select></p>
<p class="field"><label for="days">${h(t.days)}</label><input id="days" name="days" type="number" min="1" max="90" value="${query.days}"></p>
<button type="submit" class="primary">${h(t.filter)}</button></form>
<div class="scroll"><table><thead><tr><th scope="col">${h(t.at)}</th><th scope="col">${h(t.eventType)}</th><th scope="col">${h(t.operator)}</th><th scope="col">${h(t.details)}</th></tr></thead><tbody>
${records
  .map(
    (r) =>
      `<tr><td>${h(when(r.at))}</td><td>${h(r.type)}</td><td>${h(r.operatorId ?? '')}</td><td><code>${h(detail(r))}</code></td></tr>`,
  )
  .join('\n')}
</tbody></table></div>`,
  );
}

export function messagePage(frame: Frame, message: string): string {
  return layout(frame, alert(message));
}
