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
 *
 * Used when a kustomize process builds (no Go, FLUX_LOCAL_KUSTOMIZE_WORKER=0, a
 * kustomization with its own openapi schema, a protocol-1 worker): the
 * worker instead takes the kustomization in its request and shows the same
 * tree without writing one (worker/overlay.go, reachedEntries below).
 */
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { isInside } from "../../flux/paths.js";
import { KUSTOMIZATION_FILE_NAMES } from "./files.js";
import { exposedInMirror } from "./safety.js";
import { FileFacts } from "../file-facts.js";
import {
  KustomizeFailure,
  type KustomizeBuildOptions,
  type KustomizeOutput,
  type KustomizeRunner,
} from "./runner.js";

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
 * The entries of `dir`'s ancestors (up to `root`, both real paths) that a
 * kustomization in `dir` reaches with `references` (paths as written in it,
 * relative to `dir`, or absolute): `../base` from apps/app reaches apps/base,
 * `../../components/x` reaches components. "all" when a reference is an
 * ancestor itself (`..`). What the build mirror links, and what the worker's
 * view of the tree shows (worker/overlay.go).
 */
export function reachedEntries(
  root: string,
  dir: string,
  references: readonly string[],
): Set<string> | "all" {
  const rel = path.relative(root, dir);
  const parts = rel === "" ? [] : rel.split(path.sep);
  // The ancestors, deepest first: [dir's parent, ..., root].
  const ancestors: string[] = [];
  for (let i = parts.length - 1; i >= 0; i--) ancestors.push(path.join(root, ...parts.slice(0, i)));
  const reached = new Set<string>();
  for (const ref of references) {
    const target = path.resolve(dir, ref);
    if (isInside(dir, target) || !isInside(root, target)) continue;
    const ancestor = ancestors.find((a) => isInside(a, target));
    if (!ancestor) continue;
    if (ancestor === target) return "all";
    reached.add(path.join(ancestor, path.relative(ancestor, target).split(path.sep)[0]!));
  }
  return reached;
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
  const mirrorRoot = path.join(scratch, "root");
  const mirrored = path.join(mirrorRoot, rel);
  // Synchronous: a few small calls on local folders cost less so than as thread-pool round trips.
  mkdirSync(mirrored, { recursive: true });
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (KUSTOMIZATION_FILE_NAMES.includes(entry.name)) continue;
    if (exposedInMirror(root, entry, dir, facts))
      symlinkSync(path.join(dir, entry.name), path.join(mirrored, entry.name));
  }

  const reached = reachedEntries(root, dir, references);
  const links = new Set<string>();
  if (reached === "all") {
    for (let ancestor = dir; ancestor !== root;) {
      ancestor = path.dirname(ancestor);
      for (const name of readdirSync(ancestor)) {
        const from = path.join(ancestor, name);
        if (!isInside(from, dir)) links.add(from); // the chain itself is real
      }
    }
  } else {
    for (const from of reached) links.add(from);
  }
  for (const from of links) {
    if (exposedPath(root, from, facts))
      link(from, path.join(mirrorRoot, path.relative(root, from)));
  }
  return mirrored;
}

export interface MirrorBuild {
  /** The source root and the folder built (real paths, the folder inside the root). */
  root: string;
  dir: string;
  /** The kustomization file's text, in place of the folder's own. */
  kustomization: string;
  /** What the kustomization references (paths as written), for reachedEntries. */
  references: readonly string[];
  /** Parent folder for the scratch folder. */
  scratchDir: string;
  facts?: FileFacts;
}

/**
 * A build by a runner that reads only the disk (a kustomize process): in a
 * scratch mirror of the folder holding the kustomization, removed afterwards.
 * kustomize's error text names the real paths, as a build in place would.
 */
export async function buildInMirror(
  runner: KustomizeRunner,
  build: MirrorBuild,
  options: KustomizeBuildOptions,
): Promise<KustomizeOutput> {
  const scratch = mkdtempSync(path.join(build.scratchDir, "ks-"));
  try {
    const mirrored = mirrorTree(build.root, build.dir, scratch, build.references, build.facts);
    writeFileSync(path.join(mirrored, "kustomization.yaml"), build.kustomization);
    try {
      return await runner.buildOutput(mirrored, options);
    } catch (err) {
      if (err instanceof KustomizeFailure) {
        const message = err.message.split(path.join(scratch, "root")).join(build.root);
        throw new KustomizeFailure(message, { cause: err });
      }
      throw err;
    }
  } finally {
    // Asynchronous: removing is the slow part on a journalled disk; other builds go on meanwhile.
    await rm(scratch, { recursive: true, force: true });
  }
}
