import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/http/metrics.ts';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** prom-client's own Counter and Histogram, declared as src/http/metrics.ts declared them before. */
function promClientMetrics() {
  const registry = new Registry();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, matched route and status code',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latencySeconds = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method and matched route',
    labelNames: ['method', 'route'],
    buckets: BUCKETS,
    registers: [registry],
  });
  return { registry, requests, latencySeconds };
}

/** Only the two request metrics of the service's registry, in the order it lists them. */
async function requestMetricsText(registry: Registry): Promise<string> {
  const texts = await Promise.all(
    ['http_requests_total', 'http_request_duration_seconds'].map((name) =>
      registry.getSingleMetricAsString(name),
    ),
  );
  return texts.join('\n\n');
}

describe('request metrics', () => {
  it('are exposed exactly as prom-client’s Counter and Histogram expose the same observations', async () => {
    const ours = createMetrics({ defaultMetrics: false });
    const theirs = promClientMetrics();
    expect(await requestMetricsText(ours.registry)).toBe(await requestMetricsText(theirs.registry));
    const requests: [string, string, string, number][] = [
      ['POST', '/nonce', '200', 0.0004],
      ['GET', '/health/live', '200', 0.001],
      ['POST', '/nonce', '200', 0.0025],
      ['POST', 'oidc /token', '400', 0.73],
      ['GET', 'unmatched', '404', 0],
      ['GET', 'shed', '503', 2.5],
      ['POST', '/credential', '200', 3.2],
      ['POST', '/nonce', '499', 0.0100001],
      ['GET', 'route "with" \\ odd\ncharacters', '200', 0.05],
      ['POST', '/credential', '200', 1e-9],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [method, route, status, seconds] of requests) {
        ours.requests.inc(method, route, status);
        ours.latencySeconds.observe(method, route, seconds * (round + 1));
        theirs.requests.inc({ method, route, status });
        theirs.latencySeconds.observe({ method, route }, seconds * (round + 1));
      }
    }
    const text = await requestMetricsText(ours.registry);
    expect(text).toBe(await requestMetricsText(theirs.registry));
    expect(text).toContain('http_requests_total{method="POST",route="/nonce",status="200"} 6');
    expect(text).toContain(
      'http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/credential"} 6',
    );

    ours.registry.resetMetrics();
    theirs.registry.resetMetrics();
    expect(await requestMetricsText(ours.registry)).toBe(await requestMetricsText(theirs.registry));
  });
});
