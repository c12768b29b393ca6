import { randomInt } from 'node:crypto';
import { COSEKey, cborDecode, cborEncode, DateOnly } from '@animo-id/mdoc';
import { sha256 } from '../../crypto/hash.ts';
import { publicJwk } from '../../crypto/jwk.ts';
import { poolRandomBytes } from '../../random.ts';
import { hourFloor, signBytes } from './jws.ts';
import type { CredentialFormat, FormatBaseDeps, IssueRequest, IssuerCaSource } from './types.ts';

/**
 * `mso_mdoc` (ISO/IEC 18013-5 §9.1.2, OpenID4VCI 1.0 Appendix A.2): the credential is the
 * base64url-encoded CBOR `IssuerSigned` structure: issuer-signed items per namespace plus
 * `issuerAuth`, a COSE_Sign1 (ES256) over the Mobile Security Object with the document signer
 * certificate in `x5chain`. Values, maps and the CBOR types (tdate, full-date) are encoded by
 * @animo-id/mdoc's encoder; the tag-24 embeddings and the IssuerSigned map around them are written
 * here (embeddedCbor, cborHead). The MSO is assembled here rather than through the library's
 * `Document` builder because the builder cannot carry the MSO `status` member
 * (draft-ietf-oauth-status-list §6.3 / ISO 18013-5 2nd edition) and re-encodes every item on sign.
 * Verified in tests by the library's own `Verifier` with the IACA as trust anchor.
 */

/** The document signer certificate comes from the issuer CA: without one, no mdoc format. */
export interface MdocDeps extends FormatBaseDeps {
  issuerCa: Pick<IssuerCaSource, 'documentSigner'>;
}

const FULL_DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** COSE protected header `{1: -7}` (alg ES256, RFC 9053 §2.1), constant for every credential. */
const PROTECTED_ES256 = cborEncode(new Map([[1, -7]]));
const X5CHAIN = 33;
const ONE_YEAR_MS = 365 * 86_400_000;

/** JSON claim values as ISO 18013-5 data elements: dates become full-date (tag 1004) or tdate (tag 0). */
function elementValue(value: unknown): unknown {
  if (typeof value === 'string') {
    if (FULL_DATE.test(value)) return new DateOnly(value);
    if (DATE_TIME.test(value)) return new Date(value);
    return value;
  }
  if (Array.isArray(value)) return value.map(elementValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, elementValue(v)]));
  }
  return value;
}

/** A CBOR head (RFC 8949 §3.1): major type and argument, in the shortest form (§4.2.1). */
function cborHead(major: number, value: number): Buffer {
  const type = major << 5;
  if (value < 24) return Buffer.from([type | value]);
  if (value < 0x100) return Buffer.from([type | 24, value]);
  if (value < 0x10000) return Buffer.from([type | 25, value >> 8, value & 0xff]);
  const head = Buffer.alloc(5);
  head[0] = type | 26;
  head.writeUInt32BE(value, 1);
  return head;
}

const TAG_24 = cborHead(6, 24);

/**
 * `#6.24(bstr .cbor item)` (RFC 8949 §3.4.5.1) around an item already encoded: the bytes the
 * library's encoder gives for a DataItem. The service builds these itself rather than through
 * DataItem objects: each of those is a key in two of the library's module-level WeakMaps, and with
 * them the elements of every credential in flight survived each young-generation collection
 * (measured: 2.4 MB per scavenge at 32 wallets; 0.9 MB without DataItems; 0.5 MB for jwt_vc_json).
 */
export function embeddedCbor(encoded: Uint8Array): Buffer {
  return Buffer.concat([TAG_24, cborHead(2, encoded.length), encoded]);
}

/** A random permutation: digest IDs must not reveal the order of the elements (ISO 18013-5 §9.1.2.5). */
function shuffledIds(count: number): number[] {
  const ids = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  return ids;
}

export function createMdocFormat(deps: MdocDeps): CredentialFormat {
  function namespacesOf(req: IssueRequest, namespace: string) {
    const entries = Object.entries(req.claims).filter(([, value]) => value !== undefined && value !== null);
    const ids = shuffledIds(entries.length);
    // IssuerSignedItemBytes, each encoded once: listed in nameSpaces and digested for the MSO.
    const items = entries.map(([identifier, value], i) =>
      embeddedCbor(
        cborEncode(
          new Map<string, unknown>([
            ['digestID', ids[i]],
            // §9.1.2.5: at least 16 random bytes per element so digests cannot be brute-forced.
            // From the pool: a randomBytes call per element was 17% of this format's time.
            ['random', poolRandomBytes(32)],
            ['elementIdentifier', identifier],
            ['elementValue', elementValue(value)],
          ]),
        ),
      ),
    );
    // ValueDigests: SHA-256 over the tag-24-wrapped IssuerSignedItemBytes.
    const digests = new Map(items.map((item, i) => [ids[i]!, sha256(item)] as const));
    return { items, digests: new Map([[namespace, digests]]) };
  }

  return {
    id: 'mso_mdoc',
    async issue(req) {
      const { doctype, configurationId } = req.profile;
      if (!doctype) throw new Error(`configuration ${configurationId} has no doctype`);
      if ((req.profile.alg ?? 'ES256') !== 'ES256') throw new Error('mso_mdoc is issued with ES256 only');
      if (!req.holder) throw new Error('mso_mdoc needs a device key (holder binding)');
      const namespace = req.profile.namespace ?? doctype;
      const key = deps.keys.active('credential', 'ES256');
      const certificate = await deps.issuerCa.documentSigner(key);

      const { items, digests } = namespacesOf(req, namespace);
      // SECURITY.md row 36: `signed` is rounded down to the hour and never after validFrom.
      const signed = new Date(Math.min(hourFloor(deps.clock.now()) * 1000, req.validFrom.getTime()));
      const mso: Record<string, unknown> = {
        version: '1.0',
        digestAlgorithm: 'SHA-256',
        valueDigests: digests,
        deviceKeyInfo: { deviceKey: cborDecode(COSEKey.fromJWK(publicJwk(req.holder.jwk)).encode()) },
        docType: doctype,
        validityInfo: {
          signed,
          validFrom: req.validFrom,
          validUntil: req.validUntil ?? new Date(req.validFrom.getTime() + ONE_YEAR_MS),
        },
      };
      const token = req.status?.find((entry) => entry.kind === 'token');
      if (req.status?.some((entry) => entry.kind !== 'token'))
        throw new Error('mso_mdoc takes token status entries only');
      if (token?.kind === 'token') mso['status'] = { status_list: { idx: token.idx, uri: token.uri } };

      // MobileSecurityObjectBytes (ISO 18013-5 §9.1.2.4).
      const payload = embeddedCbor(cborEncode(mso));
      // RFC 9052 §4.4 Sig_structure for COSE_Sign1, no external AAD.
      const toBeSigned = cborEncode(['Signature1', PROTECTED_ES256, new Uint8Array(0), payload]);
      const signature = signBytes(key, Buffer.from(toBeSigned));
      // ISO 18013-5 §9.1.2.4: untagged COSE_Sign1, DS certificate in the unprotected x5chain.
      const issuerAuth = [
        PROTECTED_ES256,
        new Map([[X5CHAIN, certificate]]),
        payload,
        new Uint8Array(signature),
      ];
      // IssuerSigned = { "nameSpaces": { namespace: [+ IssuerSignedItemBytes] }, "issuerAuth": COSE_Sign1 },
      // a map written head by head around the items' bytes (CBOR is concatenative, RFC 8949 §3).
      const issuerSigned = Buffer.concat([
        cborHead(5, 2),
        cborEncode('nameSpaces'),
        cborHead(5, 1),
        cborEncode(namespace),
        cborHead(4, items.length),
        ...items,
        cborEncode('issuerAuth'),
        cborEncode(issuerAuth),
      ]);
      return issuerSigned.toString('base64url');
    },
  };
}
