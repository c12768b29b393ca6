import { describe, expect, it } from 'vitest';
import { freePort, serviceProcesses } from '../../helpers/service-process.ts';

/**
 * One process per store file (docs/ARCHITECTURE.md, Storage): a second service started on the same
 * data directory refuses to start, naming the directory and the process that holds it; a lock left
 * by a process that died (kill -9) does not stop the next start.
 */
const service = serviceProcesses('issuer-lock-');

function start(dataDir: string, port: number) {
  const { child, stdout, stderr, exited } = service.start('src/main.ts', {
    DATA_DIR: dataDir,
    PORT: String(port),
  });
  const listening = async () => {
    const deadline = Date.now() + 30_000;
    while (!stdout().includes('listening')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`did not start: ${stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { child, exited, listening, stderr };
}

describe('one service process per data directory', () => {
  it('refuses a second process on the same data directory, naming the directory and the first pid; starts again after the first was killed', async () => {
    const dataDir = service.tempDir();
    const first = start(dataDir, await freePort());
    await first.listening();

    const second = start(dataDir, await freePort());
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(/^issuer: cannot start: /);
    expect(second.stderr()).toContain(dataDir);
    expect(second.stderr()).toContain(`pid ${first.child.pid}`);
    expect(second.stderr()).not.toMatch(/\n\s+at /);

    first.child.kill('SIGKILL');
    await first.exited;
    const third = start(dataDir, await freePort());
    await third.listening();
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  }, 90_000);
});
