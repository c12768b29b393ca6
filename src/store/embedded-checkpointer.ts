/**
 * Worker thread of the embedded store (embedded.ts): checkpoints the WAL from its own connection,
 * so the copy of committed pages into the database file, and the fsyncs that go with it, do not
 * block the event loop that serves requests.
 *
 * PASSIVE checkpoints take no lock a writer waits for. But under a steady stream of commits one
 * never catches up with the last frame, and SQLite only starts the WAL over after a checkpoint
 * that did: once the WAL holds more than `restartAboveFrames` frames, a RESTART checkpoint holds
 * writers back for the short time it needs to copy what the last PASSIVE one left (a few frames
 * and an fsync), and the next commit writes the WAL from its beginning again.
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

export interface CheckpointerData {
  file: string;
  intervalMs: number;
  busyTimeoutMs: number;
  restartAboveFrames: number;
}

const { file, intervalMs, busyTimeoutMs, restartAboveFrames } = workerData as CheckpointerData;
const db = new DatabaseSync(file);
db.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
const passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const restart = db.prepare('PRAGMA wal_checkpoint(RESTART)');

const timer = setInterval(() => {
  try {
    // One row: busy (0/1), log (frames in the WAL), checkpointed (frames copied so far).
    const row = passive.get() as { log: number } | undefined;
    if (row && row.log > restartAboveFrames) restart.get();
  } catch {
    // Busy or a transient I/O error: the next tick tries again; the WAL only grows meanwhile.
  }
}, intervalMs);

parentPort?.on('message', (message) => {
  if (message !== 'close') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
