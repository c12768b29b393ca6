import { Agent, request } from 'undici';

export interface BurstResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Fires `n` identical requests at once (SECURITY.md "burst" harness). Each request gets its own
 * connection (a fresh undici Agent with one connection per origin would serialise them), and all
 * are released together after the connections are open, so the server sees them concurrently.
 */
export async function burst(
  n: number,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | (() => string) } = {},
): Promise<BurstResult[]> {
  const agent = new Agent({ connections: n, pipelining: 0 });
  try {
    const fire = async (): Promise<BurstResult> => {
      const body = typeof options.body === 'function' ? options.body() : options.body;
      const response = await request(url, {
        method: (options.method ?? 'POST') as 'POST',
        headers: options.headers,
        body,
        dispatcher: agent,
      });
      return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
    };
    return await Promise.all(Array.from({ length: n }, fire));
  } finally {
    await agent.close();
  }
}

/** Counts statuses: `{ 200: 1, 400: 19 }`. */
export function statusCounts(results: readonly BurstResult[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}
