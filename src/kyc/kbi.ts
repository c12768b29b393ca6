import type { Claims } from './claims.ts';

/**
 * Knowledge-based identification (KBI): the person answers questions the registry can check, e.g.
 * full name and date of birth. Answers are compared after normalization, so "  AMINA  hassan",
 * "Amina Hassan" and "amina-hassan" match, as do 12/04/1990 and 1990-04-12. eSignet's mock does
 * the same kind of field-by-field comparison with date reformatting.
 */

/** Case, accents, punctuation, spacing and common Arabic spelling variants do not matter. */
export function normalizeText(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/\u0640/g, '') // Arabic tatweel
    .replace(/[\u0622\u0623\u0625]/g, '\u0627') // alef with madda/hamza → bare alef
    .replace(/\u0649/g, '\u064a') // alef maqsura → ya
    .replace(/\u0629/g, '\u0647') // ta marbuta → ha
    .toLowerCase()
    .replace(/[\p{P}\p{S}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A calendar date as YYYY-MM-DD from ISO (1990-04-12, 1990/04/12) or day-first (12/04/1990, 12.4.1990). */
export function normalizeDate(value: string): string | undefined {
  const trimmed = value.trim();
  const iso = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(trimmed);
  const dayFirst = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$/.exec(trimmed);
  const [year, month, day] = iso
    ? [iso[1], iso[2], iso[3]]
    : dayFirst
      ? [dayFirst[3], dayFirst[2], dayFirst[1]]
      : [];
  if (!year || !month || !day) return undefined;
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day)) return undefined;
  return date.toISOString().slice(0, 10);
}

/**
 * The challenge value: an object of answers, or a string holding JSON or base64url JSON (eSignet
 * sends KBI as base64url-encoded JSON). Undefined when it is none of these.
 */
export function parseKbiAnswers(value: string | Record<string, string>): Record<string, string> | undefined {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    if (value.length > 2000) return undefined;
    for (const candidate of [value, Buffer.from(value, 'base64url').toString('utf8')]) {
      try {
        parsed = JSON.parse(candidate);
        break;
      } catch {
        parsed = undefined;
      }
    }
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const answers: Record<string, string> = {};
  for (const [key, answer] of Object.entries(parsed)) {
    if (typeof answer !== 'string' || answer.length > 500) return undefined;
    answers[key] = answer;
  }
  return answers;
}

/** Every known spelling of a claim: the default value and each language variant (`name#ar`). */
function spellings(claims: Claims, field: string): string[] {
  const values = Object.entries(claims)
    .filter(([key, value]) => (key === field || key.startsWith(`${field}#`)) && typeof value === 'string')
    .map(([, value]) => value as string);
  if (field === 'name') {
    for (const [key, given] of Object.entries(claims)) {
      if (key !== 'given_name' && !key.startsWith('given_name#')) continue;
      const family = claims[key.replace('given_name', 'family_name')];
      if (typeof given === 'string' && typeof family === 'string') values.push(`${given} ${family}`);
    }
  }
  return values;
}

/** True when every configured field is answered and matches the identity. */
export function kbiMatches(
  answers: Record<string, string>,
  claims: Claims,
  fields: readonly string[],
): boolean {
  let ok = fields.length > 0;
  for (const field of fields) {
    const answer = answers[field];
    if (answer === undefined) {
      ok = false;
      continue;
    }
    const known = spellings(claims, field);
    const matched =
      field === 'birthdate'
        ? normalizeDate(answer) !== undefined &&
          known.some((value) => normalizeDate(value) === normalizeDate(answer))
        : normalizeText(answer) !== '' &&
          known.some((value) => normalizeText(value) === normalizeText(answer));
    ok &&= matched;
  }
  return ok;
}
