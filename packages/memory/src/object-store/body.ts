import type { ObjectBody } from "@musicpipe/core";

/** Reads a whole {@link ObjectBody} into one buffer. */
export async function bodyToBuffer(body: ObjectBody): Promise<Buffer> {
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
