import { Counter, collectDefaultMetrics, type Metric, Registry } from 'prom-client';

/** Prometheus metrics. One registry per app instance, so tests can start several apps. */
export interface Metrics {
  readonly registry: Registry;
  readonly requests: RequestCounter;
  readonly latencySeconds: LatencyHistogram;
  readonly storeErrors: Counter<'kind'>;
  /** Requests refused with 503 because `http.maxInFlight` were already being handled. */
  readonly shed: Counter;
  /** Credentials signed and handed out, by credential configuration and format. */
  readonly credentialsIssued: Counter<'configuration' | 'format'>;
  /** Authentication attempts in the login, by factor (otp, pin, …) and result (success, failure, blocked). */
  readonly logins: Counter<'factor' | 'result'>;
  /** One-time codes dispatched to a person, by purpose (login, wallet binding). */
  readonly otpsSent: Counter<'purpose'>;
  /** Credential offers created through the admin API, and pre-authorized codes redeemed. */
  readonly offersCreated: Counter;
  readonly offersRedeemed: Counter;
}

export function createMetrics({ defaultMetrics = true } = {}): Metrics {
  const registry = new Registry();
  if (defaultMetrics) collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: register(
      registry,
      new RequestCounter('http_requests_total', 'HTTP requests by method, matched route and status code'),
    ),
    latencySeconds: register(
      registry,
      new LatencyHistogram(
        'http_request_duration_seconds',
        'HTTP request latency by method and matched route',
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      ),
    ),
    storeErrors: new Counter({
      name: 'store_errors_total',
      help: 'Storage errors by kind (unavailable, other)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    shed: new Counter({
      name: 'http_requests_shed_total',
      help: 'Requests answered 503 at once because http.maxInFlight requests were in progress',
      registers: [registry],
    }),
    credentialsIssued: new Counter({
      name: 'credentials_issued_total',
      help: 'Credentials issued, by credential configuration and format',
      labelNames: ['configuration', 'format'],
      registers: [registry],
    }),
    logins: new Counter({
      name: 'login_attempts_total',
      help: 'Authentication attempts in the login, by factor and result (success, failure, blocked)',
      labelNames: ['factor', 'result'],
      registers: [registry],
    }),
    otpsSent: new Counter({
      name: 'otps_sent_total',
      help: 'One-time codes sent, by purpose (login, wallet_binding)',
      labelNames: ['purpose'],
      registers: [registry],
    }),
    offersCreated: new Counter({
      name: 'credential_offers_created_total',
      help: 'Credential offers created',
      registers: [registry],
    }),
    offersRedeemed: new Counter({
      name: 'credential_offers_redeemed_total',
      help: 'Pre-authorized codes redeemed at the token endpoint',
      registers: [registry],
    }),
  };
}

/*
 * The two metrics every request updates, kept apart from prom-client's Counter and Histogram (issue
 * 16): those validate and hash a labels object on every call (~2% of a POST /nonce's CPU in a
 * profile; these ~0.6%).
 * These take the label values as arguments (the method, the route name: never a client's path),
 * keep one series per combination, and give the registry what prom-client's own would: the same
 * series in the same order, the same text (test/unit/request-metrics.test.ts compares them).
 */

interface Series {
  readonly labels: Record<string, string>;
  value: number;
  /** Series are listed in the order they first appeared, as prom-client lists them. */
  readonly order: number;
}

/** The map under `key` in `maps`, made on first use. */
function nested<V>(maps: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let map = maps.get(key);
  if (!map) {
    map = new Map();
    maps.set(key, map);
  }
  return map;
}

/** `http_requests_total`: requests by method, route and status. */
export class RequestCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  /** By method, route, then status: no key string is built per request. */
  readonly #series = new Map<string, Map<string, Map<string, Series>>>();
  #created = 0;
  /** Writable: the registry renames a counter for OpenMetrics output. */
  name: string;
  readonly help: string;

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  inc(method: string, route: string, status: string): void {
    const byStatus = nested(nested(this.#series, method), route);
    const series = byStatus.get(status);
    if (series) {
      series.value += 1;
    } else {
      byStatus.set(status, { labels: { method, route, status }, value: 1, order: this.#created++ });
    }
  }

  async get() {
    const values = [...this.#series.values()]
      .flatMap((byRoute) => [...byRoute.values()].flatMap((byStatus) => [...byStatus.values()]))
      .sort((a, b) => a.order - b.order)
      .map(({ labels, value }) => ({ labels: { ...labels }, value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.#series.clear();
    this.#created = 0;
  }
}

interface Distribution {
  readonly labels: Record<string, string>;
  /** Observations per bucket (not cumulative); past the last bound they count only in `count`. */
  readonly buckets: number[];
  sum: number;
  count: number;
  readonly order: number;
}

/** `http_request_duration_seconds`: latency by method and route. */
export class LatencyHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** By method, then route. */
  readonly #distributions = new Map<string, Map<string, Distribution>>();
  #created = 0;
  readonly name: string;
  readonly help: string;
  readonly upperBounds: readonly number[];

  constructor(name: string, help: string, upperBounds: readonly number[]) {
    this.name = name;
    this.help = help;
    this.upperBounds = upperBounds;
  }

  observe(method: string, route: string, seconds: number): void {
    const byRoute = nested(this.#distributions, method);
    let distribution = byRoute.get(route);
    if (!distribution) {
      const buckets = this.upperBounds.map(() => 0);
      distribution = { labels: { method, route }, buckets, sum: 0, count: 0, order: this.#created++ };
      byRoute.set(route, distribution);
    }
    // The first bucket whose bound is at least the value (Prometheus buckets are `le`).
    const bucket = this.upperBounds.findIndex((bound) => seconds <= bound);
    if (bucket >= 0) distribution.buckets[bucket]! += 1;
    distribution.sum += seconds;
    distribution.count += 1;
  }

  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    const bucket = `${this.name}_bucket`;
    const distributions = [...this.#distributions.values()]
      .flatMap((byRoute) => [...byRoute.values()])
      .sort((a, b) => a.order - b.order);
    for (const { labels, buckets, sum, count } of distributions) {
      let cumulative = 0;
      for (const [i, le] of this.upperBounds.entries()) {
        cumulative += buckets[i]!;
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: bucket });
      }
      values.push({ labels: { le: '+Inf', ...labels }, value: count, metricName: bucket });
      values.push({ labels: { ...labels }, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.#distributions.clear();
    this.#created = 0;
  }
}

/** Registered as any prom-client metric is: the registry reads `name`, `type`, `get()` and `reset()`. */
function register<T extends RequestCounter | LatencyHistogram>(registry: Registry, metric: T): T {
  registry.registerMetric(metric as unknown as Metric);
  return metric;
}
