/**
 * Path containment: the one test of whether a path stays inside a root.
 */
import path from "node:path";

/** True when `target` is `root` or lies under it (lexically; resolve links first). */
export function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}
