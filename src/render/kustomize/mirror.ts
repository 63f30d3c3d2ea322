/**
 * A scratch view of a source tree in which one directory's kustomization file
 * can be replaced without touching the user's files: the directories on the path
 * from the root to the target are real (in a temp dir), everything else is a
 * symlink to the original. Relative references (`../base`) resolve exactly as in
 * the original tree, and concurrent builds of the same directory never race.
 */
import { mkdir, readdir, symlink } from "node:fs/promises";
import path from "node:path";
import { KUSTOMIZATION_FILE_NAMES } from "./files.js";
import { exposedInMirror } from "./safety.js";

/**
 * Mirror `root` under `scratch` so that `dir` (inside root) is a real directory
 * with symlinks to its entries, minus any kustomization file. Returns the
 * mirrored path of `dir`. `root` must be a real path. Entries that leave the
 * root or are not files or folders are not exposed (see exposedInMirror).
 */
export async function mirrorTree(root: string, dir: string, scratch: string): Promise<string> {
  const rel = path.relative(root, dir);
  const parts = rel === "" ? [] : rel.split(path.sep);
  let real = root;
  let mirrored = path.join(scratch, "root");
  await mkdir(mirrored, { recursive: true });
  for (let i = 0; i <= parts.length; i++) {
    const next = parts[i];
    const isTarget = i === parts.length;
    const entries = await readdir(real, { withFileTypes: true });
    const parent = real;
    const target = mirrored;
    await Promise.all(
      entries
        .filter(
          ({ name }) => name !== next && !(isTarget && KUSTOMIZATION_FILE_NAMES.includes(name)),
        )
        .map(async (entry) => {
          if (await exposedInMirror(root, entry, parent))
            await symlink(path.join(parent, entry.name), path.join(target, entry.name));
        }),
    );
    if (next === undefined) break;
    real = path.join(real, next);
    mirrored = path.join(mirrored, next);
    await mkdir(mirrored);
  }
  return mirrored;
}
