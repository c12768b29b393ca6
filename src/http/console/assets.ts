/** The console's stylesheet and its one script, served same-origin (the CSP allows nothing else). */
export const CONSOLE_CSS = `*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Arabic",sans-serif;background:#f3f5f8;color:#1b1f24}
.top{display:flex;flex-wrap:wrap;align-items:center;gap:.75rem 1.25rem;background:#0b2e59;color:#fff;padding:.75rem 1.25rem}
.top a{color:#fff}
.brand{font-weight:700;text-decoration:none;font-size:1.1rem}
.top nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
.top nav a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
.signout{margin-inline-start:auto;display:flex;align-items:center;gap:.5rem;font-size:.9rem}
main{max-width:64rem;margin:1rem auto;background:#fff;padding:1.25rem 1.5rem;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.15)}
@media (max-width:48rem){main{margin:0;border-radius:0}}
h1{font-size:1.4rem;margin:.25rem 0 1rem}
h2{font-size:1.15rem;margin:1.25rem 0 .5rem}
.stack{display:flex;flex-direction:column;gap:.75rem;margin:1rem 0}
.narrow{max-width:24rem}
.field{margin:0;display:flex;flex-direction:column;gap:.25rem}
.check{margin:.25rem 0;display:flex;gap:.5rem;align-items:flex-start}
.check input{width:1.25rem;height:1.25rem;margin-top:.15rem}
label,legend{font-weight:600}
input[type=text],input[type=password],input[type=date],input[type=number],select,textarea{font-size:1rem;padding:.55rem;border:1px solid #6b7480;border-radius:8px;width:100%;background:#fff;color:#1b1f24}
textarea{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem}
[aria-invalid=true]{border-color:#b3261e;border-width:2px}
input:focus,button:focus,a:focus,select:focus,textarea:focus,pre:focus{outline:3px solid #f0b400;outline-offset:2px}
button,.button{display:inline-block;font-size:1rem;padding:.6rem 1rem;border-radius:8px;cursor:pointer;border:1px solid #0b5cad;text-decoration:none;min-height:44px}
.primary{background:#0b5cad;color:#fff}
.secondary{background:#fff;color:#0b5cad}
.danger{background:#a1261b;color:#fff;border-color:#a1261b}
.alert{background:#fdecea;border:1px solid #b3261e;color:#7a1a14;padding:.6rem;border-radius:8px}
.info{background:#e8f1fb;border:1px solid #0b5cad;padding:.6rem;border-radius:8px}
.hint{color:#4a5563;font-size:.9rem;font-weight:400}
fieldset{border:1px solid #c4cad3;border-radius:8px;margin:0}
.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;margin-bottom:1rem}
.filters .field{min-width:10rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{text-align:start;padding:.45rem .5rem;border-bottom:1px solid #dde2e8;vertical-align:top}
code{font-size:.85rem;overflow-wrap:anywhere}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem}
.facts dt{font-weight:600}
.facts dd{margin:0;min-width:0;overflow-wrap:anywhere}
.qr svg{width:min(20rem,100%);height:auto}
.qr{margin:0}
.actions{display:flex;flex-wrap:wrap;gap:1rem}
.action{display:flex;flex-direction:column;gap:.5rem;border:1px solid #dde2e8;border-radius:8px;padding:.75rem}
.state-redeemed,.status-issued,.status-valid{color:#1d6b3a;font-weight:600}
.state-expired,.status-revoked{color:#8c1d18;font-weight:600}
.status-suspended,.state-waiting{color:#7a4a00;font-weight:600}
pre.json{background:#f6f8fa;border:1px solid #dde2e8;border-radius:8px;padding:.75rem;overflow:auto;max-height:28rem;font-size:.8rem}
`;

/** Refreshes an offer's state every few seconds until it is no longer waiting (no script: a link does it). */
export const CONSOLE_JS = `'use strict';
(function () {
  var out = document.getElementById('offer-state');
  if (!out || !window.fetch) return;
  var labels = JSON.parse(out.getAttribute('data-labels'));
  var url = out.getAttribute('data-state-url');
  function tick() {
    fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) return;
        if (out.className !== 'state-' + body.state) {
          out.className = 'state-' + body.state;
          out.textContent = labels[body.state] || body.state;
        }
        if (body.state === 'waiting') setTimeout(tick, 2000);
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  if (out.className === 'state-waiting') setTimeout(tick, 2000);
})();
`;
