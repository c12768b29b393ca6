/** Credentials of one hour share their (rounded) dates: a small cache skips the formatting. */
const cache = new Map<number, string>();

/** XSD dateTime in UTC, whole seconds (`2026-11-02T10:00:00Z`): VCDM 2.0 §4.9 wants a timezone. */
export function xsdDateTime(date: Date): string {
  const time = date.getTime();
  const hit = cache.get(time);
  if (hit !== undefined) return hit;
  if (Number.isNaN(time)) throw new TypeError('invalid date');
  const text = date.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (cache.size >= 64) cache.clear();
  cache.set(time, text);
  return text;
}
