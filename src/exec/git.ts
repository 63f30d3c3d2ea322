/**
 * Running git for our own questions (revisions, changed files, temporary
 * worktrees): no prompt, no optional locks, output trimmed. Commands that
 * could run the repository's hooks (checkouts, worktrees) add GIT_CONFIG.
 */
import { SubprocessError } from "../util/errors.js";
import { run } from "./run.js";

/** `-c` options for a git command that checks out: the repository's hooks never run. */
export const GIT_CONFIG = ["-c", "core.hooksPath=/dev/null", "-c", "advice.detachedHead=false"];
const GIT_ENV = { GIT_TERMINAL_PROMPT: "0", GIT_OPTIONAL_LOCKS: "0" };

/** git's trimmed standard output; a failure is a SubprocessError. */
export async function git(cwd: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run("git", args, { cwd, env: GIT_ENV });
  return stdout.trim();
}

/** As `git`, but a failing command answers undefined. */
export async function tryGit(cwd: string, args: readonly string[]): Promise<string | undefined> {
  try {
    return await git(cwd, args);
  } catch (err) {
    if (err instanceof SubprocessError) return undefined;
    throw err;
  }
}
