import type { Clock } from '../clock.ts';
import { sha256Base64url } from '../crypto/hash.ts';
import { safeEqual } from '../kyc/crypto.ts';
import { randomId } from '../random.ts';
import type { Store, StoredDoc } from '../store/spi.ts';

/**
 * Console sessions (collection `console_sessions`). The cookie carries a 256-bit random token; the
 * store files the session under the token's SHA-256, so a copy of the database opens no session.
 * A session is only ever made by a successful sign-in, with a new token (no fixation: a token
 * planted before sign-in never becomes a signed-in one). It ends after `idleSeconds` without a
 * request or `absoluteSeconds` after sign-in, whichever comes first (OWASP ASVS 3.3), or at
 * sign-out. Each session holds its synchronizer CSRF token, checked on every POST.
 */
export interface SessionDoc extends StoredDoc {
  operatorId: string;
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
  absoluteExpiresAt: number;
}

export interface ConsoleSession {
  readonly operatorId: string;
  readonly csrf: string;
}

export const SESSIONS_COLLECTION = { name: 'console_sessions', indexes: ['operatorId'] };

/** A session token as the cookie carries it: 43 base64url characters. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function createSessions(deps: {
  store: Store;
  clock: Clock;
  idleSeconds: number;
  absoluteSeconds: number;
}) {
  const { clock, idleSeconds, absoluteSeconds } = deps;
  const sessions = deps.store.collection<SessionDoc>(SESSIONS_COLLECTION);
  const idOf = (token: string) => sha256Base64url(`console-session:${token}`);

  return {
    /** A new session for a signed-in operator; the token goes in the cookie and nowhere else. */
    async open(operatorId: string): Promise<{ token: string; session: ConsoleSession }> {
      const token = randomId(32);
      const now = clock.now();
      const absoluteExpiresAt = now + absoluteSeconds * 1000;
      const doc: SessionDoc = {
        _id: idOf(token),
        operatorId,
        csrf: randomId(32),
        createdAt: now,
        lastSeenAt: now,
        absoluteExpiresAt,
        expiresAt: Math.min(now + idleSeconds * 1000, absoluteExpiresAt),
      };
      await sessions.insert(doc);
      return { token, session: { operatorId, csrf: doc.csrf } };
    },

    /** The live session for this token, its idle timer restarted; undefined when none. */
    async find(token: string | undefined): Promise<ConsoleSession | undefined> {
      if (!token || !TOKEN.test(token)) return undefined;
      const doc = await sessions.get(idOf(token));
      const now = clock.now();
      if (!doc || doc.absoluteExpiresAt <= now || (doc.expiresAt ?? 0) <= now) return undefined;
      await sessions.update(
        doc._id,
        {},
        {
          lastSeenAt: now,
          expiresAt: Math.min(now + idleSeconds * 1000, doc.absoluteExpiresAt),
        },
      );
      return { operatorId: doc.operatorId, csrf: doc.csrf };
    },

    async close(token: string | undefined): Promise<void> {
      if (token && TOKEN.test(token)) await sessions.delete(idOf(token));
    },

    /** Synchronizer token check (OWASP CSRF cheat sheet), in constant time. */
    csrfMatches(session: ConsoleSession, presented: string | undefined): boolean {
      return typeof presented === 'string' && presented.length > 0 && safeEqual(session.csrf, presented);
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
