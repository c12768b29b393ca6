import { format, stripVTControlCharacters } from 'node:util';
import { type DestinationStream, type Logger, pino } from 'pino';

/**
 * Structured JSON logs. Request bodies are never logged; the paths below are redacted as a second
 * line of defence in case an object carrying a secret is logged by mistake.
 */
const REDACT = [
  'password',
  'pin',
  'otp',
  'tx_code',
  'code',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'client_assertion',
  'authorization',
  'cookie',
  'privateKey',
  'd',
  '*.password',
  '*.pin',
  '*.otp',
  '*.tx_code',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.authorization',
  '*.cookie',
  '*.privateKey',
  '*.d',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'issuer' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/**
 * Sends what libraries print with `console.*` (oidc-provider's WARNING and NOTICE lines) through
 * the JSON logger, so every log line stays JSON (terminal colour codes removed). For the service process only; returns a function
 * that puts the console back.
 */
export function routeConsole(logger: Logger): () => void {
  const original = {
    log: console.log,
    info: console.info,
    warn: console.warn,
    error: console.error,
    debug: console.debug,
  };
  const to =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) =>
      logger[level]({ source: 'console' }, stripVTControlCharacters(format(...args)));
  console.log = to('info');
  console.info = to('info');
  console.warn = to('warn');
  console.error = to('error');
  console.debug = to('debug');
  return () => Object.assign(console, original);
}
