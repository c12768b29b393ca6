import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type App, createApp } from './app.ts';
import type { Services } from './services.ts';

export interface RunningServer {
  readonly server: Server;
  readonly app: App;
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish for up to `graceSeconds`, closes app and store. */
  stop(graceSeconds?: number): Promise<void>;
}

/** Starts the HTTP server for the assembled services. */
export async function startServer(services: Services, port: number, host: string): Promise<RunningServer> {
  const app = await createApp(services);
  const server = createServer(app.koa.callback());
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  let stopping: Promise<void> | undefined;
  const stop = (graceSeconds = services.config.http.shutdownGraceSeconds) =>
    (stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceSeconds * 1000);
      });
      await Promise.race([closed, deadline]);
      clearTimeout(timer);
      server.closeAllConnections();
      await app.close();
      await services.store.close();
    })());
  return { server, app, port: (server.address() as AddressInfo).port, stop };
}
