/**
 * The original side of a diff: a directory the user gave (`--path-orig`), or a
 * git revision (`--branch-orig`, `--base REV`, `--base auto`, HEAD by
 * default) checked out with `git worktree add --detach` into a temporary
 * directory. The user's worktree, index, stash and branches are never
 * touched; the temporary worktree is removed when the diff ends, also on
 * Ctrl-C.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { UsageError } from "../util/errors.js";
import { onInterrupt } from "../util/interrupt.js";
import { isDirectory } from "../util/fs.js";
import { GIT_CONFIG, git, tryGit } from "../exec/git.js";

export interface OtherSideRequest {
  /** `--path` as given, resolved against cwd. */
  path: string;
  cwd: string;
  pathOrig?: string;
  /** `--branch-orig` or `--base` (a revision, or `auto`). */
  revision?: string;
}

export interface OtherSide {
  /** The `--path` equivalent on the original side. */
  path: string;
  /** What it is, for messages: `HEAD (abc1234)`, `--path-orig DIR`. */
  label: string;
  /** Remove what was created (idempotent). */
  cleanup: () => Promise<void>;
}

/** The merge-base of HEAD with its upstream, else with origin/HEAD. */
async function autoBase(repo: string): Promise<{ commit: string; label: string }> {
  const upstream =
    (await tryGit(repo, ["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}"])) ??
    ((await tryGit(repo, ["rev-parse", "--verify", "--quiet", "origin/HEAD"]))
      ? "origin/HEAD"
      : undefined);
  if (!upstream) {
    throw new UsageError(
      "--base auto: the current branch has no upstream and there is no origin/HEAD; pass --base REV or --path-orig DIR",
    );
  }
  const base = await tryGit(repo, ["merge-base", "HEAD", upstream]);
  if (base) return { commit: base, label: `merge-base of HEAD and ${upstream}` };
  const shallow = (await tryGit(repo, ["rev-parse", "--is-shallow-repository"])) === "true";
  throw new UsageError(
    shallow
      ? `--base auto: the merge-base of HEAD and ${upstream} is not in this shallow clone; fetch more history (git fetch --unshallow, or a larger fetch-depth in CI) or pass --path-orig DIR`
      : `--base auto: HEAD and ${upstream} have no common history; pass --base REV or --path-orig DIR`,
  );
}

export async function openOtherSide(request: OtherSideRequest): Promise<OtherSide> {
  const target = path.resolve(request.cwd, request.path);
  if (request.pathOrig !== undefined) {
    const orig = path.resolve(request.cwd, request.pathOrig);
    if (!(await isDirectory(orig))) {
      throw new UsageError(`--path-orig ${request.pathOrig}: no such directory`);
    }
    return { path: orig, label: `--path-orig ${request.pathOrig}`, cleanup: async () => {} };
  }

  if (!(await isDirectory(target)))
    throw new UsageError(`--path ${request.path}: no such directory`);
  const top = await tryGit(target, ["rev-parse", "--show-toplevel"]);
  if (!top) {
    throw new UsageError(
      `--path ${request.path} is not in a git repository: pass --path-orig DIR to compare with another directory`,
    );
  }
  const repo = await realpath(top);
  const rel = path.relative(repo, await realpath(target));

  const wanted = request.revision ?? "HEAD";
  let commit: string;
  let label: string;
  if (wanted === "auto") {
    ({ commit, label } = await autoBase(repo));
  } else {
    const resolved = await tryGit(repo, ["rev-parse", "--verify", "--quiet", `${wanted}^{commit}`]);
    if (!resolved) {
      throw new UsageError(
        wanted === "HEAD"
          ? "the repository has no commit yet (HEAD): nothing to compare with; pass --path-orig DIR"
          : `unknown revision ${wanted}: not a commit, branch or tag of this repository`,
      );
    }
    commit = resolved;
    label = wanted;
  }

  const parent = await mkdtemp(path.join(os.tmpdir(), "flux-local-diff-"));
  const tree = path.join(parent, "tree");
  let removed = false;
  const removeSync = () => {
    if (removed) return;
    removed = true;
    try {
      execFileSync("git", [...GIT_CONFIG, "worktree", "remove", "--force", tree], {
        cwd: repo,
        stdio: "ignore",
      });
    } catch {
      // not registered (yet): removing the folder and pruning is enough
    }
    rmSync(parent, { recursive: true, force: true });
    try {
      execFileSync("git", [...GIT_CONFIG, "worktree", "prune"], { cwd: repo, stdio: "ignore" });
    } catch {
      // best effort
    }
  };
  const forget = onInterrupt(removeSync);
  const cleanup = () => {
    forget();
    removeSync();
    return Promise.resolve();
  };
  try {
    await git(repo, [...GIT_CONFIG, "worktree", "add", "--detach", "--quiet", tree, commit]);
  } catch (err) {
    await cleanup();
    await rm(parent, { recursive: true, force: true });
    throw err;
  }
  return { path: path.join(tree, rel), label: `${label} (${commit.slice(0, 7)})`, cleanup };
}
