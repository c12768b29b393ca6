import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import { AppError, InvalidRequest, PayloadTooLarge, UnsupportedMediaType } from '../errors.ts';

/** The client closed its connection before its request was read (logged and counted as 499). */
export class ClientClosedRequest extends Error {
  override name = 'ClientClosedRequest';
}

/** Bodies read in full by `receiveBody`, by request. */
const received = new WeakMap<IncomingMessage, Buffer>();

/**
 * Reads every request body in full before anything else sees the request (SECURITY.md rows 55 and
 * 60): within `timeoutMs` from the start of the request, and at most `limitBytes`. A slow sender
 * therefore never holds one of the `http.maxInFlight` places (load shedding counts only requests
 * that have their body), and one that takes too long gets 408 `invalid_request` and a closed
 * connection instead of keeping the socket and a handler until the 30 s request timeout.
 *
 * The body is then put back at the front of the request stream (`unshift`, before the stream has
 * signalled its end), so oidc-provider reads it as it arrived, and our endpoints get it from
 * `readRaw` without reading the stream again.
 */
export function receiveBody({ limitBytes, timeoutMs }: { limitBytes: number; timeoutMs: number }) {
  return async function receive(ctx: Context, next: Next): Promise<void> {
    const req = ctx.req;
    const declared = req.headers['content-length'];
    if (req.headers['transfer-encoding'] === undefined && (declared === undefined || declared === '0')) {
      return next();
    }
    if (Number(declared) > limitBytes) throw tooLarge(limitBytes);
    received.set(req, await readWhole(req, limitBytes, timeoutMs));
    return next();
  };
}

const tooLarge = (limitBytes: number) =>
  new PayloadTooLarge(`request body exceeds ${limitBytes} bytes`, { headers: { Connection: 'close' } });

function readWhole(req: IncomingMessage, limitBytes: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error?: Error) => {
      clearTimeout(timer);
      req.off('readable', onReadable);
      req.off('error', onClose);
      req.off('close', onClose);
      if (error) return reject(error);
      const body = Buffer.concat(chunks, size);
      // The stream has ended but not yet said so ('end' is emitted on a later tick, and not at all
      // once data is back in its buffer): later readers get the whole body from the stream.
      if (size > 0) req.unshift(body);
      resolve(body);
    };
    const onReadable = () => {
      for (let chunk = req.read() as Buffer | null; chunk !== null; chunk = req.read() as Buffer | null) {
        size += chunk.length;
        if (size > limitBytes) return finish(tooLarge(limitBytes));
        chunks.push(chunk);
      }
      if (req.complete) finish();
    };
    const onClose = () => {
      if (!req.complete)
        finish(new ClientClosedRequest('the client closed the connection during the request body'));
    };
    const timer = setTimeout(
      () =>
        finish(
          // RFC 9110 §15.5.9 (408), with the OAuth error code clients already understand.
          new AppError(408, 'invalid_request', `the request body did not arrive within ${timeoutMs} ms`, {
            headers: { Connection: 'close' },
          }),
        ),
      timeoutMs,
    );
    req.on('readable', onReadable);
    req.on('error', onClose);
    req.on('close', onClose);
  });
}

/**
 * Request body parsing for our own endpoints (oidc-provider reads its own bodies from the stream
 * `receiveBody` refilled). Reading does not consume the stream, so reading a provider endpoint's
 * body first (the token endpoint's pre-authorized grant) leaves it to the provider as it came.
 * Each endpoint says which media types it takes and its limit (at most `http.bodyLimitBytes`,
 * which `receiveBody` enforces). Parsed JSON is checked for prototype-polluting keys, and form fields that
 * appear twice are rejected (RFC 6749 §3.1: "Request and response parameters MUST NOT be included
 * more than once").
 */
export async function readRaw(ctx: Context, limitBytes: number): Promise<Buffer> {
  const body = received.get(ctx.req);
  if (body) {
    if (body.length > limitBytes) throw new PayloadTooLarge(`request body exceeds ${limitBytes} bytes`);
    return body;
  }
  const declared = Number(ctx.get('Content-Length') || 0);
  if (declared > limitBytes) throw new PayloadTooLarge(`request body exceeds ${limitBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw new PayloadTooLarge(`request body exceeds ${limitBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function requireType(ctx: Context, ...types: string[]): string {
  const type = ctx.request.type;
  if (!types.includes(type)) {
    throw new UnsupportedMediaType(`Content-Type must be ${types.join(' or ')}`);
  }
  return type;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Refuses prototype-polluting keys and runaway nesting in parsed JSON (also for decrypted bodies). */
export function checkKeys(value: unknown, depth = 0): void {
  if (depth > 32) throw new InvalidRequest('JSON body is nested too deeply');
  if (Array.isArray(value)) {
    for (const item of value) checkKeys(item, depth + 1);
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (FORBIDDEN_KEYS.has(key)) throw new InvalidRequest(`JSON body must not contain the key "${key}"`);
      checkKeys(item, depth + 1);
    }
  }
}

/** A JSON object body (`application/json`, or other JSON types the endpoint allows). */
export async function readJson(
  ctx: Context,
  limitBytes: number,
  types: string[] = ['application/json'],
): Promise<Record<string, unknown>> {
  requireType(ctx, ...types);
  const raw = await readRaw(ctx, limitBytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new InvalidRequest('request body is not valid JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidRequest('request body must be a JSON object');
  }
  checkKeys(parsed);
  return parsed as Record<string, unknown>;
}

/** An `application/x-www-form-urlencoded` body as single-valued string fields. */
export async function readForm(ctx: Context, limitBytes: number): Promise<Record<string, string>> {
  requireType(ctx, 'application/x-www-form-urlencoded');
  const raw = await readRaw(ctx, limitBytes);
  const fields: Record<string, string> = Object.create(null);
  for (const [name, value] of new URLSearchParams(raw.toString('utf8'))) {
    if (name in fields) throw new InvalidRequest(`parameter "${name}" is included more than once`);
    fields[name] = value;
  }
  return fields;
}
