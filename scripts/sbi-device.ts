/**
 * A mock MOSIP SBI capture service (the `npm run demo:sbi` device, and the browser tests' device). It
 * listens on 127.0.0.1 on the first free port of 4501–4600 and answers the SBI methods a login page
 * sends: `MOSIPDISC /device`, `MOSIPDINFO /info` and `CAPTURE /capture` (SBI specification,
 * mosip/documentation docs/MOSIP-Device-Service-Specification.md, "Device Discovery", "Device Info",
 * "Capture"; eSignet's page sends them as in mosip/esignet 201264c8 oidc-ui/src/services/sbiService.js).
 *
 * A capture's `data` is a compact JWS signed with the device key (ES256, `kid` = the key registered in
 * config `kyc.biometric.devices`) over the SBI data block (digitalId, deviceCode, bioType, purpose, env,
 * domainUri, transactionId, timestamp, scores) plus what the mock identity system checks: the
 * individual-ID hash of the person "in front of" the device (the device's own matcher; it is configured
 * with that person, as a real device sees who is there) and the hash of the sample. The sample itself
 * (SBI `bioValue`) is never sent: nothing biometric leaves the device.
 *
 * Browsers send these custom methods only after a CORS preflight, so the service answers it with the
 * methods and headers allowed for the page's origin, and the Private Network Access header when asked.
 * Node's HTTP parser refuses methods it does not know (MOSIPDISC answers 400 before any handler
 * runs), so the service reads HTTP/1.1 itself over a plain socket, one request per connection
 * (`Connection: close`, as the SBI responses show).
 */
import { createHash, type KeyObject, randomBytes, type webcrypto } from 'node:crypto';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { CompactSign } from 'jose';
import { captureIndividualHash } from '../src/kyc/biometric.ts';

export const SBI_FIRST_PORT = 4501;
export const SBI_LAST_PORT = 4600;

/** `ready`: captures; `busy`: reports Busy; `fail`: answers CAPTURE with SBI error 101; `silent`: never answers CAPTURE. */
export type SbiBehaviour = 'ready' | 'busy' | 'fail' | 'silent';

export interface SbiDeviceOptions {
  /** The device's private key (ES256) and its registered kid. */
  readonly key: webcrypto.CryptoKey | KeyObject;
  readonly kid: string;
  /** The Individual ID of the person the device "sees". */
  readonly individualId: string;
  readonly behaviour?: SbiBehaviour;
  /** A fixed port; otherwise the first free one from 4501 to 4600. */
  readonly port?: number;
  /** The device's clock (tests pass the service's TestClock). */
  readonly now?: () => number;
  /** How long a capture takes, in milliseconds. */
  readonly captureDelayMs?: number;
}

export interface SbiDevice {
  readonly port: number;
  readonly url: string;
  /** Requests received, by SBI method (tests check the real browser path reached the device). */
  readonly calls: { method: string; path: string; origin: string | undefined }[];
  stop(): Promise<void>;
}

const METHODS = 'MOSIPDISC, MOSIPDINFO, CAPTURE, RCAPTURE';
const SPEC_VERSION = '1.0';
const DEVICE_ID = '1';
const ENV = 'Developer';

export async function startSbiDevice(options: SbiDeviceOptions): Promise<SbiDevice> {
  const behaviour = options.behaviour ?? 'ready';
  const now = options.now ?? Date.now;
  const calls: SbiDevice['calls'] = [];
  const sign = (payload: Record<string, unknown>) =>
    new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: 'ES256', kid: options.kid })
      .sign(options.key);
  const status = behaviour === 'busy' ? 'Busy' : 'Ready';
  const digitalId = () =>
    sign({
      serialNo: `DEMO-${options.kid}`,
      make: 'Demo',
      model: 'FACE-DEMO-1',
      type: 'Face',
      deviceSubType: 'Full face',
      deviceProvider: 'Demo capture devices',
      deviceProviderId: 'demo.sbi',
      dateTime: new Date(now()).toISOString(),
    });
  const deviceCode = createHash('sha256').update(options.kid).digest('hex').slice(0, 32);
  let port = 0;
  const base = async () => ({
    deviceId: DEVICE_ID,
    deviceStatus: status,
    certification: 'L1',
    serviceVersion: '1.0.0',
    deviceSubId: ['0'],
    callbackId: `http://127.0.0.1:${port}`,
    deviceCode,
    specVersion: [SPEC_VERSION],
    purpose: 'Auth',
    env: ENV,
  });

  const server = createServer((socket) => {
    readRequest(socket)
      .then((req) => (req ? handle(req, socket) : undefined))
      .catch(() => socket.destroy());
  });
  const open = new Set<Socket>();
  server.on('connection', (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });

  async function handle(req: SbiRequest, res: Socket): Promise<void> {
    const { method } = req;
    calls.push({ method, path: req.url, origin: req.headers.origin });
    if (method === 'OPTIONS') {
      const headers: Record<string, string> = {
        'Access-Control-Allow-Methods': METHODS,
        'Access-Control-Allow-Headers': 'Content-Type',
        'Access-Control-Max-Age': '60',
      };
      // Private Network Access (a public page asking a loopback service): allowed when asked.
      if (req.headers['access-control-request-private-network'] === 'true')
        headers['Access-Control-Allow-Private-Network'] = 'true';
      return send(req, res, 204, undefined, headers);
    }
    const body = req.body;
    if (method === 'MOSIPDISC' && req.url === '/device') {
      const type = (body as { type?: unknown })?.type;
      if (type !== 'Biometric Device' && type !== 'Face') return reply(req, res, 200, []);
      const { env: _env, ...discovered } = await base();
      return reply(req, res, 200, [
        {
          ...discovered,
          digitalId: Buffer.from(JSON.stringify({ type: 'Face' })).toString('base64url'),
          error: { errorCode: '0', errorInfo: 'Success' },
        },
      ]);
    }
    if (method === 'MOSIPDINFO' && req.url === '/info') {
      const info = { ...(await base()), firmware: 'DEMO.FACE.1.0', digitalId: await digitalId() };
      return reply(req, res, 200, [
        { deviceInfo: await sign(info), error: { errorCode: '0', errorInfo: 'Success' } },
      ]);
    }
    if ((method === 'CAPTURE' || method === 'RCAPTURE') && req.url === '/capture') {
      if (behaviour === 'silent') return; // never answers (the socket stays open): the page's timeout must end the wait
      const request = body as Record<string, unknown> | undefined;
      const bio = Array.isArray(request?.bio) ? (request.bio[0] as Record<string, unknown>) : undefined;
      const invalid =
        !request ||
        typeof request.transactionId !== 'string' ||
        !request.transactionId ||
        typeof request.domainUri !== 'string' ||
        request.purpose !== 'Auth' ||
        bio?.deviceId !== DEVICE_ID;
      if (invalid) return reply(req, res, 200, { biometrics: [failure('101', 'Invalid JSON Value')] });
      if (behaviour === 'busy') return reply(req, res, 200, { biometrics: [failure('110', 'Device busy')] });
      if (behaviour === 'fail')
        return reply(req, res, 200, { biometrics: [failure('101', 'Unable to detect a biometric object')] });
      await new Promise((resolve) => setTimeout(resolve, options.captureDelayMs ?? 200));
      const sample = randomBytes(64);
      const block = {
        digitalId: await digitalId(),
        deviceCode,
        deviceServiceVersion: '1.0.0',
        bioType: 'Face',
        bioSubType: null,
        purpose: 'Auth',
        env: ENV,
        domainUri: request.domainUri,
        transactionId: request.transactionId,
        timestamp: new Date(now()).toISOString(),
        requestedScore: bio?.requestedScore ?? 40,
        qualityScore: 90,
        individualIdHash: captureIndividualHash(options.individualId),
        captureHash: createHash('sha256').update(sample).digest('base64url'),
      };
      const data = await sign(block);
      return reply(req, res, 200, {
        biometrics: [
          {
            specVersion: SPEC_VERSION,
            data,
            hash: createHash('sha256').update(data).digest('hex'),
            sessionKey: '',
            thumbprint: '',
            error: { errorCode: '0', errorInfo: 'Success' },
          },
        ],
      });
    }
    reply(req, res, 405, {
      error: { errorCode: '500', errorInfo: `${method} ${req.url} is not an SBI call` },
    });
  }

  port = await listen(server, options.port);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    calls,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const failure = (errorCode: string, errorInfo: string) => ({
  specVersion: SPEC_VERSION,
  data: '',
  hash: '',
  error: { errorCode, errorInfo },
});

interface SbiRequest {
  readonly method: string;
  readonly url: string;
  /** Header names in lower case. */
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

const MAX_REQUEST_BYTES = 64 * 1024;

/** One HTTP/1.1 request: request line, headers, a Content-Length body (JSON or nothing). */
function readRequest(socket: Socket): Promise<SbiRequest | undefined> {
  return new Promise((resolve) => {
    let buffer = Buffer.alloc(0);
    const done = (value: SbiRequest | undefined) => {
      socket.off('data', onData);
      if (!value) socket.destroy();
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length > MAX_REQUEST_BYTES) return done(undefined);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [line = '', ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
      const [method = '', url = ''] = line.split(' ');
      const headers: Record<string, string> = {};
      for (const header of lines) {
        const colon = header.indexOf(':');
        if (colon > 0) headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      if (!Number.isSafeInteger(length) || length < 0) return done(undefined);
      if (buffer.length < end + 4 + length) return;
      const raw = buffer.subarray(end + 4, end + 4 + length).toString('utf8');
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = undefined;
      }
      done({ method, url, headers, body });
    };
    socket.on('data', onData);
    socket.on('error', () => done(undefined));
  });
}

const REASONS: Record<number, string> = { 200: 'OK', 204: 'No Content', 405: 'Method Not Allowed' };

/** Answers and closes; CORS for the page that calls (SBI services answer any page on the machine). */
function send(
  req: SbiRequest,
  socket: Socket,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  const payload = body === undefined ? '' : JSON.stringify(body);
  const headers = {
    'Access-Control-Allow-Origin': req.headers.origin ?? '*',
    Vary: 'Origin',
    'Cache-Control': 'no-store',
    ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    'Content-Length': String(Buffer.byteLength(payload)),
    Connection: 'close',
    ...extra,
  };
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'OK'}\r\n${head}\r\n${payload}`);
}

const reply = (req: SbiRequest, socket: Socket, status: number, body: unknown) =>
  send(req, socket, status, body);

async function listen(server: Server, fixed?: number): Promise<number> {
  const candidates = fixed ? [fixed] : range(SBI_FIRST_PORT, SBI_LAST_PORT);
  for (const port of candidates) {
    const ok = await new Promise<boolean>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        server.off('listening', onListening);
        if (error.code === 'EADDRINUSE' && !fixed) resolve(false);
        else reject(error);
      };
      const onListening = () => {
        server.off('error', onError);
        resolve(true);
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(port, '127.0.0.1');
    });
    if (ok) return (server.address() as AddressInfo).port;
  }
  throw new Error(`no free port from ${SBI_FIRST_PORT} to ${SBI_LAST_PORT} on 127.0.0.1`);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
