import { randomBytes, randomUUID } from "node:crypto";

/** Every item of an async iterable, in order. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** Every byte of a stream of chunks, as one buffer. */
export async function readBytes(iterable: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of iterable) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** A prefix no other test uses, so suites can share a bucket or table. */
export function uniqueNamespace(): string {
  return `conformance-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}

/** `size` random bytes. */
export function bytes(size: number): Buffer {
  return randomBytes(size);
}

/** `data` as a stream of chunks of the given sizes (cycled), copied so the source can change. */
export async function* chunks(data: Uint8Array, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for (let i = 0; offset < data.byteLength; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    yield data.slice(offset, offset + size);
    offset += size;
    // Let other work run, like a network stream would.
    await Promise.resolve();
  }
}

/** Runs `task` on every item with at most `limit` running at once. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Sorts strings by their UTF-8 bytes. */
export function sortUtf8(values: readonly string[]): string[] {
  return [...values].sort((a, b) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
}

/** A random valid `YYYY-MM-DD` date far from real data, so shared tables rarely collide. */
export function randomDate(): string {
  const year = 3000 + Math.floor(Math.random() * 7000);
  const month = 1 + Math.floor(Math.random() * 12);
  const day = 1 + Math.floor(Math.random() * 28);
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** Distinct random dates. */
export function randomDates(count: number): string[] {
  const dates = new Set<string>();
  while (dates.size < count) dates.add(randomDate());
  return [...dates];
}

/** A random hex fingerprint, like a content SHA-256. */
export function randomFingerprint(): string {
  return randomBytes(32).toString("hex");
}
