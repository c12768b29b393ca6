import {
  AuthFailed,
  InvalidRequest,
  InvalidTransaction,
  NoAttemptsLeft,
  NotFound,
  ServerError,
  TemporarilyUnavailable,
  TooManyRequests,
} from '../errors.ts';
import type { KycContext } from './context.ts';
import { pairwiseSubject } from './crypto.ts';
import { decoyDestination } from './mask.ts';
import type {
  AuthResult,
  Factor,
  IdentitySystem,
  KycResult,
  OtpChannel,
  OtpSent,
  PersonMessage,
  VerificationRecord,
} from './spi.ts';
import {
  BadVerificationRecords,
  parseVerificationRecords,
  recordSummaries,
  recordsCovering,
} from './verification.ts';

export interface HttpSystemOptions {
  baseUrl: string;
  apiKey?: string;
  timeoutMs?: number;
  /** Comma-separated factors the registry verifies (default: otp,pin,password,kbi,biometric). */
  factors?: string;
  /** Comma-separated OTP channels (default: sms,email). */
  otpChannels?: string;
}

const ALL_FACTORS: readonly Factor[] = ['otp', 'pin', 'password', 'kbi', 'biometric'];
const MAX_RESPONSE_BYTES = 1024 * 1024;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 1000;

class Malformed extends Error {}

/**
 * An identity system backed by an external registry over the REST contract in
 * docs/identity-registry-api.md. Every call has a deadline; an unreachable, slow or failing registry
 * is 503 temporarily_unavailable, its documented refusals map to our error codes, and anything it
 * answers outside the contract is a 500 with a log line naming the endpoint. Our own attempt and
 * send limits apply on top of whatever the registry enforces.
 */
export function createHttpSystem(
  name: string,
  options: HttpSystemOptions,
  context: KycContext,
): IdentitySystem {
  const { services, lockout, otp, tokens, identities } = context;
  const { logger } = services;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 5000;
  const factors = (options.factors ?? ALL_FACTORS.join(','))
    .split(',')
    .map((f) => f.trim())
    .filter((f): f is Factor => (ALL_FACTORS as readonly string[]).includes(f));
  const channels = (options.otpChannels ?? 'sms,email')
    .split(',')
    .map((c) => c.trim())
    .filter((c): c is OtpChannel => c === 'sms' || c === 'email');
  // The limits key on a keyed hash of the ID, as for the mock system (never the raw ID).
  const hashId = (individualId: string) => identities.hashIndividualId(individualId);

  const unavailable = (endpoint: string, reason: string, cause?: unknown) => {
    logger.error({ system: name, endpoint, reason }, 'identity registry unavailable');
    return new TemporarilyUnavailable('the identity registry is not reachable right now, retry shortly', {
      headers: { 'Retry-After': '5' },
      cause,
    });
  };
  const malformed = (endpoint: string, reason: string) => {
    logger.error({ system: name, endpoint, reason }, 'identity registry returned a malformed response');
    return new ServerError('the identity registry gave an answer we cannot use');
  };

  /** POSTs JSON; resolves to the JSON object of a 2xx answer, or throws a mapped error. */
  async function call(endpoint: string, body: Json, parse: (json: Json) => unknown): Promise<unknown> {
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${endpoint}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          ...(options.apiKey ? { Authorization: `Bearer ${options.apiKey}` } : {}),
        },
        body: JSON.stringify(body),
        redirect: 'error',
        signal,
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw unavailable(endpoint, timedOut ? `no answer within ${timeoutMs} ms` : 'connection failed', error);
    }
    let json: unknown;
    try {
      const text = await readLimited(response, signal);
      json = text === '' ? undefined : JSON.parse(text);
    } catch (error) {
      if ((error as Error).name === 'TimeoutError')
        throw unavailable(endpoint, 'response body too slow', error);
      if (response.status >= 500) throw unavailable(endpoint, `HTTP ${response.status}`, error);
      throw malformed(endpoint, `HTTP ${response.status} with a body that is not JSON (or too large)`);
    }
    if (response.status >= 500) throw unavailable(endpoint, `HTTP ${response.status}`);
    if (response.status >= 400) throw refusal(endpoint, response.status, json);
    if (!response.ok || !isObject(json))
      throw malformed(endpoint, `HTTP ${response.status} without a JSON object`);
    try {
      return parse(json);
    } catch (error) {
      if (error instanceof Malformed) throw malformed(endpoint, error.message);
      throw error;
    }
  }

  /** Maps the contract's error codes; anything else from the registry is its fault (500). */
  function refusal(endpoint: string, status: number, json: unknown): Error {
    const code = isObject(json) ? json.error : undefined;
    switch (code) {
      case 'auth_failed':
        return new AuthFailed(
          'authentication failed: check the individual ID and what you entered, then try again',
        );
      case 'no_attempts_left':
        return new NoAttemptsLeft('too many failed attempts for this individual: try again in a few minutes');
      case 'invalid_transaction':
        return new InvalidTransaction('the identity registry does not know this login any more: start again');
      case 'not_found':
        return new NotFound('no such person in the identity registry');
      case 'too_many_requests':
        return new TooManyRequests('the identity registry asks to slow down: try again in a minute', {
          headers: { 'Retry-After': '60' },
        });
      case 'invalid_request':
        return new InvalidRequest('the identity registry refused the request as invalid');
      case 'not_supported':
        return new InvalidRequest(`the identity registry does not support ${endpoint}`);
      default:
        return malformed(endpoint, `HTTP ${status} with unknown error ${JSON.stringify(code ?? null)}`);
    }
  }

  /** Verification records in the registry's answer (either form); a bad shape is the registry's fault. */
  const recordsFrom = (raw: unknown, claimNames: readonly string[]): VerificationRecord[] => {
    try {
      return parseVerificationRecords(raw, claimNames);
    } catch (error) {
      if (error instanceof BadVerificationRecords) throw new Malformed(error.message);
      throw error;
    }
  };

  const parseKyc = (json: Json): KycResult => {
    if (!isObject(json.claims)) throw new Malformed('claims must be an object');
    if (json.pending !== undefined && typeof json.pending !== 'boolean')
      throw new Malformed('pending must be a boolean');
    const verifications = recordsFrom(json.verifications ?? json.verification, Object.keys(json.claims));
    return {
      claims: json.claims,
      ...(verifications.length > 0 ? { verifications } : {}),
      ...(json.pending ? { pending: true } : {}),
    };
  };

  /** Keeps only what was accepted: a registry that over-shares must not leak through us. */
  const onlyAccepted = (result: KycResult, accepted: readonly string[]): KycResult => {
    const allowed = new Set(accepted);
    const claims = Object.fromEntries(
      Object.entries(result.claims).filter(
        ([claim]) => allowed.has(claim) || allowed.has(claim.split('#')[0]!),
      ),
    );
    const verifications = recordsCovering(result.verifications ?? [], Object.keys(claims));
    const { verifications: _all, ...rest } = result;
    return { ...rest, claims, ...(verifications.length > 0 ? { verifications } : {}) };
  };

  return {
    name,
    supportedFactors: () => factors,
    otpChannels: () => channels,

    /**
     * The registry sends login codes itself. An ID it does not know (`auth_failed` or `not_found`)
     * gets the same answer as a known one, with a decoy destination (SECURITY.md row 47); for that
     * to hold, the registry's masks must have the form of src/kyc/mask.ts (`*** **34`). The
     * registry is asked even for a blocked individual: answering otherwise would show the block.
     */
    async sendOtp(individualId, channel, transaction, purpose = 'login'): Promise<OtpSent> {
      if (!channels.includes(channel))
        throw new InvalidRequest(`channel must be one of ${channels.join(', ')}`);
      if (purpose !== 'login') throw new InvalidRequest('this identity system sends only sign-in codes');
      if (typeof individualId !== 'string' || !individualId.trim() || individualId.length > 64) {
        throw new InvalidRequest('individual ID is missing or too long');
      }
      const sendsLeft = await otp.reserveSend(hashId(individualId), transaction.transactionId);
      let maskedTo: string | undefined;
      try {
        maskedTo = (await call(
          '/otp/send',
          { individualId, channel, transactionId: transaction.transactionId, clientId: transaction.clientId },
          (json) => {
            if (!nonEmpty(json.maskedTo)) throw new Malformed('maskedTo must be a non-empty string');
            return json.maskedTo;
          },
        )) as string;
      } catch (error) {
        if (!(error instanceof AuthFailed || error instanceof NotFound)) throw error;
      }
      return {
        maskedTo: maskedTo ?? decoyDestination(context.decoyKey, channel, individualId),
        resendAfterSeconds: services.config.kyc.otp.resendCooldownSeconds,
        expiresInSeconds: services.config.kyc.otp.ttlSeconds,
        sendsLeft,
        dispatched: maskedTo !== undefined,
      };
    },

    async authenticate(individualId, challenges, transaction): Promise<AuthResult> {
      if (typeof individualId !== 'string' || !individualId.trim() || individualId.length > 64) {
        throw new InvalidRequest('individual ID is missing or too long');
      }
      if (!Array.isArray(challenges) || challenges.length === 0 || challenges.length > 5) {
        throw new InvalidRequest('between 1 and 5 challenges are required');
      }
      for (const challenge of challenges) {
        if (challenge.factor === 'wallet') {
          throw new InvalidRequest('wallet-based login is not available yet: choose another way to sign in');
        }
        if (!factors.includes(challenge.factor))
          throw new InvalidRequest(`unsupported factor ${challenge.factor}`);
      }
      let result:
        | { accountId: string; kycToken: string; factors: Factor[]; verifications: VerificationRecord[] }
        | undefined;
      const ok = await lockout.attempt(hashId(individualId), transaction.transactionId, async () => {
        try {
          result = (await call(
            '/authenticate',
            {
              individualId,
              challenges: challenges.map((c) => ({ factor: c.factor, value: c.value })),
              transactionId: transaction.transactionId,
              clientId: transaction.clientId,
            },
            (json) => {
              if (!nonEmpty(json.accountId)) throw new Malformed('accountId must be a non-empty string');
              if (!nonEmpty(json.kycToken)) throw new Malformed('kycToken must be a non-empty string');
              const verified = json.factors ?? challenges.map((c) => c.factor);
              if (!Array.isArray(verified) || !verified.every((f) => ALL_FACTORS.includes(f))) {
                throw new Malformed('factors must be an array of known factors');
              }
              // Optional: how the person's claims were verified, shown on the consent page.
              const verifications = recordSummaries(recordsFrom(json.verifications, []));
              return {
                accountId: json.accountId,
                kycToken: json.kycToken,
                factors: verified as Factor[],
                verifications,
              };
            },
          )) as typeof result;
          return true;
        } catch (error) {
          if (error instanceof AuthFailed) return false;
          throw error;
        }
      });
      if (!ok || !result) {
        throw new AuthFailed(
          'authentication failed: check the individual ID and what you entered, then try again',
        );
      }
      const { accountId } = result;
      return {
        kycToken: await tokens.issue({
          accountId,
          clientId: transaction.clientId,
          system: name,
          factors: result.factors,
          registryToken: result.kycToken,
        }),
        accountId,
        subject: pairwiseSubject(
          transaction.sectorIdentifier ?? transaction.clientId,
          accountId,
          context.subjectSalt,
        ),
        factors: result.factors,
        ...(result.verifications.length > 0 ? { verifications: result.verifications } : {}),
      };
    },

    async exchangeKyc(
      kycToken,
      acceptedClaims,
      claimsLocales,
      opts: { clientId?: string } = {},
    ): Promise<KycResult> {
      const binding = await tokens.resolve(kycToken, opts.clientId);
      const result = (await call(
        '/kyc/exchange',
        {
          kycToken: binding.registryToken,
          accountId: binding.accountId,
          clientId: binding.clientId,
          acceptedClaims,
          claimsLocales,
        },
        parseKyc,
      )) as KycResult;
      return onlyAccepted(result, acceptedClaims);
    },

    async claimsForAccount(accountId, acceptedClaims, claimsLocales): Promise<KycResult> {
      const result = (await call(
        '/kyc/claims',
        { accountId, acceptedClaims, claimsLocales },
        parseKyc,
      )) as KycResult;
      return onlyAccepted(result, acceptedClaims);
    },

    async accountFor(individualId): Promise<string | undefined> {
      try {
        return (await call('/kyc/account', { individualId }, (json) => {
          if (!nonEmpty(json.accountId)) throw new Malformed('accountId must be a non-empty string');
          return json.accountId;
        })) as string;
      } catch (error) {
        if (error instanceof NotFound) return undefined;
        throw error;
      }
    },

    async sendMessage(who: string, message: PersonMessage): Promise<{ maskedTo: string }> {
      const maskedTo = await call(
        '/notify',
        {
          who,
          subject: message.subject,
          text: message.text,
          purpose: message.purpose ?? 'notice',
          channel: message.channel,
        },
        (json) => {
          if (!nonEmpty(json.maskedTo)) throw new Malformed('maskedTo must be a non-empty string');
          return json.maskedTo;
        },
      );
      return { maskedTo: maskedTo as string };
    },
  };
}

/** Reads at most MAX_RESPONSE_BYTES of the body, within the deadline. */
async function readLimited(response: Response, signal: AbortSignal): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  const abort = () => void reader.cancel().catch(() => {});
  signal.addEventListener('abort', abort, { once: true });
  try {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_RESPONSE_BYTES) throw new Error('response too large');
      chunks.push(value);
    }
  } finally {
    signal.removeEventListener('abort', abort);
  }
  if (signal.aborted) throw signal.reason;
  return Buffer.concat(chunks).toString('utf8');
}
