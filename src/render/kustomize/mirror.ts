/**
 * A scratch view of a source tree in which one directory's kustomization file
 * is replaced without touching the user's files: the directories on the path
 * from the root to the target are real (in a temp dir); the target holds
 * symlinks to its entries and the kustomization flux-local wrote; and each
 * ancestor holds a symlink to just the entries the kustomization reaches with
 * `..` (`../base`, `../../components/x`). Relative references resolve exactly
 * as in the original tree (what they reach through a symlink resolves in the
 * original tree), and concurrent builds of the same directory never race.
 *
 * A build costs the size of its own folder and references, not of its
 * ancestors' siblings: a flat folder of N Kustomizations costs N, not N².
 * A reference to an ancestor itself (`..`) links every ancestor's entries.
 */
import { mkdirSync, readdirSync, symlinkSync } from "node:fs";
import path from "node:path";
import { isInside } from "../../flux/paths.js";
import { KUSTOMIZATION_FILE_NAMES } from "./files.js";
import { exposedInMirror } from "./safety.js";
import { FileFacts } from "../file-facts.js";

function link(target: string, at: string): void {
  try {
    symlinkSync(target, at);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

/** exposedInMirror for a path whose directory entry we have not read. */
function exposedPath(realRoot: string, from: string, facts: FileFacts): boolean {
  let st;
  try {
    st = facts.lstat(from);
  } catch {
    return false; // nothing there: kustomize reports the missing reference
  }
  const entry = {
    name: path.basename(from),
    isFile: () => st.isFile(),
    isDirectory: () => st.isDirectory(),
    isSymbolicLink: () => st.isSymbolicLink(),
  };
  return exposedInMirror(realRoot, entry, path.dirname(from), facts);
}

/**
 * Mirror `dir` (inside `root`, both real paths) under `scratch` for a build
 * whose kustomization references `references` (paths as written in it,
 * relative to `dir`). Returns the mirrored path of `dir`, with no
 * kustomization file in it. Entries that leave the root or are not files or
 * folders are not exposed (see exposedInMirror).
 */
export function mirrorTree(
  root: string,
  dir: string,
  scratch: string,
  references: readonly string[],
  facts: FileFacts = new FileFacts(),
): string {
  const rel = path.relative(root, dir);
  const parts = rel === "" ? [] : rel.split(path.sep);
  const mirrorRoot = path.join(scratch, "root");
  const mirrored = path.join(mirrorRoot, rel);
  // Synchronous: a few small calls on local folders cost less so than as thread-pool round trips.
  mkdirSync(mirrored, { recursive: true });
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (KUSTOMIZATION_FILE_NAMES.includes(entry.name)) continue;
    if (exposedInMirror(root, entry, dir, facts))
      symlinkSync(path.join(dir, entry.name), path.join(mirrored, entry.name));
  }

  // The ancestors, deepest first: [dir's parent, ..., root].
  const ancestors: string[] = [];
  for (let i = parts.length - 1; i >= 0; i--) ancestors.push(path.join(root, ...parts.slice(0, i)));
  const links = new Map<string, string>();
  let everything = false;
  for (const ref of references) {
    if (path.isAbsolute(ref)) continue;
    const target = path.resolve(dir, ref);
    if (isInside(dir, target) || !isInside(root, target)) continue;
    const ancestor = ancestors.find((a) => isInside(a, target));
    if (!ancestor) continue;
    if (ancestor === target) {
      everything = true;
      break;
    }
    const first = path.relative(ancestor, target).split(path.sep)[0]!;
    const from = path.join(ancestor, first);
    links.set(path.join(mirrorRoot, path.relative(root, from)), from);
  }
  if (everything) {
    for (const ancestor of ancestors) {
      for (const name of readdirSync(ancestor)) {
        const from = path.join(ancestor, name);
        if (isInside(from, dir)) continue; // the chain itself is real
        links.set(path.join(mirrorRoot, path.relative(root, from)), from);
      }
    }
  }
  for (const [at, from] of links) {
    if (exposedPath(root, from, facts)) link(from, at);
  }
  return mirrored;
}
