import { escapeHtml as h } from '../../http/html.ts';

/**
 * The login page's biometric step (MOSIP Secure Biometric Interface, as eSignet's login page does it):
 * the page's script (assets/biometric.js, served from our origin) looks for a capture service on the
 * person's own machine (`MOSIPDISC` /device, `MOSIPDINFO` /info on 127.0.0.1, ports 4501–4600), asks it
 * for a capture bound to this transaction (`CAPTURE` /capture with the transaction id and this origin as
 * `domainUri`) and posts the signed result as the `biometric` factor. Only that page's CSP allows the
 * loopback origins, and only in `connect-src`. Without script the page says what is needed and the
 * other ways to sign in stay offered.
 *
 * Wire shapes: SBI specification (mosip/documentation docs/MOSIP-Device-Service-Specification.md,
 * "Device Discovery", "Device Info", "Capture") and eSignet's page (mosip/esignet 201264c8
 * oidc-ui/src/services/sbiService.js:107-139 capture request, :206-233 discovery, :285-293 device
 * checks).
 */

export interface SbiSettings {
  readonly firstPort: number;
  readonly lastPort: number;
  readonly discoveryTimeoutMs: number;
  readonly captureTimeoutSeconds: number;
}

export const DEFAULT_SBI: SbiSettings = {
  firstPort: 4501,
  lastPort: 4600,
  discoveryTimeoutMs: 2000,
  captureTimeoutSeconds: 30,
};

/** The loopback origins the page may reach: one per SBI port (CSP has no port ranges). */
export function sbiOrigins(sbi: SbiSettings): string[] {
  const origins: string[] = [];
  for (let port = sbi.firstPort; port <= sbi.lastPort; port++) origins.push(`http://127.0.0.1:${port}`);
  return origins;
}

/** The page CSP plus `connect-src` for exactly the SBI loopback origins (nothing else may be fetched). */
export function biometricCsp(pageCsp: string, sbi: SbiSettings): string {
  return `${pageCsp}; connect-src ${sbiOrigins(sbi).join(' ')}`;
}

export interface BiometricTexts {
  readonly intro: string;
  readonly capture: string;
  readonly noScript: string;
  readonly searching: string;
  readonly capturing: string;
  readonly submitting: string;
  readonly noDevice: string;
  readonly busy: string;
  readonly failed: string;
  readonly timedOut: string;
}

const en: BiometricTexts = {
  intro: 'Sign in with your face, fingerprint or iris, using the capture device connected to this computer.',
  capture: 'Capture and sign in',
  noScript:
    'Biometric sign-in needs the capture device on this computer and JavaScript in this page. Without them, choose another way to sign in.',
  searching: 'Looking for a capture device on this computer…',
  capturing: 'Capture device found. Follow its instructions: look at the camera or place your finger.',
  submitting: 'Capture received. Signing you in…',
  noDevice:
    'No capture device was found on this computer. Connect it and start its service, then try again, or choose another way to sign in.',
  busy: 'The capture device is busy with another capture. Wait a moment, then try again.',
  failed: 'The capture did not succeed. Try again, or choose another way to sign in.',
  timedOut: 'The capture device did not answer in time. Try again, or choose another way to sign in.',
};

const ar: BiometricTexts = {
  intro: 'سجّل الدخول بوجهك أو بصمة إصبعك أو قزحية عينك، باستخدام جهاز الالتقاط المتصل بهذا الحاسوب.',
  capture: 'التقط وسجّل الدخول',
  noScript:
    'يتطلب تسجيل الدخول بالقياسات الحيوية جهاز الالتقاط على هذا الحاسوب وتفعيل JavaScript في هذه الصفحة. بدونهما، اختر طريقة أخرى لتسجيل الدخول.',
  searching: 'جارٍ البحث عن جهاز التقاط على هذا الحاسوب…',
  capturing: 'تم العثور على جهاز الالتقاط. اتبع تعليماته: انظر إلى الكاميرا أو ضع إصبعك.',
  submitting: 'تم استلام الالتقاط. جارٍ تسجيل دخولك…',
  noDevice:
    'لم يتم العثور على جهاز التقاط على هذا الحاسوب. وصّله وشغّل خدمته ثم حاول مرة أخرى، أو اختر طريقة أخرى لتسجيل الدخول.',
  busy: 'جهاز الالتقاط مشغول بعملية التقاط أخرى. انتظر قليلًا ثم حاول مرة أخرى.',
  failed: 'لم ينجح الالتقاط. حاول مرة أخرى، أو اختر طريقة أخرى لتسجيل الدخول.',
  timedOut: 'لم يستجب جهاز الالتقاط في الوقت المحدد. حاول مرة أخرى، أو اختر طريقة أخرى لتسجيل الدخول.',
};

const TABLES: Record<string, BiometricTexts> = { en, ar };

export const biometricTexts = (locale: string): BiometricTexts => TABLES[locale] ?? en;

/** The states the script shows (data-state on the status line), each with its text. */
const STATES = ['searching', 'capturing', 'submitting', 'noDevice', 'busy', 'failed', 'timedOut'] as const;

export interface BiometricView {
  readonly transactionId: string;
  readonly sbi: SbiSettings;
  readonly texts: BiometricTexts;
}

/**
 * The biometric form. It posts `factor=biometric`, the Individual ID and `capture` (the device's signed
 * capture, filled by the script) to `<action>/login`. The form stays hidden until the script runs.
 */
export function biometricForm(
  view: BiometricView,
  parts: { action: string; csrf: string; idField: string; captcha: string },
): string {
  const { texts, sbi } = view;
  const stateTexts = STATES.map(
    (s) => `data-t-${s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}="${h(texts[s])}"`,
  ).join(' ');
  return `<div id="biometric" data-transaction="${h(view.transactionId)}" data-first-port="${sbi.firstPort}" data-last-port="${sbi.lastPort}" data-discovery-ms="${sbi.discoveryTimeoutMs}" data-capture-ms="${sbi.captureTimeoutSeconds * 1000}" ${stateTexts}>
<p>${h(texts.intro)}</p>
<noscript><p class="info" id="bio-noscript">${h(texts.noScript)}</p></noscript>
<form method="post" action="${h(parts.action)}/login" class="stack" id="bio-form" hidden>${parts.csrf}<input type="hidden" name="factor" value="biometric"><input type="hidden" name="capture" id="bio-capture" value="">
${parts.idField}${parts.captcha}
<p id="bio-status" class="info" role="status" aria-live="polite" hidden></p>
<button type="submit" class="primary" id="bio-start">${h(texts.capture)}</button></form>
</div>`;
}
