import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { AppError, TemporarilyUnavailable } from '../errors.ts';
import { type Store, type StoredDoc, UniqueViolation } from '../store/spi.ts';
import { sha256 } from './crypto.ts';

/** Actions a captcha can guard (config `kyc.captcha.requiredFor`). */
export type CaptchaAction = 'send-otp' | 'binding-otp' | 'authenticate';
export const CAPTCHA_ACTIONS: readonly CaptchaAction[] = ['send-otp', 'binding-otp', 'authenticate'];

export interface CaptchaPolicy {
  /** `none`: no captcha; `http`: tokens checked by a siteverify-style verifier. */
  provider: 'none' | 'http';
  /** The actions that need a solved captcha (with provider `http`). */
  requiredFor: readonly string[];
  verifyUrl: string;
  secret: string;
  timeoutMs: number;
}

/** How long a token's hash is kept to refuse its replay (siteverify tokens live about 2 minutes). */
const USED_TOKEN_TTL_SECONDS = 600;
const MAX_TOKEN_CHARS = 4096;

/** eSignet's `invalid_captcha`: a missing, malformed, refused or replayed token. */
export const invalidCaptcha = () =>
  new AppError(400, 'invalid_captcha', 'the captcha was not solved or has expired: solve it again');

export interface CaptchaVerifier {
  /** Whether `action` needs a captcha token. */
  required(action: CaptchaAction): boolean;
  /**
   * For an action that needs one, checks the token: throws invalid_captcha (missing, refused,
   * replayed) or temporarily_unavailable (verifier down). Does nothing for other actions.
   */
  check(action: CaptchaAction, token: unknown): Promise<void>;
}

/**
 * Captcha in front of OTP sending and, where configured, authentication (SECURITY.md rows 15, 47;
 * eSignet `mosip.esignet.captcha.required` lists the actions the same way). The `http` provider posts `secret` and `response` as a form to
 * a siteverify endpoint (reCAPTCHA, hCaptcha, Turnstile all speak it) and accepts only
 * `{"success": true}`. It fails closed: an unreachable, slow or garbled verifier refuses the send.
 * A token is accepted once (its hash is kept for a while), whatever the verifier says.
 */
export function createCaptcha(deps: {
  policy: CaptchaPolicy;
  store: Store;
  clock: Clock;
  logger: Logger;
}): CaptchaVerifier {
  const { policy, clock, logger } = deps;
  if (policy.provider === 'none') return { required: () => false, async check() {} };
  const actions = new Set(policy.requiredFor);
  const used = deps.store.collection<StoredDoc>({ name: 'captcha_tokens' });

  async function siteverify(token: string): Promise<boolean> {
    let response: Response;
    try {
      response = await fetch(policy.verifyUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ secret: policy.secret, response: token }).toString(),
        signal: AbortSignal.timeout(policy.timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      logger.warn({ reason: (error as Error).name }, 'captcha verifier unreachable: refusing');
      throw unavailable();
    }
    let body: unknown;
    try {
      body = response.ok ? await response.json() : undefined;
    } catch {
      body = undefined;
    }
    if (!body || typeof body !== 'object') {
      logger.warn({ status: response.status }, 'captcha verifier answered without JSON: refusing');
      throw unavailable();
    }
    return (body as { success?: unknown }).success === true;
  }

  return {
    required: (action) => actions.has(action),
    async check(action, token) {
      if (!actions.has(action)) return;
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS) {
        throw invalidCaptcha();
      }
      if (!(await siteverify(token))) throw invalidCaptcha();
      try {
        await used.insert({ _id: sha256(token), expiresAt: clock.now() + USED_TOKEN_TTL_SECONDS * 1000 });
      } catch (error) {
        if (error instanceof UniqueViolation) throw invalidCaptcha();
        throw error;
      }
    },
  };
}

const unavailable = () =>
  new TemporarilyUnavailable('the captcha cannot be checked right now: try again in a moment');
