import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import type { ResolvedConfiguration } from '../../../src/credentials/configurations/types.ts';
import { AppError, InvalidNonce, InvalidProof } from '../../../src/errors.ts';
import type { IssuanceOutcome } from '../../../src/vci/issuance.ts';
import * as draft13 from '../../../src/vci/wire/draft13.ts';
import {
  createWires,
  decodeDeferredCredentialRequest,
  decodeGrant,
  decodeNotificationRequest,
  versionOf,
} from '../../../src/vci/wire/index.ts';
import * as v1 from '../../../src/vci/wire/v1.ts';

/**
 * The OpenID4VCI wire decoders and encoders (src/vci/wire/): each rejection is the error the spec
 * clause names, with the description the endpoint has always answered.
 */

const BATCH = 3;

/** The error a decoder throws, as {error, error_description, extra}. */
function refusal(decode: () => unknown): { error: string; error_description: string } {
  try {
    decode();
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { error: error.code, error_description: error.description };
  }
  throw new Error('the decoder accepted the request');
}

describe('version (decided once, at the edge)', () => {
  it('is draft 13 only for format without credential_configuration_id', () => {
    expect(versionOf({ format: 'ldp_vc' })).toBe('draft13');
    expect(versionOf({ format: 'ldp_vc', credential_configuration_id: 'X' })).toBe('v1');
    expect(versionOf({ credential_configuration_id: 'X' })).toBe('v1');
    expect(versionOf({ credential_identifier: 'i' })).toBe('v1');
  });
});

describe('1.0 credential request decoder (§8.2)', () => {
  const decode = (body: Record<string, unknown>) => v1.decodeCredentialRequest(body, BATCH);

  it('decodes a configuration id with jwt proofs, an identifier, and no proof', () => {
    expect(decode({ credential_configuration_id: 'A', proofs: { jwt: ['a.b.c', 'd.e.f'] } })).toEqual({
      request: {
        kind: 'configuration',
        configurationId: 'A',
        proofs: { type: 'jwt', jwts: ['a.b.c', 'd.e.f'] },
      },
      encryption: undefined,
    });
    expect(decode({ credential_identifier: 'i', proofs: { attestation: ['a.b.c'] } }).request).toEqual({
      kind: 'identifier',
      credentialIdentifier: 'i',
      proofs: { type: 'attestation', attestation: 'a.b.c' },
    });
    expect(decode({ credential_configuration_id: 'A' }).request.proofs).toEqual({ type: 'none' });
  });

  it('reads the single draft-13 `proof` of drafts 14–15 as a batch of one', () => {
    const proof = { proof_type: 'jwt', jwt: 'a.b.c' };
    expect(decode({ credential_configuration_id: 'A', proof }).request.proofs).toEqual({
      type: 'jwt',
      jwts: ['a.b.c'],
    });
  });

  it('§8.2: refuses proof with proofs, an identifier with a configuration id, and no name at all', () => {
    expect(refusal(() => decode({ credential_configuration_id: 'A', proof: {}, proofs: {} }))).toEqual({
      error: 'invalid_credential_request',
      error_description: 'proof and proofs must not both be present',
    });
    expect(refusal(() => decode({ credential_identifier: 'i', credential_configuration_id: 'A' }))).toEqual({
      error: 'invalid_credential_request',
      error_description:
        'credential_identifier must not be combined with credential_configuration_id or format',
    });
    for (const id of [undefined, 7, null, ['A'], { $ne: null }]) {
      expect(refusal(() => decode({ credential_configuration_id: id }))).toEqual({
        error: 'invalid_credential_request',
        error_description: 'credential_configuration_id or credential_identifier is required',
      });
    }
  });

  it('§8.2: an identifier that is not a string is unknown_credential_identifier', () => {
    expect(refusal(() => decode({ credential_identifier: 5 }))).toEqual({
      error: 'unknown_credential_identifier',
      error_description: 'the credential_identifier is not known for this access token',
    });
  });

  it('§8.2: proofs holds exactly one proof type whose value is a non-empty array', () => {
    const ask = (proofs: unknown) => refusal(() => decode({ credential_configuration_id: 'A', proofs }));
    for (const proofs of [{}, { jwt: ['a'], attestation: ['b'] }, ['a.b.c'], 'a.b.c']) {
      expect(ask(proofs)).toEqual({
        error: 'invalid_credential_request',
        error_description: 'proofs must hold exactly one proof type',
      });
    }
    expect(ask({ ldp_vp: ['x'] })).toEqual({
      error: 'invalid_proof',
      error_description: 'proof type ldp_vp is not supported',
    });
    for (const list of [[], 'a.b.c', { 0: 'a.b.c' }]) {
      expect(ask({ jwt: list })).toEqual({
        error: 'invalid_credential_request',
        error_description: 'proofs.jwt must be a non-empty array',
      });
    }
    expect(ask({ jwt: ['a', 'b', 'c', 'd'] })).toEqual({
      error: 'invalid_credential_request',
      error_description: 'at most 3 proofs per request',
    });
  });

  it('Appendix F: proofs are compact JWS strings; an attestation proof is exactly one', () => {
    const ask = (proofs: unknown) => refusal(() => decode({ credential_configuration_id: 'A', proofs }));
    expect(ask({ jwt: ['a.b.c', 7] })).toEqual({
      error: 'invalid_proof',
      error_description: 'the proof must be a compact JWS',
    });
    expect(ask({ attestation: [{}] })).toEqual({
      error: 'invalid_proof',
      error_description: 'the key attestation must be a compact JWS',
    });
    expect(ask({ attestation: ['a.b.c', 'd.e.f'] })).toEqual({
      error: 'invalid_proof',
      error_description: 'proofs.attestation must hold exactly one key attestation',
    });
  });

  it('draft 13 §7.2: a single proof is {proof_type: "jwt", jwt}', () => {
    for (const proof of ['a.b.c', { proof_type: 'cwt', jwt: 'a.b.c' }, { proof_type: 'jwt', jwt: 1 }, null]) {
      expect(refusal(() => decode({ credential_configuration_id: 'A', proof }))).toEqual({
        error: 'invalid_proof',
        error_description: 'proof must be {proof_type: "jwt", jwt}',
      });
    }
  });
});

describe('credential_response_encryption (§8.2, §10)', () => {
  const encrypting = (credential_response_encryption: unknown) =>
    v1.decodeCredentialRequest({ credential_configuration_id: 'A', credential_response_encryption }, BATCH)
      .encryption;
  const invalid = (value: unknown) => refusal(() => encrypting(value));

  it('takes alg from the JWK (1.0) or beside it (draft 13); null is no encryption', async () => {
    const jwk = await exportJWK((await generateKeyPair('ECDH-ES', { extractable: true })).publicKey);
    expect(encrypting({ jwk: { ...jwk, alg: 'ECDH-ES' }, enc: 'A256GCM' })).toMatchObject({
      alg: 'ECDH-ES',
      enc: 'A256GCM',
    });
    expect(encrypting({ jwk, alg: 'ECDH-ES', enc: 'A128GCM' })).toMatchObject({ alg: 'ECDH-ES' });
    expect(encrypting(null)).toBeUndefined();
  });

  it('refuses what this issuer cannot encrypt to with invalid_encryption_parameters', () => {
    const jwk = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', alg: 'ECDH-ES' };
    const code = 'invalid_encryption_parameters';
    expect(invalid('yes')).toEqual({
      error: code,
      error_description: 'credential_response_encryption must be an object',
    });
    expect(invalid({ enc: 'A256GCM' })).toEqual({
      error: code,
      error_description: 'credential_response_encryption.jwk is required',
    });
    expect(invalid({ jwk: { ...jwk, alg: 'ECDH-ES+A128KW' }, enc: 'A256GCM' })).toEqual({
      error: code,
      error_description: "the key's alg must be one of ECDH-ES, RSA-OAEP-256",
    });
    expect(invalid({ jwk, enc: 'A128CBC-HS256' })).toEqual({
      error: code,
      error_description: 'enc must be one of A256GCM, A128GCM',
    });
    // zip=DEF is answered uncompressed (no zip_values_supported published); a non-string zip is malformed.
    expect(invalid({ jwk, enc: 'A256GCM', zip: 7 })).toEqual({
      error: code,
      error_description: 'credential_response_encryption.zip must be a string',
    });
  });
});

describe('draft 13 credential request decoder (§7.2)', () => {
  const configurations = [
    { id: 'Age_ldp', format: 'ldp_vc', profile: { types: ['AgeCredential'] } },
    { id: 'Pid_sd', format: 'dc+sd-jwt', profile: { types: [], vct: 'urn:pid' } },
  ] as unknown as ResolvedConfiguration[];
  const registry = {
    list: () => configurations,
    findByFormat: (format: string, match: { types?: string[]; vct?: string }) =>
      configurations.filter(
        (c) =>
          c.format === (format === 'vc+sd-jwt' ? 'dc+sd-jwt' : format) &&
          (match.vct !== undefined
            ? c.profile.vct === match.vct
            : (match.types ?? []).filter((t) => t !== 'VerifiableCredential').join() ===
                c.profile.types.join() && match.types !== undefined),
      ),
  };
  const context = { batchSize: BATCH, registry, grantedConfigurationIds: ['Age_ldp', 'Pid_sd'] };
  const proof = { proof_type: 'jwt', jwt: 'a.b.c' };
  const decode = (body: Record<string, unknown>, ctx = context) => draft13.decodeCredentialRequest(body, ctx);

  it('resolves format + credential_definition.type, and vc+sd-jwt + vct, to the configuration', () => {
    expect(
      decode({
        format: 'ldp_vc',
        credential_definition: { type: ['VerifiableCredential', 'AgeCredential'] },
        proof,
      }).request,
    ).toEqual({
      kind: 'configuration',
      configurationId: 'Age_ldp',
      proofs: { type: 'jwt', jwts: ['a.b.c'] },
    });
    expect(decode({ format: 'vc+sd-jwt', vct: 'urn:pid', proof }).request).toMatchObject({
      configurationId: 'Pid_sd',
    });
  });

  it('§7.3.1: an unknown format is unsupported_credential_format, an unknown type unsupported_credential_type', () => {
    expect(refusal(() => decode({ format: 'mso_mdoc', doctype: 'x', proof }))).toEqual({
      error: 'unsupported_credential_format',
      error_description: 'this credential format is not supported',
    });
    for (const credential_definition of [
      { type: ['VerifiableCredential', 'Nope'] },
      'AgeCredential',
      { type: 'x' },
    ]) {
      expect(refusal(() => decode({ format: 'ldp_vc', credential_definition, proof }))).toEqual({
        error: 'unsupported_credential_type',
        error_description: 'no credential of this type is offered in this format',
      });
    }
  });

  it('§7.3.1: a type the access token does not cover is unsupported_credential_type', () => {
    const narrow = { ...context, grantedConfigurationIds: ['Pid_sd'] };
    expect(
      refusal(() => decode({ format: 'ldp_vc', credential_definition: { type: ['AgeCredential'] } }, narrow)),
    ).toEqual({
      error: 'unsupported_credential_type',
      error_description: 'the access token does not cover this credential',
    });
  });

  it('§7.2: format is a string, and credential_identifier is not a draft-13 parameter', () => {
    expect(refusal(() => decode({ format: 5 }))).toEqual({
      error: 'invalid_credential_request',
      error_description: 'format must be a string',
    });
    expect(refusal(() => decode({ format: 'ldp_vc', credential_identifier: 'i' }))).toEqual({
      error: 'invalid_credential_request',
      error_description:
        'credential_identifier must not be combined with credential_configuration_id or format',
    });
  });
});

describe('deferred credential request decoder (§9.1)', () => {
  it('decodes transaction_id and refuses a missing, non-string or over-long one', () => {
    expect(decodeDeferredCredentialRequest({ transaction_id: 't' })).toEqual({
      transactionId: 't',
      encryption: undefined,
    });
    for (const transaction_id of [undefined, 1, ['t'], 'x'.repeat(201)]) {
      expect(refusal(() => decodeDeferredCredentialRequest({ transaction_id }))).toEqual({
        error: 'invalid_transaction_id',
        error_description: 'transaction_id is invalid',
      });
    }
  });
});

describe('notification request decoder (§11.1)', () => {
  it('decodes the three events with an optional ASCII description', () => {
    expect(decodeNotificationRequest({ notification_id: 'n', event: 'credential_failure' })).toEqual({
      notificationId: 'n',
      event: 'credential_failure',
    });
    expect(
      decodeNotificationRequest({
        notification_id: 'n',
        event: 'credential_deleted',
        event_description: 'ok',
      }),
    ).toMatchObject({ eventDescription: 'ok' });
  });

  it('refuses a bad notification_id, an unknown event and a non-ASCII description', () => {
    const ask = (body: Record<string, unknown>) => refusal(() => decodeNotificationRequest(body));
    const code = 'invalid_notification_request';
    // Lengths are JavaScript's (UTF-16 units), as before: 101 emoji are 202 units.
    for (const notification_id of [undefined, 7, 'x'.repeat(201), '🙂'.repeat(101)]) {
      expect(ask({ notification_id, event: 'credential_accepted' })).toEqual({
        error: code,
        error_description: 'notification_id is required',
      });
    }
    expect(ask({ notification_id: 'n', event: 'credential_stolen' })).toEqual({
      error: code,
      error_description: 'event must be credential_accepted, credential_failure or credential_deleted',
    });
    for (const event_description of ['café', 'a\nb', 3]) {
      expect(ask({ notification_id: 'n', event: 'credential_accepted', event_description })).toEqual({
        error: code,
        error_description: 'event_description must be ASCII text',
      });
    }
  });
});

describe('grant (authorization_details, §6.2)', () => {
  it('maps each credential identifier to its configuration, first detail first, ignoring other details', () => {
    const grant = decodeGrant({
      grantId: 'g',
      accountId: 'a',
      identitySystem: 's',
      credentialConfigurationIds: ['A', 'B'],
      consentedClaims: [],
      expiresAt: 0,
      authorizationDetails: [
        { type: 'openid_credential', credential_configuration_id: 'A', credential_identifiers: ['a-1', 'x'] },
        {
          type: 'openid_credential',
          credential_configuration_id: 'B',
          credential_identifiers: ['x', 'b-1', 3],
        },
        { type: 'openid_credential', credential_configuration_id: 9, credential_identifiers: ['c-1'] },
        { type: 'other' },
      ],
    });
    expect([...grant.credentialIdentifiers]).toEqual([
      ['a-1', 'A'],
      ['x', 'A'],
      ['b-1', 'B'],
    ]);
    expect(grant).not.toHaveProperty('authorizationDetails');
  });
});

describe('encoders', () => {
  const issued = {
    kind: 'issued',
    credentials: ['c1', 'c2'],
    notificationId: 'n',
    configurationId: 'A',
    format: 'ldp_vc',
  } as unknown as IssuanceOutcome;
  const pending = { kind: 'pending', transactionId: 't', intervalSeconds: 5 } as unknown as IssuanceOutcome;
  const wires = createWires({ issue: async () => ({ nonce: 'fresh', expiresInSeconds: 300 }) });

  it('1.0 §8.3: every credential in credentials; pending is 202 in both versions', async () => {
    const wire = wires.forTag('v1');
    expect(await wire.encodeCredentialResponse(issued)).toEqual({
      status: 200,
      body: { credentials: [{ credential: 'c1' }, { credential: 'c2' }], notification_id: 'n' },
    });
    for (const tag of ['v1', 'draft13']) {
      expect(await wires.forTag(tag).encodeDeferredResponse(pending)).toEqual({
        status: 202,
        body: { transaction_id: 't', interval: 5 },
      });
    }
  });

  it('draft 13 §7.3: one credential with a fresh c_nonce', async () => {
    expect(await wires.forTag('draft13').encodeCredentialResponse(issued)).toEqual({
      status: 200,
      body: { credential: 'c1', c_nonce: 'fresh', c_nonce_expires_in: 300, notification_id: 'n' },
    });
  });

  it('draft 13 §7.3.2: nonce and proof errors become invalid_proof with a c_nonce; 1.0 keeps its codes', async () => {
    const draft = wires.forTag('draft13');
    const remapped = (await draft.encodeError(new InvalidNonce('used'))) as AppError;
    expect([remapped.code, remapped.description, remapped.extra]).toEqual([
      'invalid_proof',
      'used',
      { c_nonce: 'fresh', c_nonce_expires_in: 300 },
    ]);
    expect(((await draft.encodeError(new InvalidProof('bad'))) as AppError).extra.c_nonce).toBe('fresh');
    const other = new AppError(400, 'credential_request_denied', 'no');
    expect(await draft.encodeError(other)).toBe(other);
    const nonce = new InvalidNonce('used');
    expect(await wires.forTag('v1').encodeError(nonce)).toBe(nonce);
    expect(wires.forTag(undefined).version).toBe('v1');
  });
});
