/**
 * The temporary checkout the cases run in: a copy of the conformance data
 * committed to a fresh git repository (flux-local ran from the root of its own
 * checkout, and the bootstrap GitRepository maps to the git root), plus the
 * per-case directories and worktrees that `setup` asks for. Everything lives
 * under one temp directory removed at the end.
 */
import { chmod, cp, mkdir, mkdtemp, readdir, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { SubprocessError } from "../../src/util/errors.js";

/**
 * Variables through which git (or a program that runs git) finds a repository.
 * They are set inside git hooks, and inherited they would point `git init`,
 * `git add` or our CLI at the project's own repository: the runner removes them.
 */
export const GIT_LOCATION_VARIABLES = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_CEILING_DIRECTORIES",
  "GIT_DISCOVERY_ACROSS_FILESYSTEM",
  "GIT_PREFIX",
];

/** The inherited environment without GIT_LOCATION_VARIABLES, plus `extra`. */
export function isolatedEnv(
  extra: Record<string, string> = {},
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of GIT_LOCATION_VARIABLES) env[name] = undefined;
  return { ...env, ...extra };
}

/** git isolated from the user's configuration; identity and signing explicit. */
const GIT_ENV: Record<string, string> = {
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: os.devNull,
  GIT_TERMINAL_PROMPT: "0",
};
const GIT_CONFIG = [
  "-c",
  "user.name=flux-local conformance",
  "-c",
  "user.email=conformance@flux-local.invalid",
  "-c",
  "commit.gpgsign=false",
  "-c",
  "core.autocrlf=false",
  "-c",
  "init.defaultBranch=main",
];

/** Run git in `cwd` (always a directory under the runner's temp dir). */
export async function git(cwd: string, args: readonly string[]): Promise<string> {
  const argv = ["git", ...GIT_CONFIG, ...args];
  const result = await execa("git", [...GIT_CONFIG, ...args], {
    cwd,
    env: isolatedEnv(GIT_ENV),
    extendEnv: false,
    timeout: 120_000,
    reject: false,
    stdin: "ignore",
  });
  if (result.failed) {
    const stderr = String(result.stderr ?? "").trim();
    throw new SubprocessError(
      `git ${args.join(" ")} failed (${result.exitCode ?? result.shortMessage}): ${stderr}`,
      { argv, exitCode: result.exitCode, stderr, cause: result.cause },
    );
  }
  return String(result.stdout);
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await makeWritable(full);
    else if (entry.isFile()) await chmod(full, 0o644);
  }
}

export class Workspace {
  private counter = 0;

  private constructor(
    /** The temp directory holding everything. */
    readonly root: string,
    /** The committed copy of the data: the working directory of the cases. */
    readonly repo: string,
  ) {}

  /** Copy `dataDir` into a new temp dir and commit it to a new git repository. */
  static async create(dataDir: string): Promise<Workspace> {
    const root = await realpath(await mkdtemp(path.join(os.tmpdir(), "flux-local-conformance-")));
    const repo = path.join(root, "flux-local");
    try {
      await cp(dataDir, repo, { recursive: true, verbatimSymlinks: true });
      // The shared data is read-only; the copy must be writable (setup files, cleanup).
      await makeWritable(repo);
      await git(repo, ["init", "-q"]);
      await git(repo, ["add", "-A"]);
      await git(repo, [
        "commit",
        "-q",
        "--no-gpg-sign",
        "--no-verify",
        "-m",
        "flux-local conformance data",
      ]);
    } catch (err) {
      await rm(root, { recursive: true, force: true });
      throw err;
    }
    return new Workspace(root, repo);
  }

  /** Where per-case directories and worktrees go (beside the checkout, not in it). */
  private nextDir(label: string): string {
    return path.join(this.root, "cases", `${label}-${++this.counter}`);
  }

  /** A new empty directory (absolute, symlinks resolved). */
  async tempDir(label: string): Promise<string> {
    const dir = this.nextDir(label);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** `git worktree add --detach` of HEAD in a new directory. */
  async worktree(label: string): Promise<string> {
    const dir = this.nextDir(label);
    await mkdir(path.dirname(dir), { recursive: true });
    await git(this.repo, ["worktree", "add", "-q", "--detach", dir, "HEAD"]);
    return dir;
  }

  /** Remove a case's directory (and its worktree registration, if it is one). */
  async release(dir: string, isWorktree: boolean): Promise<void> {
    if (isWorktree) {
      try {
        await git(this.repo, ["worktree", "remove", "--force", dir]);
        return;
      } catch {
        // fall through: remove the directory and prune
      }
    }
    await rm(dir, { recursive: true, force: true });
    if (isWorktree) await git(this.repo, ["worktree", "prune"]).catch(() => "");
  }

  async writeFile(file: string, content: Buffer): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }

  async dispose(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
