import { readFileSync } from 'node:fs';

/**
 * The login page's biometric script (biometric.js beside this file: plain browser JavaScript, no
 * build step), read once at start and served from our origin under `interaction-assets/`.
 */
export const BIOMETRIC_JS = readFileSync(new URL('./biometric.js', import.meta.url), 'utf8');
