/**
 * Compares two strings by Unicode code point, the order of their UTF-8 bytes (and of SQL
 * engines' binary collation). JavaScript's default `<` compares UTF-16 code units, which puts
 * characters above U+FFFF before U+E000..U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      const xSurrogate = x <= 0xdfff;
      const ySurrogate = y <= 0xdfff;
      if (xSurrogate !== ySurrogate) return xSurrogate ? 1 : -1;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Sorts a copy of `values` by code point. */
export function sortedByCodePoint<T extends string>(values: Iterable<T>): T[] {
  return [...values].sort(compareCodePoints);
}
