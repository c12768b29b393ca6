import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings for the service process, imported first by main.ts so they hold however the service
 * is started (npm start, the container's `node src/main.ts`, the bench).
 *
 * `--no-allocation-site-pretenuring`: V8 allocates objects from an allocation site straight into the
 * old generation once most of them survived a young-generation collection. Under load that is what
 * happens to everything a request builds: the requests of one event-loop turn wait together for
 * the group commit (store/embedded.ts), so a scavenge meeting them sees them alive. The pretenured
 * objects die young but stay in the old generation until the next full collection, and every young
 * object they point to survives each scavenge through them: measured at 32 wallets (mso_mdoc,
 * `--trace-gc-nvp`), 3-7 MB survived and 2-5 MB were promoted per scavenge, pauses 10-25 ms every
 * ~200 ms, a mark-compact every few seconds; with pretenuring off 2.5 MB survived, 0.3 MB was
 * promoted, pauses 7-8 ms and no mark-compact in 8 s (ldp_vc: 0.5 MB, 2-3 ms). The state is
 * bistable, so either figure can appear in a run without the flag. Setting it after V8 started is
 * safe for this flag: it is read by the collector when it decides, not when code is compiled.
 */
setFlagsFromString('--no-allocation-site-pretenuring');
