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
