/**
 * flux-local's own package.json: the version `--version` prints. Read at run
 * time (src/ and dist/ both sit one folder below the package root), so the
 * version is written in one place only.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The folder holding package.json: the checkout, or node_modules/flux-local when installed. */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

let cached: string | undefined;

export function packageVersion(): string {
  if (cached === undefined) {
    const file = path.join(packageRoot, "package.json");
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { version?: unknown };
    cached = typeof parsed.version === "string" ? parsed.version : "unknown";
  }
  return cached;
}
