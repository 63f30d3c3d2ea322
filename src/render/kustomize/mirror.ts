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
import { lstat, mkdir, readdir, symlink } from "node:fs/promises";
import path from "node:path";
import { isInside } from "../../flux/paths.js";
import { KUSTOMIZATION_FILE_NAMES } from "./files.js";
import { exposedInMirror } from "./safety.js";

async function link(target: string, at: string): Promise<void> {
  try {
    await symlink(target, at);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

/** exposedInMirror for a path whose directory entry we have not read. */
async function exposedPath(realRoot: string, from: string): Promise<boolean> {
  let st;
  try {
    st = await lstat(from);
  } catch {
    return false; // nothing there: kustomize reports the missing reference
  }
  const entry = {
    name: path.basename(from),
    isFile: () => st.isFile(),
    isDirectory: () => st.isDirectory(),
    isSymbolicLink: () => st.isSymbolicLink(),
  };
  return exposedInMirror(realRoot, entry, path.dirname(from));
}

/**
 * Mirror `dir` (inside `root`, both real paths) under `scratch` for a build
 * whose kustomization references `references` (paths as written in it,
 * relative to `dir`). Returns the mirrored path of `dir`, with no
 * kustomization file in it. Entries that leave the root or are not files or
 * folders are not exposed (see exposedInMirror).
 */
export async function mirrorTree(
  root: string,
  dir: string,
  scratch: string,
  references: readonly string[],
): Promise<string> {
  const rel = path.relative(root, dir);
  const parts = rel === "" ? [] : rel.split(path.sep);
  const mirrorRoot = path.join(scratch, "root");
  const mirrored = path.join(mirrorRoot, rel);
  await mkdir(mirrored, { recursive: true });
  const entries = await readdir(dir, { withFileTypes: true });
  await Promise.all(
    entries
      .filter(({ name }) => !KUSTOMIZATION_FILE_NAMES.includes(name))
      .map(async (entry) => {
        if (await exposedInMirror(root, entry, dir))
          await symlink(path.join(dir, entry.name), path.join(mirrored, entry.name));
      }),
  );

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
      for (const name of await readdir(ancestor)) {
        const from = path.join(ancestor, name);
        if (isInside(from, dir)) continue; // the chain itself is real
        links.set(path.join(mirrorRoot, path.relative(root, from)), from);
      }
    }
  }
  await Promise.all(
    [...links].map(async ([at, from]) => {
      if (await exposedPath(root, from)) await link(from, at);
    }),
  );
  return mirrored;
}
