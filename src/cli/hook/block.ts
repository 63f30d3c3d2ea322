/**
 * The block `flux-local hook install` writes into a git `pre-push` hook, between
 * two marker lines, so `hook uninstall` removes exactly what it wrote and
 * nothing else. Pure functions over the hook file's text.
 */
import { quote } from "shell-quote";

export const BEGIN_MARKER = "# >>> flux-local pre-push check >>>";
export const END_MARKER = "# <<< flux-local pre-push check <<<";

/** The hook's command line after `flux-local`: the check and its arguments. */
export function checkArgs(paths: readonly string[], extra: readonly string[]): string[] {
  return ["hook", "pre-push", ...paths.flatMap((p) => ["--path", p]), ...extra];
}

/**
 * The block: finds flux-local (on PATH, else the project's through npx), runs
 * the check with git's arguments and standard input (the refs being pushed),
 * and stops the push when it fails.
 */
export function hookBlock(args: readonly string[]): string {
  const argv = quote([...args]);
  return [
    BEGIN_MARKER,
    "# Written by `flux-local hook install`; `flux-local hook uninstall` removes this block.",
    "if command -v flux-local >/dev/null 2>&1; then",
    `  flux-local ${argv} "$@" || exit $?`,
    "else",
    `  npx --no-install flux-local ${argv} "$@" || exit $?`,
    "fi",
    END_MARKER,
  ].join("\n");
}

export type InstallOutcome =
  | { action: "created" | "updated" | "appended"; content: string }
  | { action: "refused"; reason: string };

function blockRange(content: string): { start: number; end: number } | undefined {
  const start = content.indexOf(BEGIN_MARKER);
  if (start < 0) return undefined;
  const endAt = content.indexOf(END_MARKER, start);
  if (endAt < 0) return undefined;
  let end = endAt + END_MARKER.length;
  if (content[end] === "\n") end += 1;
  return { start, end };
}

export function hasBlock(content: string): boolean {
  return blockRange(content) !== undefined;
}

/**
 * The hook file with our block: a new file; our earlier block replaced in
 * place; or, for a hook that is not ours, refused unless `force`, which adds
 * the block at the end and keeps everything that was there.
 */
export function installBlock(
  existing: string | undefined,
  block: string,
  force: boolean,
): InstallOutcome {
  if (existing === undefined || existing.trim() === "") {
    return { action: "created", content: `#!/bin/sh\n${block}\n` };
  }
  const range = blockRange(existing);
  if (range) {
    return {
      action: "updated",
      content: `${existing.slice(0, range.start)}${block}\n${existing.slice(range.end)}`,
    };
  }
  if (existing.includes(BEGIN_MARKER) || existing.includes(END_MARKER)) {
    return {
      action: "refused",
      reason: "it holds only one of flux-local's marker lines (edited by hand?): fix it first",
    };
  }
  if (!force) {
    return {
      action: "refused",
      reason:
        "a pre-push hook that flux-local did not write is there; --force adds flux-local's check at its end (keeping it), or use `flux-local hook print` for a hook manager",
    };
  }
  const base = existing.endsWith("\n") ? existing : `${existing}\n`;
  return { action: "appended", content: `${base}${block}\n` };
}

/**
 * The hook file without our block. `undefined` content: nothing else is left
 * (a shebang and blank lines), so the file goes.
 */
export function removeBlock(
  content: string,
): { removed: false } | { removed: true; content: string | undefined } {
  const range = blockRange(content);
  if (!range) return { removed: false };
  const rest = content.slice(0, range.start) + content.slice(range.end);
  const meaningful = rest
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#!"));
  return { removed: true, content: meaningful.length === 0 ? undefined : rest };
}
