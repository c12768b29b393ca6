/**
 * Worker thread of the embedded store (embedded.ts): checkpoints the WAL from its own connection,
 * so the copy of committed pages into the database file, and the fsyncs that go with it, do not
 * block the event loop that serves requests.
 *
 * PASSIVE checkpoints take no lock a writer waits for. But under a steady stream of commits one
 * never catches up with the last frame, and SQLite only starts the WAL over after a checkpoint
 * that did. So once the WAL holds more than `finishAboveFrames` frames, the worker tells the
 * store's own connection ({log, checkpointed}), which copies the small remainder itself between
 * two of its transactions, when no frame can arrive meanwhile; its next commit starts the WAL over.
 * The worker pauses until the store answers 'finished', or its own checkpoint, running back to back
 * under heavy writing, would hold the checkpoint lock and leave the store's busy every time.
 * A RESTART checkpoint (it holds every writer back while it waits for readers, and stalled the
 * event loop for seconds on a large file) is only the last resort, past `restartAboveFrames`,
 * when other connections keep writing to the same file.
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

export interface CheckpointerData {
  file: string;
  intervalMs: number;
  busyTimeoutMs: number;
  finishAboveFrames: number;
  restartAboveFrames: number;
}

/** What the worker posts to the store when its connection should finish the checkpoint. */
export interface CheckpointerReport {
  log: number;
  checkpointed: number;
}

const { file, intervalMs, busyTimeoutMs, finishAboveFrames, restartAboveFrames } =
  workerData as CheckpointerData;
const db = new DatabaseSync(file);
db.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
const passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const restart = db.prepare('PRAGMA wal_checkpoint(RESTART)');

/** Ticks to wait for the store's 'finished' (its event loop may be busy) before going on alone. */
const WAIT_TICKS = 25;
/** Ticks since the store was asked to finish; 0 when it was not. */
let waited = 0;

const timer = setInterval(() => {
  if (waited > 0 && waited++ < WAIT_TICKS) return;
  waited = 0;
  try {
    // One row: busy (0/1), log (frames in the WAL), checkpointed (frames copied so far).
    const row = passive.get() as { log: number; checkpointed: number } | undefined;
    if (!row || row.log <= finishAboveFrames) return;
    if (row.log > restartAboveFrames) {
      restart.get();
      return;
    }
    parentPort?.postMessage({ log: row.log, checkpointed: row.checkpointed } satisfies CheckpointerReport);
    waited = 1;
  } catch {
    // Busy or a transient I/O error: the next tick tries again; the WAL only grows meanwhile.
  }
}, intervalMs);

parentPort?.on('message', (message) => {
  if (message === 'finished') waited = 0;
  if (message !== 'close') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
