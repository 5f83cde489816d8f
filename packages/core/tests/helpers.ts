import { gzipSync } from "node:zlib";
import type { InputFile } from "../src/index.js";

/** An in-memory input file whose bytes arrive in chunks of `chunkSize` (to exercise chunk boundaries). */
export function memoryFile(name: string, content: string | Uint8Array, chunkSize = 64 * 1024): InputFile {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  return {
    name,
    open: () =>
      (function* () {
        for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
      })(),
  };
}

export function gzipFile(name: string, content: string, chunkSize?: number): InputFile {
  return memoryFile(name, gzipSync(Buffer.from(content, "utf8")), chunkSize);
}

export const SONGS =
  "track_id,track_name,track_genre,duration_ms\nt1,Song1,Pop,180000\nt2,Song2,Rock,200000\n";
export const USERS = "user_id,user_name\nu1,User1\nu2,User2\n";
