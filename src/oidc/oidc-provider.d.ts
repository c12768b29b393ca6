/**
 * Declaration shim for oidc-provider 9.13 (it ships no TypeScript types). Deliberately loose: the
 * provider's models and context are dynamic; src/oidc narrows what it reads at each use.
 */
declare module 'oidc-provider' {
  type Loose = any;
  const Provider: Loose;
  export default Provider;
  export const errors: Record<string, Loose>;
  export const interactionPolicy: Loose;
  /** features.externalSigningSupport (experimental-01): a signing key whose private half stays outside. */
  export class ExternalSigningKey {
    kid: string;
    alg: string;
    keyObject(): import('node:crypto').KeyObject;
    sign(data: Buffer): Promise<Buffer>;
  }
}
