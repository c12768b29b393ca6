/**
 * Text people read: names and display strings that operators type through the admin API and
 * wallets, login pages or operators' terminals show. It must be plain text:
 * - no control characters (C0 U+0000–U+001F, DEL, C1 U+0080–U+009F): terminal escapes, NULs that
 *   cut strings short in other systems, line breaks where one line is expected;
 * - no bidirectional embeddings, overrides or isolates (U+202A–U+202E, U+2066–U+2069): they reorder
 *   what is displayed ("Trojan Source", CVE-2021-42574), so a name could read as another. The
 *   implicit marks U+200E/U+200F stay allowed: right-to-left text legitimately needs them;
 * - no lone surrogates: not Unicode text at all, and refused or mangled by JSON, CBOR and JWT
 *   libraries downstream.
 * The reason never repeats the text: it may be personal data, and errors reach logs.
 */
export function unsafeTextReason(value: string, options: { lineBreaks?: boolean } = {}): string | undefined {
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (code === 0x0a || code === 0x0d) {
      if (!options.lineBreaks) return 'must be one line (no line breaks)';
    } else if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) {
      return `must not contain control characters (U+${hex(code)})`;
    } else if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) {
      return `must not contain bidirectional override or isolate characters (U+${hex(code)})`;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      return 'must be well-formed Unicode (a lone surrogate)';
    }
  }
  return undefined;
}

const hex = (code: number) => code.toString(16).toUpperCase().padStart(4, '0');

/**
 * Every string (and member name) inside a JSON value whose text is unsafe, as `[JSON pointer,
 * reason]` (RFC 6901 pointers, `~` and `/` escaped; an unsafe member name is reported at its parent).
 */
export function unsafeTextIn(value: unknown, pointer = ''): [string, string][] {
  if (typeof value === 'string') {
    const reason = unsafeTextReason(value);
    return reason ? [[pointer, reason]] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => unsafeTextIn(item, `${pointer}/${i}`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]): [string, string][] => {
      // An unsafe member name is reported at its parent, so the pointer never carries it.
      const keyReason = unsafeTextReason(key);
      if (keyReason) return [[pointer, `a member name ${keyReason}`]];
      return unsafeTextIn(item, `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`);
    });
  }
  return [];
}
