import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

/** Another live process holds the store file. */
export class StoreLocked extends Error {
  override name = 'StoreLocked';
}

export interface StoreLock {
  readonly file: string;
  /** Removes the lock file, if it is still ours. Idempotent. */
  release(): void;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const holderOf = (file: string): number | undefined => {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
};

/**
 * One service process per embedded store file (docs/ARCHITECTURE.md, Storage): `<store file>.lock`
 * is created exclusively (O_EXCL) and holds this process's pid. A lock whose pid is no longer
 * running (the holder was killed), or is this very process (a container restarted with the same
 * pid), is stale and taken over; a live holder stops the start, named with its pid. `where` is
 * what the message calls the store (e.g. "data directory /srv/issuer").
 */
export function lockStoreFile(storeFile: string, where: string): StoreLock {
  const file = `${storeFile}.lock`;
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StoreLocked(`cannot create the lock file ${file}: ${(error as Error).message}`);
      }
      const holder = holderOf(file);
      if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
        throw new StoreLocked(
          `${where} is in use by another issuer process (pid ${holder}, lock file ${file}): one process per ` +
            'store file; stop that process first (or, if that pid is not an issuer, delete the lock file)',
        );
      }
      if (attempt > 0) throw new StoreLocked(`cannot take over the stale lock file ${file}`);
      // Stale: remove it unless another starter replaced it meanwhile, then try once more.
      if (holderOf(file) === holder) {
        try {
          unlinkSync(file);
        } catch {
          // Already removed by another starter; the exclusive create below decides.
        }
      }
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    break;
  }
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      try {
        if (holderOf(file) === process.pid) unlinkSync(file);
      } catch {
        // Gone already.
      }
    },
  };
}
