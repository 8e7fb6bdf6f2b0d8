// Loads docs/test-vectors.json from the repository (found by walking up from this file).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findVectors(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "docs", "test-vectors.json");
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error("docs/test-vectors.json not found above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;
export const VECTORS: Json = JSON.parse(readFileSync(findVectors(), "utf8"));
