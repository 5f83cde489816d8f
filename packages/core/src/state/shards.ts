/**
 * Listener shards: a user belongs to shard `murmur3_32(UTF-8 bytes of user_id, seed 0) mod
 * shards`, forever (stored day states depend on it). A user is in exactly one shard, so the
 * distinct listeners of the shards of a (date, genre) add up to the date's.
 */

/** MurmurHash3 (x86, 32-bit, seed 0) of `bytes[start, end)`. */
export function murmur3(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = end - i;
  if (rest > 0) {
    let k = bytes[i]!;
    if (rest > 1) k ^= bytes[i + 1]! << 8;
    if (rest > 2) k ^= bytes[i + 2]! << 16;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= end - start;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The listener shard of a user id given as UTF-8 bytes. */
export function shardOf(userId: Uint8Array, shards: number): number {
  return shards === 1 ? 0 : murmur3(userId) % shards;
}

/** Most listener shards a date may have. */
export const MAX_SHARDS = 4096;
