import type { Context } from 'koa';
import { InvalidRequest, PayloadTooLarge, UnsupportedMediaType } from '../errors.ts';

/**
 * Request body parsing for our own endpoints (never mounted in front of oidc-provider, which reads
 * its own bodies). Each endpoint says which media types it takes; the limit comes from
 * `http.bodyLimitBytes`. Parsed JSON is checked for prototype-polluting keys, and form fields that
 * appear twice are rejected (RFC 6749 §3.1: "Request and response parameters MUST NOT be included
 * more than once").
 */
export async function readRaw(ctx: Context, limitBytes: number): Promise<Buffer> {
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

function checkKeys(value: unknown, depth = 0): void {
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
