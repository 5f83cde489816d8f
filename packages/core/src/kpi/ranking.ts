/**
 * The ranking rule of the KPI definitions, in one place: most listens first, ties broken by
 * the smaller key (track id or genre name by code point; a catalog index's track numbers are
 * in that order too). Every accumulator ranks its top songs and top genres with {@link TopList}.
 */

/** Orders two keys: negative when `a` comes first. */
export type KeyOrder<K> = (a: K, b: K) => number;

/** Whether (`count`, `key`) ranks before (`otherCount`, `otherKey`). */
export function ranksBefore<K>(
  count: number,
  key: K,
  otherCount: number,
  otherKey: K,
  order: KeyOrder<K>,
): boolean {
  return count > otherCount || (count === otherCount && order(key, otherKey) < 0);
}

/** The `size` best (count, key) pairs offered, best first. */
export class TopList<K> {
  readonly keys: K[] = [];
  readonly counts: number[] = [];
  readonly #size: number;
  readonly #order: KeyOrder<K>;

  constructor(size: number, order: KeyOrder<K>) {
    this.#size = size;
    this.#order = order;
  }

  /** Offers a key with its count (each key at most once). */
  offer(key: K, count: number): void {
    const { keys, counts } = this;
    let i = keys.length;
    if (i === this.#size && !ranksBefore(count, key, counts[i - 1]!, keys[i - 1]!, this.#order)) return;
    while (i > 0 && ranksBefore(count, key, counts[i - 1]!, keys[i - 1]!, this.#order)) i--;
    keys.splice(i, 0, key);
    counts.splice(i, 0, count);
    if (keys.length > this.#size) {
      keys.pop();
      counts.pop();
    }
  }

  /** Empties the list. */
  clear(): void {
    this.keys.length = 0;
    this.counts.length = 0;
  }
}

/** Numbers ascending: the key order of catalog indexes. */
export const byNumber: KeyOrder<number> = (a, b) => a - b;
