import type { IssuanceOutcome } from '../issuance.ts';
import type { Nonces } from '../nonces.ts';
import * as draft13 from './draft13.ts';
import type { EncodedResponse } from './encoding.ts';
import type { WireObject } from './schema.ts';
import type { DecodedCredentialRequest } from './types.ts';
import * as v1 from './v1.ts';

export { decodeDeferredCredentialRequest } from './deferred.ts';
export type { EncodedResponse } from './encoding.ts';
export { type CredentialGrant, decodeGrant } from './grant.ts';
export { decodeNotificationRequest } from './notification.ts';
export type * from './types.ts';

/**
 * The OpenID4VCI wire formats: one decoder and one encoder per protocol version. The version of a
 * credential request is decided here, once; a deferred transaction keeps the version of the request
 * that started it (the core stores `Wire.version` as an opaque tag and hands it back on poll).
 */
export type WireVersion = 'v1' | 'draft13';

export interface Wire {
  readonly version: WireVersion;
  decodeCredentialRequest(body: WireObject, context: draft13.Draft13Context): DecodedCredentialRequest;
  /** The credential response (§8.3; draft 13 §7.3). */
  encodeCredentialResponse(outcome: IssuanceOutcome): Promise<EncodedResponse>;
  /** The deferred credential response (§9.2; draft 13 §9.2): the credential response's shape. */
  encodeDeferredResponse(outcome: IssuanceOutcome): Promise<EncodedResponse>;
  /** Errors of proof verification and issuance, under this version's codes. */
  encodeError(error: unknown): Promise<unknown>;
}

/**
 * Draft 13 names the credential by `format` (+ type); drafts 14–15 already use
 * credential_configuration_id, and 1.0 credential_configuration_id or credential_identifier.
 */
export function versionOf(body: WireObject): WireVersion {
  return body.format !== undefined && body.credential_configuration_id === undefined ? 'draft13' : 'v1';
}

export function createWires(nonces: Pick<Nonces, 'issue'>) {
  const draft13Encoder = draft13.createDraft13Encoder(nonces);
  const wires: Record<WireVersion, Wire> = {
    v1: {
      version: 'v1',
      decodeCredentialRequest: (body, context) => v1.decodeCredentialRequest(body, context.batchSize),
      encodeCredentialResponse: v1.encodeCredentialResponse,
      encodeDeferredResponse: v1.encodeCredentialResponse,
      encodeError: v1.encodeError,
    },
    draft13: {
      version: 'draft13',
      decodeCredentialRequest: draft13.decodeCredentialRequest,
      encodeCredentialResponse: draft13Encoder.encodeCredentialResponse,
      encodeDeferredResponse: draft13Encoder.encodeCredentialResponse,
      encodeError: draft13Encoder.encodeError,
    },
  };
  return {
    /** The wire of a credential request, decided from its body. */
    forCredentialRequest: (body: WireObject): Wire => wires[versionOf(body)],
    /** The wire a deferred transaction was started with (1.0 when it carries none). */
    forTag: (tag: string | undefined): Wire => (tag === 'draft13' ? wires.draft13 : wires.v1),
  };
}

export type Wires = ReturnType<typeof createWires>;
