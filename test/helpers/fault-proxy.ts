import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between the app and its database that can fail on demand (SECURITY.md "fault proxy"):
 * `pass` forwards, `reset` destroys every open and new connection, `blackhole` accepts connections
 * and never answers.
 */
export interface FaultProxy {
  readonly port: number;
  mode(mode: 'pass' | 'reset' | 'blackhole'): void;
  close(): Promise<void>;
}

export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  let current: 'pass' | 'reset' | 'blackhole' = 'pass';
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    if (current === 'reset') return client.destroy();
    if (current === 'blackhole') return client.pause();
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as { port: number }).port,
    mode(mode) {
      current = mode;
      if (mode !== 'pass') for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
