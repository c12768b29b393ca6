import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ComposeOptions, compose, type Parts } from './compose.ts';
import { createApp } from './http/app.ts';
import type { Services } from './services.ts';

export interface RunningServer {
  readonly server: Server;
  /** The composed parts (src/compose.ts) the app serves. */
  readonly parts: Parts;
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish for up to `graceSeconds`, closes parts and store. */
  stop(graceSeconds?: number): Promise<void>;
}

/** Composes the parts over the assembled services and starts the HTTP server for them. */
export async function startServer(
  services: Services,
  port: number,
  host: string,
  options: ComposeOptions = {},
): Promise<RunningServer> {
  const parts = await compose(services, options);
  const server = createServer(createApp(parts).callback());
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
      await parts.close();
      await services.store.close();
    })());
  return { server, parts, port: (server.address() as AddressInfo).port, stop };
}
