import { escapeHtml as h } from '../../http/html.ts';
import type { ClaimVerification } from '../verified-claims.ts';
import { type BiometricView, biometricForm } from './biometric-page.ts';
import { claimLabel, format, type Texts } from './i18n.ts';

/**
 * Server-rendered login, consent, error and logout pages. No CDN, no inline script or style (the
 * CSP allows only same-origin assets); everything works without JavaScript, and the one script
 * (assets/otp.js) only counts down the OTP resend wait. Every input has a visible label and every
 * action is a button with a text name.
 */

export interface PageFrame {
  readonly locale: string;
  readonly texts: Texts;
  readonly basePath: string;
  readonly title: string;
  /** Language switch links (same page, other ui_locales). */
  readonly languages?: readonly { locale: string; name: string; href: string }[];
}

export interface ClientView {
  readonly name: string;
  readonly logoUri?: string;
}

/** `withScript`: true for otp.js, or the name of another script under interaction-assets/. */
export function layout(frame: PageFrame, body: string, withScript: boolean | string = false): string {
  const { texts, basePath } = frame;
  const langs = frame.languages?.length
    ? `<nav class="langs" aria-label="Language">${frame.languages
        .map((l) =>
          l.locale === frame.locale
            ? `<span aria-current="true" lang="${h(l.locale)}">${h(l.name)}</span>`
            : `<a href="${h(l.href)}" lang="${h(l.locale)}" hreflang="${h(l.locale)}">${h(l.name)}</a>`,
        )
        .join(' ')}</nav>`
    : '';
  return `<!doctype html>
<html lang="${h(frame.locale)}" dir="${texts.dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${h(frame.title)}</title>
<link rel="stylesheet" href="${h(basePath)}/interaction-assets/ui.css">
${withScript ? `<script src="${h(basePath)}/interaction-assets/${typeof withScript === 'string' ? h(withScript) : 'otp.js'}" defer></script>` : ''}
</head>
<body>
<main class="card">
${langs}
${body}
</main>
</body>
</html>`;
}

function header(client: ClientView, titleTemplate: string): string {
  const logo = client.logoUri
    ? `<img class="logo" src="${h(client.logoUri)}" alt="" width="64" height="64" referrerpolicy="no-referrer">`
    : '';
  return `<header>${logo}<h1>${h(format(titleTemplate, { rp: client.name }))}</h1></header>`;
}

function alert(message: string | undefined): string {
  return message ? `<p class="alert" role="alert" id="error">${h(message)}</p>` : '';
}

const hidden = (name: string, value: string) => `<input type="hidden" name="${h(name)}" value="${h(value)}">`;

function field(id: string, label: string, attrs: string, value = ''): string {
  return `<p class="field"><label for="${id}">${h(label)}</label>
<input id="${id}" name="${id.replace(/^f-/, '')}" ${attrs}${value ? ` value="${h(value)}"` : ''}></p>`;
}

export interface LoginView {
  readonly client: ClientView;
  readonly action: string;
  readonly csrf: string;
  /** Factors offered, in order; the selected one is shown. */
  readonly factors: readonly string[];
  readonly selected: string;
  /** Links to switch factor (no JavaScript needed). */
  readonly factorHref: (factor: string) => string;
  readonly kbiFields: readonly string[];
  /** After an OTP was sent: where to, and seconds until the next may be sent. */
  readonly otp?: { maskedTo: string; resendAfterSeconds: number };
  /** Individual ID to prefill (only when the person typed it in this transaction). */
  readonly individualId?: string;
  /** Config `kyc.captcha.requiredFor` has `send-otp`: the send-otp forms carry a `captcha_token` field. */
  readonly captcha?: boolean;
  /** It has `authenticate`: the sign-in forms carry one too. */
  readonly captchaLogin?: boolean;
  /** The biometric step's settings (when `biometric` is selected). */
  readonly biometric?: BiometricView;
  readonly error?: string;
}

export function loginPage(frame: PageFrame, view: LoginView): string {
  const { texts } = frame;
  const tabs =
    view.factors.length > 1
      ? `<nav class="factors" aria-label="${h(texts.chooseMethod)}"><ul>${view.factors
          .map((f) =>
            f === view.selected
              ? `<li><span aria-current="page">${h(texts.factor[f] ?? f)}</span></li>`
              : `<li><a href="${h(view.factorHref(f))}">${h(texts.factor[f] ?? f)}</a></li>`,
          )
          .join('')}</ul></nav>`
      : '';
  const csrf = hidden('csrf', view.csrf);
  const idField = field(
    'f-individual_id',
    texts.individualId,
    'type="text" required autocomplete="username" inputmode="text" maxlength="64"',
    view.individualId,
  );
  // The deployment's captcha widget fills this field (its script must be allowed by the page CSP).
  const captchaField = view.captcha
    ? `\n${field('f-captcha_token', texts.captcha, 'type="text" required autocomplete="off" maxlength="4096"')}`
    : '';
  // A second field (own id) for the sign-in forms: the OTP page shows both kinds of form at once.
  const loginCaptcha = view.captchaLogin
    ? `\n${field('f-captcha_login', texts.captcha, 'type="text" required autocomplete="off" maxlength="4096"').replace('name="captcha_login"', 'name="captcha_token"')}`
    : '';
  let form = '';
  switch (view.selected) {
    case 'otp':
      form = view.otp
        ? `<p class="info" role="status">${h(format(texts.codeSentTo, { to: view.otp.maskedTo }))}</p>
<form method="post" action="${h(view.action)}/login" class="stack">${csrf}${hidden('factor', 'otp')}
${field('f-individual_id', texts.individualId, 'type="text" required readonly autocomplete="username"', view.individualId)}
${field('f-otp', texts.oneTimeCode, 'type="text" required inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{4,10}" maxlength="10"')}${loginCaptcha}
<button type="submit" class="primary">${h(texts.verify)}</button></form>
<form method="post" action="${h(view.action)}/send-otp" class="stack">${csrf}${hidden('individual_id', view.individualId ?? '')}${captchaField}
<p class="hint" id="resend-hint" data-seconds="${view.otp.resendAfterSeconds}" data-template="${h(texts.resendIn)}">${
            view.otp.resendAfterSeconds > 0
              ? h(format(texts.resendIn, { s: view.otp.resendAfterSeconds }))
              : ''
          }</p>
<button type="submit" class="secondary" id="resend">${h(texts.resendCode)}</button></form>`
        : `<form method="post" action="${h(view.action)}/send-otp" class="stack">${csrf}
${idField}${captchaField}
<button type="submit" class="primary">${h(texts.getCode)}</button></form>`;
      break;
    case 'pin':
    case 'password': {
      const label = view.selected === 'pin' ? texts.pin : texts.password;
      const attrs =
        view.selected === 'pin'
          ? 'type="password" required inputmode="numeric" autocomplete="off" maxlength="12"'
          : 'type="password" required autocomplete="current-password" maxlength="128"';
      form = `<form method="post" action="${h(view.action)}/login" class="stack">${csrf}${hidden('factor', view.selected)}
${idField}
${field(`f-${view.selected}`, label, attrs)}${loginCaptcha}
<button type="submit" class="primary">${h(texts.verify)}</button></form>`;
      break;
    }
    case 'kbi':
      form = `<form method="post" action="${h(view.action)}/login" class="stack">${csrf}${hidden('factor', 'kbi')}
${idField}
${view.kbiFields
  .map((name) =>
    field(
      `f-kbi_${name}`,
      texts.kbiField[name] ?? name,
      name === 'birthdate' ? 'type="date" required' : 'type="text" required maxlength="200"',
    ),
  )
  .join('\n')}${loginCaptcha}
<button type="submit" class="primary">${h(texts.verify)}</button></form>`;
      break;
    case 'biometric':
      form = view.biometric
        ? biometricForm(view.biometric, { action: view.action, csrf, idField, captcha: loginCaptcha })
        : '';
      break;
    case 'vp':
      form = `<p><a class="button primary" href="${h(view.factorHref('vp'))}">${h(texts.wallet.offer)}</a></p>`;
      break;
    case 'wallet':
      // eSignet's linked-wallet login: a wallet bound after a one-time code signs in by QR.
      form = `<p><a class="button primary" href="${h(view.factorHref('linked-wallet'))}">${h(texts.wallet.linkedOffer)}</a></p>`;
      break;
    default:
      form = `<p class="info">${h(texts.errors.unsupported_factor ?? '')}</p>`;
  }
  const cancel = `<form method="post" action="${h(view.action)}/abort" class="cancel">${csrf}<button type="submit" class="link">${h(texts.cancel)}</button></form>`;
  return layout(
    frame,
    `${header(view.client, texts.signInTo)}
${alert(view.error)}
${tabs}
<section class="factor">
${form}
</section>
${cancel}`,
    view.selected === 'biometric' ? 'biometric.js' : view.selected === 'otp' && !!view.otp,
  );
}

export interface ConsentView {
  readonly client: ClientView;
  readonly action: string;
  readonly csrf: string;
  readonly essential: readonly string[];
  readonly voluntary: readonly string[];
  readonly credentials: readonly string[];
  /** Details asked for as verified: how each is verified ([] when it is not). */
  readonly verified?: Readonly<Record<string, readonly ClaimVerification[]>>;
  readonly error?: string;
}

/** Under which trust framework and by what evidence a detail asked for as verified is verified. */
function verifiedNote(texts: Texts, how: readonly ClaimVerification[] | undefined): string {
  if (!how) return '';
  if (how.length === 0) return ` <small class="verified unverified">${h(texts.notVerified)}</small>`;
  const parts = how.map((v) => {
    const framework = v.assurance_level ? `${v.trust_framework} (${v.assurance_level})` : v.trust_framework;
    const evidence = v.evidence.map((e) => texts.evidence[e] ?? e).join(', ');
    const under = format(texts.verifiedUnder, { framework });
    return evidence ? `${under} ${format(texts.verifiedBy, { evidence })}` : under;
  });
  return ` <small class="verified">${h(parts.join('; '))}</small>`;
}

export function consentPage(frame: PageFrame, view: ConsentView): string {
  const { texts } = frame;
  const csrf = hidden('csrf', view.csrf);
  const essential = view.essential.length
    ? `<fieldset><legend>${h(texts.essential)}</legend><ul class="claims">${view.essential
        .map(
          (c) =>
            `<li>${h(claimLabel(texts, c))}${verifiedNote(texts, view.verified?.[c])}${hidden('essential', c)}</li>`,
        )
        .join('')}</ul><p class="hint">${h(texts.essentialNote)}</p></fieldset>`
    : '';
  const voluntary = view.voluntary.length
    ? `<fieldset><legend>${h(texts.voluntary)}</legend><ul class="claims">${view.voluntary
        .map(
          (c) =>
            `<li><input type="checkbox" id="c-${h(c)}" name="claim" value="${h(c)}" checked> <label for="c-${h(c)}">${h(claimLabel(texts, c))}</label>${verifiedNote(texts, view.verified?.[c])}</li>`,
        )
        .join('')}</ul></fieldset>`
    : '';
  const credentials = view.credentials.length
    ? `<fieldset><legend>${h(texts.credentials)}</legend><ul class="claims">${view.credentials
        .map((c) => `<li>${h(c)}</li>`)
        .join('')}</ul></fieldset>`
    : '';
  const nothing =
    !essential && !voluntary && !credentials
      ? `<p>${h(format(texts.noClaims, { rp: view.client.name }))}</p>`
      : '';
  return layout(
    frame,
    `${header(view.client, texts.consentTitle)}
<p>${h(format(texts.consentIntro, { rp: view.client.name }))}</p>
${alert(view.error)}
<form method="post" action="${h(view.action)}/consent" class="stack">${csrf}
${essential}${voluntary}${credentials}${nothing}
<button type="submit" class="primary">${h(texts.allow)}</button>
</form>
<form method="post" action="${h(view.action)}/abort" class="cancel">${csrf}<button type="submit" class="secondary">${h(texts.cancel)}</button></form>`,
  );
}

export function errorPage(frame: PageFrame, message: string, code: string, requestId?: string): string {
  return layout(
    frame,
    `<h1>${h(frame.texts.errorTitle)}</h1>
<p class="alert" role="alert">${h(message)}</p>
<p>${h(frame.texts.startAgain)}</p>
<p class="hint"><small>${h(code)}${requestId ? ` · ${h(requestId)}` : ''}</small></p>`,
  );
}

export function logoutPage(frame: PageFrame, form: string): string {
  const { texts } = frame;
  return layout(
    frame,
    `<h1>${h(texts.logoutTitle)}</h1><p>${h(texts.logoutQuestion)}</p>
${form}
<p class="stack"><button type="submit" form="op.logoutForm" value="yes" name="logout" class="primary">${h(texts.logoutYes)}</button>
<button type="submit" form="op.logoutForm" class="secondary">${h(texts.logoutNo)}</button></p>`,
  );
}

export function loggedOutPage(frame: PageFrame): string {
  return layout(
    frame,
    `<h1>${h(frame.texts.logoutTitle)}</h1><p role="status">${h(frame.texts.loggedOut)}</p>`,
  );
}

export const UI_CSS = `*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Arabic",sans-serif;background:#f3f5f8;color:#1b1f24}
.card{max-width:28rem;margin:2rem auto;background:#fff;padding:1.5rem;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.15)}
@media (max-width:32rem){.card{margin:0;border-radius:0;min-height:100vh}}
header{display:flex;align-items:center;gap:.75rem}
h1{font-size:1.35rem;margin:.5rem 0 1rem}
.logo{width:48px;height:48px;object-fit:contain}
.langs{text-align:end;font-size:.9rem}
.langs a,.langs span{margin-inline-start:.5rem}
.factors ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem}
.factors a,.factors span{display:inline-block;padding:.35rem .75rem;border:1px solid #8a94a3;border-radius:999px;text-decoration:none;color:#1b1f24}
.factors span{background:#0b5cad;color:#fff;border-color:#0b5cad}
.stack{display:flex;flex-direction:column;gap:.75rem;margin:1rem 0}
.field{margin:0;display:flex;flex-direction:column;gap:.25rem}
label{font-weight:600}
input[type=text],input[type=password],input[type=date]{font-size:1rem;padding:.6rem;border:1px solid #8a94a3;border-radius:8px;width:100%}
input:focus,button:focus,a:focus{outline:3px solid #f0b400;outline-offset:2px}
button{font-size:1rem;padding:.65rem 1rem;border-radius:8px;cursor:pointer;border:1px solid #0b5cad}
.primary{background:#0b5cad;color:#fff}
.secondary{background:#fff;color:#0b5cad}
.link{background:none;border:none;color:#0b5cad;text-decoration:underline;padding:0}
.cancel{margin-top:1rem}
.alert{background:#fdecea;border:1px solid #d93025;color:#8c1d18;padding:.6rem;border-radius:8px}
.info{background:#e8f1fb;border:1px solid #0b5cad;padding:.6rem;border-radius:8px}
.hint{color:#4a5563;font-size:.9rem;margin:0}
fieldset{border:1px solid #d0d6de;border-radius:8px;margin:0 0 .75rem}
.claims{padding-inline-start:1.25rem;margin:.25rem 0}
.verified{display:block;color:#1d6b3a;font-size:.85rem}
.verified.unverified{color:#8a4b00}
a.button{display:inline-block;font-size:1rem;padding:.65rem 1rem;border-radius:8px;border:1px solid #0b5cad;text-decoration:none;text-align:center}
.qr{background:#fff;padding:.5rem;align-self:center}
.qr svg{display:block;width:280px;max-width:100%;height:auto}
[hidden]{display:none!important}
`;

/** Counts down the resend wait; without JavaScript the server enforces the same wait. */
export const OTP_JS = `(function(){var h=document.getElementById('resend-hint');var b=document.getElementById('resend');
if(!h||!b)return;var s=parseInt(h.getAttribute('data-seconds')||'0',10);var t=h.getAttribute('data-template')||'';
function tick(){if(s>0){b.disabled=true;h.textContent=t.replace('{s}',String(s));s--;setTimeout(tick,1000);}else{b.disabled=false;h.textContent='';}}
tick();})();
`;
