import { unsafeTextReason } from '../credentials/configurations/text.ts';
import { InvalidRequest } from '../errors.ts';
import { LOCALIZABLE_CLAIMS, STANDARD_CLAIMS } from './claims.ts';
import { normalizeDate } from './kbi.ts';

/**
 * The shapes an identity's claims may take: OIDC Core §5.1 standard claims
 * (https://openid.net/specs/openid-connect-core-1_0.html#StandardClaims), with `name#ar`-style
 * language variants (§5.2) only for the localizable ones. Checked when identities are created or
 * changed, so what reaches consent pages, tokens and credentials is well formed.
 */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const ADDRESS_FIELDS = new Set([
  'formatted',
  'street_address',
  'locality',
  'region',
  'postal_code',
  'country',
]);
const LANGUAGE_TAG = /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/;
const MAX_TEXT = 500;
const MAX_PICTURE = 100_000;

/** A field name comes from the request: unsafe characters in it are shown as `\uXXXX`, never echoed. */
const printable = (field: string) =>
  [...field]
    .map((c) => (unsafeTextReason(c) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c))
    .join('');
export const invalidField = (field: string, reason: string) =>
  new InvalidRequest(`${printable(field)}: ${reason}`);

function checkText(field: string, value: unknown, max = MAX_TEXT, lineBreaks = false): void {
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
    throw invalidField(field, `must be a non-empty string of at most ${max} characters`);
  }
  // Names and addresses are shown on consent pages, in credentials and on operators' screens.
  const unsafe = unsafeTextReason(value, { lineBreaks });
  if (unsafe) throw invalidField(field, unsafe);
}

/** OIDC Core §5.1 claim shapes; `name#ar`-style variants only for the localizable ones. */
export function checkClaims(claims: unknown): Json {
  if (!isObject(claims)) throw invalidField('claims', 'must be an object');
  for (const [key, value] of Object.entries(claims)) {
    const field = `claims.${key}`;
    const [name = '', tag, ...rest] = key.split('#');
    if (!STANDARD_CLAIMS.has(name)) throw invalidField(field, 'is not a supported claim');
    if (tag !== undefined && (rest.length > 0 || !LOCALIZABLE_CLAIMS.has(name) || !LANGUAGE_TAG.test(tag))) {
      throw invalidField(
        field,
        'language variants are allowed only for names and address, with a valid language tag',
      );
    }
    switch (name) {
      case 'email_verified':
      case 'phone_number_verified':
        if (typeof value !== 'boolean') throw invalidField(field, 'must be a boolean');
        break;
      case 'address':
        if (!isObject(value) || Object.keys(value).length === 0)
          throw invalidField(field, 'must be a non-empty object');
        for (const [part, text] of Object.entries(value)) {
          if (!ADDRESS_FIELDS.has(part)) throw invalidField(`${field}.${part}`, 'is not an address field');
          // OIDC Core §5.1.1: `formatted` "MAY contain multiple lines, separated by newlines".
          checkText(`${field}.${part}`, text, MAX_TEXT, part === 'formatted');
        }
        break;
      case 'birthdate':
        if (
          typeof value !== 'string' ||
          !/^\d{4}-\d{2}-\d{2}$/.test(value) ||
          normalizeDate(value) !== value
        ) {
          throw invalidField(field, 'must be a date as YYYY-MM-DD');
        }
        break;
      case 'email':
        if (
          typeof value !== 'string' ||
          value.length > 254 ||
          !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value) ||
          unsafeTextReason(value)
        ) {
          throw invalidField(field, 'must be an e-mail address');
        }
        break;
      case 'phone_number':
        if (typeof value !== 'string' || !/^\+[0-9]{6,15}$/.test(value)) {
          throw invalidField(field, 'must be an E.164 phone number such as +255754123434');
        }
        break;
      case 'picture':
        checkText(field, value, MAX_PICTURE);
        if (!/^(data:image\/(png|jpeg|webp|svg\+xml);base64,|https:\/\/)/.test(value as string)) {
          throw invalidField(field, 'must be a base64 data:image/... URI or an https URL');
        }
        break;
      default:
        checkText(field, value);
    }
  }
  return claims;
}
