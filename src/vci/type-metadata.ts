import { createHash } from 'node:crypto';
import type { ResolvedConfiguration } from '../credentials/configurations/types.ts';

/**
 * SD-JWT VC Type Metadata (draft-ietf-oauth-sd-jwt-vc §6 "Type Metadata", claim metadata §9) for a
 * dc+sd-jwt configuration, served at its `vct` URL (§6.3.1: "If the type is a URL using the HTTPS
 * scheme, Type Metadata MAY be retrieved from it"; the OIDF issuer tests fetch it and fail on 404).
 * Built from the same definition as the issuer metadata: the credential's display, each mapped
 * claim with its path, labels and `sd` (§9.4: `always` for the configured disclosable paths, which
 * the issuer always makes disclosable, `never` for the others, which it never does).
 */

export interface TypeMetadata {
  /** The document as served: fixed bytes, so an integrity value stays valid. */
  readonly body: string;
  /** W3C Subresource Integrity value of `body` (`sha256-<base64>`), for `vct#integrity` (§6.5). */
  readonly integrity: string;
}

type Display = { locale?: string; name: string; description?: string };

const preferred = (entries: Display[]): Display | undefined =>
  entries.find((d) => d.locale?.toLowerCase().startsWith('en')) ?? entries[0];

export function typeMetadataDocument(config: ResolvedConfiguration): Record<string, unknown> {
  const def = config.definition;
  const disclosable = new Set(config.profile.selectivelyDisclosable ?? []);
  const main = preferred(def.display);
  return {
    vct: config.profile.vct,
    ...(main ? { name: main.name } : {}),
    ...(main?.description ? { description: main.description } : {}),
    // §6.4: display entries carry a language tag; an entry without one has no place here.
    display: def.display
      .filter((d) => d.locale)
      .map((d) => ({
        locale: d.locale,
        name: d.name,
        ...(d.description ? { description: d.description } : {}),
      })),
    claims: def.claims.map((claim) => ({
      path: [...claim.path],
      ...(claim.display
        ? {
            display: claim.display.filter((d) => d.locale).map((d) => ({ locale: d.locale, label: d.name })),
          }
        : {}),
      ...(claim.mandatory ? { mandatory: true } : {}),
      sd: disclosable.has(claim.path.join('.')) ? 'always' : 'never',
    })),
  };
}

/** The W3C SRI value (https://www.w3.org/TR/SRI/#integrity-metadata) of some bytes, sha256. */
export const sriSha256 = (bytes: string | Uint8Array): string =>
  `sha256-${createHash('sha256').update(bytes).digest('base64')}`;

export function typeMetadata(config: ResolvedConfiguration): TypeMetadata {
  const body = JSON.stringify(typeMetadataDocument(config));
  return { body, integrity: sriSha256(body) };
}

/** The dc+sd-jwt configuration whose `vct` is this URL, if any. */
export function configurationForVct(
  configurations: ResolvedConfiguration[],
  url: string,
): ResolvedConfiguration | undefined {
  return configurations.find((c) => c.format === 'dc+sd-jwt' && c.profile.vct === url);
}
