import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

/**
 * The floor of bench/cases/request-overhead.ts: bare node:http answering `POST /nonce` with the
 * same JSON shape and cache header as the service's nonce endpoint, and nothing else (no routing,
 * no middleware). Run as its own process by bench/service.ts (PORT in the environment).
 */
createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const body = JSON.stringify({ c_nonce: randomBytes(37).toString('base64url') });
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
// Exit on SIGTERM (as the service does), so that --cpu-prof in BENCH_SERVICE_NODE_ARGS writes its profile.
process.on('SIGTERM', () => process.exit(0));
