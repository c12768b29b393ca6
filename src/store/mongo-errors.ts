import {
  MongoClientClosedError,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
} from 'mongodb';

/**
 * How the MongoDB adapter reads driver errors: duplicate keys, a server that is gone, and messages
 * with the connection string's credentials taken out.
 */

/** `host:port[,host:port]` of a connection string, without credentials, path or options. */
export function describeHosts(url: string): string {
  const authority = url.replace(/^[A-Za-z0-9+.-]+:\/\//, '').split(/[/?]/, 1)[0] ?? '';
  return authority.slice(authority.lastIndexOf('@') + 1);
}

/** Removes the connection string's password (raw and percent-decoded) from a message. */
export function redact(message: string, url: string): string {
  const authority = url.replace(/^[A-Za-z0-9+.-]+:\/\//, '').split(/[/?]/, 1)[0] ?? '';
  const at = authority.lastIndexOf('@');
  let out = message.split(url).join('<connection string>');
  if (at < 0) return out;
  const userinfo = authority.slice(0, at);
  const password = userinfo.slice(userinfo.indexOf(':') + 1);
  if (userinfo.includes(':') && password) {
    let decoded = password;
    try {
      decoded = decodeURIComponent(password);
    } catch {}
    for (const secret of [password, decoded]) out = out.split(secret).join('***');
  }
  return out;
}

export const isDuplicateKey = (error: unknown): boolean =>
  error instanceof MongoServerError && error.code === 11000;

/**
 * Socket errors the driver can let through unwrapped when the server vanishes mid-write (seen here:
 * `EPIPE` "This socket has been ended by the other party" from a ping right after the server died).
 */
const SOCKET_ERROR_CODES = new Set([
  'EPIPE',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTCONN',
]);

export function isUnavailable(error: unknown): boolean {
  return (
    SOCKET_ERROR_CODES.has((error as { code?: unknown })?.code as string) ||
    error instanceof MongoNetworkError || // includes MongoNetworkTimeoutError
    error instanceof MongoServerSelectionError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoClientClosedError ||
    error instanceof MongoServerClosedError ||
    error instanceof MongoOperationTimeoutError ||
    error instanceof MongoWriteConcernError ||
    (error instanceof MongoError && error.hasErrorLabel('RetryableWriteError'))
  );
}
