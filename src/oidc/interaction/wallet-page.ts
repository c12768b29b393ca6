import { escapeHtml as h } from '../../http/html.ts';
import { format, type WalletText } from './i18n.ts';
import { type ClientView, layout, type PageFrame } from './pages.ts';

/**
 * The wallet login page (OpenID4VP, cross-device and same-device): the request as a QR code
 * (server-rendered SVG), a same-device button opening the same `openid4vp://` URL, a countdown to
 * the request's expiry and a "new code" button. assets/wallet.js polls the status endpoint and
 * moves on by itself; without JavaScript, "Continue" reloads the login page, which shows consent
 * once the wallet has answered.
 */

export interface WalletPageView {
  readonly client: ClientView;
  /** The login page of this transaction (Continue, Other ways to sign in). */
  readonly loginHref: string;
  /** This page again: a new request. */
  readonly newCodeHref: string;
  readonly statusHref: string;
  readonly qrSvg: string;
  readonly walletUrl: string;
  readonly expiresInSeconds: number;
  /**
   * eSignet's linked-wallet login (src/oidc/wallet-login/linked.ts): the QR code carries a link
   * code for a wallet bound to the person's account, and the page says when the wallet connected.
   */
  readonly linked?: boolean;
}

const REASONS: readonly WalletText[] = [
  'revoked',
  'suspended',
  'not_holder',
  'not_ours',
  'not_linked',
  'other_request',
  'replayed',
  'invalid',
  'not_yours',
  'offer_other_person',
  'not_linked_key',
];

export const WALLET_PAGE_SCRIPT = 'wallet.js';

export function walletPage(frame: PageFrame, view: WalletPageView): string {
  const all = frame.texts.wallet;
  const t = view.linked
    ? { ...all, title: all.linkedTitle, scan: all.linkedScan, verified: all.linkedVerified }
    : all;
  const reasons = REASONS.map((r) => `<template id="wallet-reason-${r}">${h(t[r])}</template>`).join('');
  const body = `<header><h1>${h(t.title)}</h1></header>
<p class="hint">${h(format(frame.texts.signInTo, { rp: view.client.name }))}</p>
<section id="wallet" class="stack" data-status="${h(view.statusHref)}" data-expires="${view.expiresInSeconds}"
 data-template="${h(t.expiresIn)}" data-expired="${h(t.expired)}" data-verified="${h(t.verified)}" data-linked="${h(t.linkedConnected)}">
<p>${h(t.scan)}</p>
<div class="qr" id="wallet-qr" role="img" aria-label="${h(t.title)}">${view.qrSvg}</div>
<p><a class="button secondary" id="same-device" href="${h(view.walletUrl)}">${h(t.sameDevice)}</a></p>
<p class="info" role="status" aria-live="polite" id="wallet-state">${h(t.waiting)}</p>
<p class="hint" id="wallet-countdown">${h(format(t.expiresIn, { s: view.expiresInSeconds }))}</p>
<p><a class="button primary" id="new-code" href="${h(view.newCodeHref)}">${h(t.newCode)}</a></p>
<noscript><p>${h(t.needsScript)}</p><p><a class="button primary" href="${h(view.loginHref)}">${h(frame.texts.verify)}</a></p></noscript>
${reasons}
</section>
<p><a href="${h(view.loginHref)}">${h(t.otherWays)}</a></p>`;
  return layout(frame, body).replace(
    '</head>',
    `<script src="${h(frame.basePath)}/interaction-assets/${WALLET_PAGE_SCRIPT}" defer></script>\n</head>`,
  );
}

/**
 * Polls the status endpoint every 2 s, counts down (to the expiry the status reports), says when a
 * linked wallet connected, and follows `next` once the wallet answered.
 */
export const WALLET_JS = `(function(){var w=document.getElementById('wallet');if(!w)return;
var st=document.getElementById('wallet-state'),cd=document.getElementById('wallet-countdown'),nc=document.getElementById('new-code');
var s=parseInt(w.getAttribute('data-expires')||'0',10),t=w.getAttribute('data-template')||'',done=false;
nc.hidden=true;
function over(text,alert){done=true;st.textContent=text;st.className=alert?'alert':'info';cd.textContent='';nc.hidden=false;
var q=document.getElementById('wallet-qr');if(q)q.hidden=true;document.getElementById('same-device').hidden=true;nc.focus();}
function tick(){if(done)return;if(s<=0){over(w.getAttribute('data-expired'),true);return;}cd.textContent=t.replace('{s}',String(s));s--;setTimeout(tick,1000);}
function poll(){if(done)return;fetch(w.getAttribute('data-status'),{credentials:'same-origin',headers:{accept:'application/json'}})
.then(function(r){return r.json();}).then(function(j){if(done)return;
if(j.state==='verified'&&j.next){done=true;st.textContent=w.getAttribute('data-verified');location.assign(j.next);return;}
if(typeof j.expires_in==='number')s=j.expires_in;
if(j.state==='linked')st.textContent=w.getAttribute('data-linked');
if(j.state==='expired'){over(w.getAttribute('data-expired'),true);return;}
if(j.state==='refused'){var r=document.getElementById('wallet-reason-'+j.reason);over(r?(r.content||r).textContent:w.getAttribute('data-expired'),true);return;}
setTimeout(poll,2000);}).catch(function(){setTimeout(poll,4000);});}
tick();poll();})();
`;
