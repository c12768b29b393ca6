import { describe, expect, it } from 'vitest';
import { unsafeTextIn, unsafeTextReason } from '../../src/credentials/configurations/text.ts';

describe('plain text for names and display strings', () => {
  it('accepts any script, right-to-left marks, combining marks and emoji', () => {
    for (const text of ['Amina Hassan', 'سارة حداد\u200f', 'Zoë', 'नमस्ते', '👩🏽‍⚕️', 'Ⅻ ﷽']) {
      expect(unsafeTextReason(text), text).toBeUndefined();
    }
  });

  it('refuses controls, bidi overrides and isolates and lone surrogates at the range edges', () => {
    for (const code of [0x00, 0x09, 0x1f, 0x7f, 0x80, 0x9f, 0x202a, 0x202e, 0x2066, 0x2069]) {
      expect(unsafeTextReason(`a${String.fromCharCode(code)}b`), code.toString(16)).toBeDefined();
    }
    for (const code of [0x20, 0x7e, 0xa0, 0x2029, 0x202f, 0x2065, 0x206a]) {
      expect(unsafeTextReason(`a${String.fromCharCode(code)}b`), code.toString(16)).toBeUndefined();
    }
    expect(unsafeTextReason('a\ud800')).toMatch(/surrogate/);
    expect(unsafeTextReason('\udfffa')).toMatch(/surrogate/);
  });

  it('allows line breaks only where asked, and never repeats the text', () => {
    expect(unsafeTextReason('1 Main St\nTown')).toMatch(/one line/);
    expect(unsafeTextReason('1 Main St\r\nTown', { lineBreaks: true })).toBeUndefined();
    expect(unsafeTextReason('secret\u202e')).not.toContain('secret');
  });

  it('names every unsafe string and member name by JSON pointer', () => {
    expect(
      unsafeTextIn({ display: [{ name: 'ok' }, { name: 'x\u0000' }], 'a/b': { 'k\u2066': 'v' } }).map(
        ([pointer]) => pointer,
      ),
    ).toEqual(['/display/1/name', '/a~1b']);
  });
});
