import { createJwtVcFormat } from './jwt-vc.ts';
import { createLdpVcFormat } from './ldp-vc.ts';
import { createMdocFormat } from './mdoc.ts';
import { createSdJwtFormat } from './sd-jwt.ts';
import type { CredentialFormat, FormatDeps, FormatFactory, FormatId } from './types.ts';

/** One line per format; the issuance layer looks formats up by OpenID4VCI `format` identifier. */
const FACTORIES: Partial<Record<FormatId, FormatFactory>> = {
  ldp_vc: createLdpVcFormat,
  jwt_vc_json: createJwtVcFormat,
  'dc+sd-jwt': createSdJwtFormat,
  mso_mdoc: createMdocFormat,
};

export type FormatRegistry = ReadonlyMap<FormatId, CredentialFormat>;

export function createFormatRegistry(deps: FormatDeps): FormatRegistry {
  const registry = new Map<FormatId, CredentialFormat>();
  for (const [id, factory] of Object.entries(FACTORIES) as [FormatId, FormatFactory][]) {
    registry.set(id, factory(deps));
  }
  return registry;
}
