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

/**
 * Copies `src[start, end)` into `out` at `at`; returns the position after the copy. Short
 * runs (ids, names) are copied four bytes a step rather than through a view, which costs an
 * object per call.
 */
export function copyBytes(out: Uint8Array, at: number, src: Uint8Array, start: number, end: number): number {
  if (end - start > 48) {
    out.set(src.subarray(start, end), at);
    return at + (end - start);
  }
  let i = start;
  for (; i + 4 <= end; i += 4, at += 4) {
    out[at] = src[i]!;
    out[at + 1] = src[i + 1]!;
    out[at + 2] = src[i + 2]!;
    out[at + 3] = src[i + 3]!;
  }
  for (; i < end; i++) out[at++] = src[i]!;
  return at;
}
