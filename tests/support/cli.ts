/**
 * Running the real `flux-local` command line (from source, through tsx) in a
 * child process, as a user would.
 */
import { execa } from "execa";
import { chmod, writeFile } from "node:fs/promises";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const entry = path.join(projectRoot, "tests", "support", "cli-entry.ts");
/** The published bin's way: a run the run cache holds is replayed (src/cli/entry.ts). */
const cachedEntry = path.join(projectRoot, "tests", "support", "cli-cached-entry.ts");
// Absolute, so it resolves whatever the child's working directory is.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export async function runCli(
  args: string[],
  options: {
    cwd: string;
    env?: Record<string, string>;
    input?: string;
    runCache?: boolean;
    /** More `--import` modules for the child's Node (after tsx). */
    imports?: string[];
  },
): Promise<CliResult> {
  const file = options.runCache ? cachedEntry : entry;
  const imports = (options.imports ?? []).flatMap((m) => ["--import", m]);
  const result = await execa(process.execPath, ["--import", tsx, ...imports, file, ...args], {
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    reject: false,
    ...(options.input !== undefined ? { input: options.input } : {}),
    timeout: 120_000,
    stripFinalNewline: false,
  });
  const out = {
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    exitCode: result.exitCode ?? -1,
  };
  const crash = crashIn(out.stderr);
  if (crash) {
    throw new Error(
      `flux-local ${args.join(" ")} printed ${crash} on stderr (every failure must be a named error):\n${out.stderr}`,
    );
  }
  return out;
}

/**
 * What no input may make the CLI print: "internal error" or a JavaScript stack
 * trace. Every CLI test goes through runCli, so any such output fails it.
 */
export function crashIn(stderr: string): string | undefined {
  if (/internal error/i.test(stderr)) return '"internal error"';
  if (/^\s+at .+(?:\(.*:\d+:\d+\)|:\d+:\d+)$/m.test(stderr)) return "a stack trace";
  if (/reconcile crashed|Maximum call stack/i.test(stderr)) return "a crash";
  return undefined;
}

/**
 * A `flux-local` executable in `binDir` that runs this checkout's CLI from
 * source, for tests of scripts and hooks that call `flux-local` from PATH.
 */
export async function writeCliShim(binDir: string): Promise<string> {
  const file = path.join(binDir, "flux-local");
  await writeFile(
    file,
    `#!/bin/sh\nexec "${process.execPath}" --import "${tsx}" "${entry}" "$@"\n`,
  );
  await chmod(file, 0o755);
  return file;
}
