/**
 * flux-local's own package.json: the version `--version` prints. Read at run
 * time, so the version is written in one place only.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The folder holding package.json: the checkout, or node_modules/flux-local
 * when installed. Found from this module's place, however deep it sits
 * (src/util, dist/util, or a chunk of dist/bundle): the nearest folder above
 * it whose package.json is flux-local's.
 */
export const packageRoot = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const parsed = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
        name?: unknown;
      };
      if (parsed.name === "flux-local") return dir;
    } catch {
      // no package.json here (or not one that parses): look further up
    }
    if (path.dirname(dir) === dir) return path.resolve(from, "..", "..");
  }
}

let cached: string | undefined;

export function packageVersion(): string {
  if (cached === undefined) {
    const file = path.join(packageRoot, "package.json");
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { version?: unknown };
    cached = typeof parsed.version === "string" ? parsed.version : "unknown";
  }
  return cached;
}
