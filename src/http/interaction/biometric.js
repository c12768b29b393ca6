// The login page's biometric step (served as interaction-assets/biometric.js; see
// src/oidc/interaction/biometric-page.ts). It finds a MOSIP SBI capture service on this computer
// (MOSIPDISC /device, MOSIPDINFO /info on 127.0.0.1), asks it for a capture bound to this sign-in
// (CAPTURE /capture with the transaction id and this page's origin as domainUri) and posts the signed
// capture with the form. Shapes: SBI spec (mosip/documentation docs/MOSIP-Device-Service-Specification.md)
// and eSignet's page (mosip/esignet 201264c8 oidc-ui/src/services/sbiService.js:107-139, 206-293).
(() => {
  const root = document.getElementById('biometric');
  const form = document.getElementById('bio-form');
  const status = document.getElementById('bio-status');
  const button = document.getElementById('bio-start');
  const captureField = document.getElementById('bio-capture');
  if (!root || !form || !status || !button || !captureField) return;
  const data = root.dataset;
  const firstPort = Number(data.firstPort);
  const lastPort = Number(data.lastPort);
  const discoveryMs = Number(data.discoveryMs);
  const captureMs = Number(data.captureMs);
  form.hidden = false;

  const TROUBLE = ['noDevice', 'busy', 'failed', 'timedOut'];
  const show = (state) => {
    status.hidden = false;
    status.dataset.state = state;
    status.className = TROUBLE.includes(state) ? 'alert' : 'info';
    status.textContent = data[`t${state[0].toUpperCase()}${state.slice(1)}`] || state;
  };

  class Stop extends Error {
    constructor(state) {
      super(state);
      this.state = state;
    }
  }

  const payloadOf = (jws) => {
    if (typeof jws !== 'string') return undefined;
    const part = jws.includes('.') ? jws.split('.')[1] : jws;
    try {
      const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
      const text = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  };

  const call = async (port, path, method, body, ms) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(ms),
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
  };

  /** Every SBI port at once; a port without a service fails fast (connection refused). */
  const discover = async () => {
    const ports = [];
    for (let port = firstPort; port <= lastPort; port++) ports.push(port);
    const found = await Promise.all(
      ports.map(async (port) => {
        try {
          await call(port, '/device', 'MOSIPDISC', { type: 'Biometric Device' }, discoveryMs);
          const infos = await call(port, '/info', 'MOSIPDINFO', undefined, discoveryMs);
          return (Array.isArray(infos) ? infos : [])
            .map((entry) => payloadOf(entry?.deviceInfo))
            .filter(Boolean)
            .map((info) => ({ port, info, digitalId: payloadOf(info.digitalId) || {} }));
        } catch {
          return [];
        }
      }),
    );
    return found.flat().filter((d) => d.info.purpose === 'Auth');
  };

  const capture = async (device) => {
    const { info, digitalId, port } = device;
    const type = digitalId.type || 'Face';
    const request = {
      env: info.env,
      purpose: 'Auth',
      specVersion: Array.isArray(info.specVersion) ? info.specVersion[0] : info.specVersion,
      timeout: captureMs,
      captureTime: new Date().toISOString(),
      domainUri: window.location.origin,
      transactionId: data.transaction,
      bio: [
        {
          type,
          count: 1,
          bioSubType: type === 'Face' ? null : ['UNKNOWN'],
          requestedScore: 40,
          deviceId: info.deviceId,
          deviceSubId: 0,
          previousHash: '',
        },
      ],
      customOpts: null,
    };
    let answer;
    try {
      answer = await call(port, '/capture', 'CAPTURE', request, captureMs);
    } catch (error) {
      throw new Stop(error && error.name === 'TimeoutError' ? 'timedOut' : 'failed');
    }
    const first = Array.isArray(answer?.biometrics) ? answer.biometrics[0] : undefined;
    const code = first?.error ? String(first.error.errorCode) : '0';
    if (!first || code !== '0' || typeof first.data !== 'string') throw new Stop('failed');
    return first.data;
  };

  let running = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (running) return;
    running = true;
    button.disabled = true;
    try {
      show('searching');
      const devices = await discover();
      const ready = devices.find((d) => d.info.deviceStatus === 'Ready');
      if (!ready) throw new Stop(devices.some((d) => d.info.deviceStatus === 'Busy') ? 'busy' : 'noDevice');
      show('capturing');
      captureField.value = await capture(ready);
      show('submitting');
      form.submit();
    } catch (error) {
      show(error instanceof Stop ? error.state : 'failed');
      running = false;
      button.disabled = false;
      button.focus();
    }
  });
})();
