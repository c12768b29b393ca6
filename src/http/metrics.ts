import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Prometheus metrics. One registry per app instance, so tests can start several apps. */
export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly latencySeconds: Histogram<'method' | 'route'>;
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
    requests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by method, matched route and status code',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    latencySeconds: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by method and matched route',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
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
