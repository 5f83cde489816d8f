const decoder = new TextDecoder();
const COMMA = 44;

/**
 * `true` when the bytes `[start, end)` are white space only by JavaScript's `trim` (what the
 * general reader tests on strings); with `commas`, a record of blank fields (`" , ,"`). Only
 * bytes outside ASCII make it decode the text.
 */
export function isBlankBytes(buf: Uint8Array, start: number, end: number, commas = false): boolean {
  let high = false;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b >= 128) high = true;
    else if (b !== 32 && (b < 9 || b > 13) && !(commas && b === COMMA)) return false;
  }
  if (!high) return true;
  const text = decoder.decode(buf.subarray(start, end));
  return commas ? text.split(",").every((f) => f.trim() === "") : text.trim() === "";
}
