/**
 * What a push changes, for the pre-push check: the files the pushed commits
 * touch (from the refs git gives a pre-push hook on standard input, from
 * pre-commit's PRE_COMMIT_FROM_REF/TO_REF, or, run by hand, against the
 * upstream), and which cluster folders they concern.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../../util/errors.js";
import { git, tryGit } from "../../exec/git.js";

const ZERO = /^0+$/;

/** The top folder of the git worktree around `cwd`. */
export async function gitRoot(cwd: string): Promise<string> {
  const root = await tryGit(cwd, ["rev-parse", "--show-toplevel"]);
  if (!root) throw new UsageError(`${cwd} is not inside a git repository`);
  return root;
}

/** The hooks folder git runs hooks from: core.hooksPath when set, else .git/hooks. */
export async function hooksDir(root: string): Promise<string> {
  const dir = await git(root, ["rev-parse", "--git-path", "hooks"]);
  return path.resolve(root, dir);
}

export interface PushedRef {
  localSha: string;
  remoteSha: string;
}

/** git's pre-push input: `<local ref> <local sha> <remote ref> <remote sha>` per line. */
export function parsePushInput(text: string): PushedRef[] {
  const out: PushedRef[] = [];
  for (const line of text.split("\n")) {
    const [, localSha, , remoteSha] = line.trim().split(/\s+/);
    if (!localSha || !remoteSha) continue;
    out.push({ localSha, remoteSha });
  }
  return out;
}

function lines(text: string | undefined): string[] {
  return (text ?? "").split("\n").filter((l) => l.trim() !== "");
}

/** Files touched by the commits of `sha` that no remote branch has. */
async function unpushedFiles(root: string, sha: string): Promise<string[]> {
  return lines(await git(root, ["log", "--name-only", "--format=", sha, "--not", "--remotes"]));
}

export interface ChangeSource {
  /** What git gave the hook on standard input (undefined: run by hand). */
  pushInput?: string;
  env: Readonly<Record<string, string | undefined>>;
}

/** The files (relative to the repository root) the push changes, and what they were compared with. */
export async function changedFiles(
  root: string,
  source: ChangeSource,
): Promise<{ files: string[]; against: string }> {
  const files = new Set<string>();
  const refs = source.pushInput ? parsePushInput(source.pushInput) : [];
  if (refs.length > 0) {
    for (const { localSha, remoteSha } of refs) {
      if (ZERO.test(localSha)) continue; // a branch being deleted
      const known =
        !ZERO.test(remoteSha) &&
        (await tryGit(root, ["cat-file", "-e", `${remoteSha}^{commit}`])) !== undefined;
      const changed = known
        ? lines(await git(root, ["diff", "--name-only", remoteSha, localSha]))
        : await unpushedFiles(root, localSha);
      for (const f of changed) files.add(f);
    }
    return { files: [...files].sort(), against: "the pushed refs" };
  }
  const from = source.env.PRE_COMMIT_FROM_REF;
  const to = source.env.PRE_COMMIT_TO_REF;
  if (from && to) {
    return {
      files: lines(await git(root, ["diff", "--name-only", from, to])).sort(),
      against: `${from}..${to}`,
    };
  }
  const upstream = await tryGit(root, [
    "rev-parse",
    "--abbrev-ref",
    "--verify",
    "-q",
    "@{upstream}",
  ]);
  if (upstream) {
    return {
      files: lines(await git(root, ["diff", "--name-only", `${upstream}...HEAD`])).sort(),
      against: upstream,
    };
  }
  return { files: (await unpushedFiles(root, "HEAD")).sort(), against: "commits on no remote" };
}

const SKIP_DIRS = new Set([".git", "node_modules", ".tools", "dist"]);

/**
 * Cluster folders: each folder holding a `flux-system` folder (what `flux
 * bootstrap` writes), relative to the root; the root itself when none is found.
 */
export async function detectClusters(root: string, maxDepth = 5): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.isDirectory() && e.name === "flux-system")) {
      found.push(path.relative(root, dir) || ".");
      return;
    }
    if (depth >= maxDepth) return;
    for (const e of entries) {
      if (e.isDirectory() && !SKIP_DIRS.has(e.name)) await walk(path.join(dir, e.name), depth + 1);
    }
  };
  await walk(root, 0);
  return found.length > 0 ? found.sort() : ["."];
}

/** Files that never change what a cluster renders. */
function irrelevant(file: string): boolean {
  return (
    /\.(md|markdown|txt|adoc|rst|png|jpe?g|svg|gif)$/i.test(file) || file.startsWith(".github/")
  );
}

function under(file: string, dir: string): boolean {
  const d = dir === "." ? "" : `${dir.replace(/\/+$/, "")}/`;
  return d === "" || file.startsWith(d);
}

/**
 * The clusters a set of changed files concerns: a cluster whose own folder
 * holds a changed file, and every cluster when a changed file lies in no
 * cluster's folder (shared bases such as apps/ or infrastructure/).
 * Documentation and CI files concern none.
 */
export function affectedClusters(files: readonly string[], clusters: readonly string[]): string[] {
  const hit = new Set<string>();
  for (const file of files) {
    if (irrelevant(file)) continue;
    const owners = clusters.filter((c) => c !== "." && under(file, c));
    if (owners.length === 0) return [...clusters];
    for (const c of owners) hit.add(c);
  }
  return clusters.filter((c) => hit.has(c));
}
