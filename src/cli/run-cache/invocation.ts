/**
 * What identifies a command-line run for the run cache, and where its entry
 * lives: the program itself (every compiled file's size and time, the Node
 * version), the arguments, the working folder, the environment variables that
 * can change what a run does, and whether stdout and stderr are terminals.
 * Everything the run reads from disk is checked separately (observations).
 *
 * Node built-ins only: this is on the path of a replayed run, which loads
 * nothing else.
 */
import { existsSync, fstatSync, readdirSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { nodeTty } from "../../util/builtins.js";
import { shortHash } from "../../util/short-hash.js";

/** Changes whenever the entry format or what a key holds changes. */
export const RUN_CACHE_FORMAT = "run-cache-3";
export const RUNS_NAMESPACE = "runs";
/** The entry record, shared with the directory cache (`cache info` and `cache prune` list it). */
export const META = ".flux-local-entry.json";
export const CONTENT = "content";
export const RECORD_FILE = "record.json";
export const OUTPUT_FILE = "output";

/** Commands whose runs are kept: they print (or write) what they render, and nothing else. */
const CACHED_COMMANDS = new Set(["build", "get"]);

/**
 * Environment variables that change what a run does or prints, by name or
 * prefix. Others (a shell's SHLVL, a terminal's session id) are left out of
 * the key, so they do not defeat the cache.
 */
const ENV_NAMES = new Set([
  "PATH",
  "HOME",
  "TMPDIR",
  "TERM",
  "NO_COLOR",
  "FORCE_COLOR",
  "CI",
  "TF_BUILD",
  "BUILD_NUMBER",
  "DIFF",
  "LANG",
  "LC_ALL",
  "TZ",
  "NODE_OPTIONS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "GITHUB_ACTIONS",
  "GITHUB_WORKSPACE",
  "GITHUB_STEP_SUMMARY",
  "GITHUB_OUTPUT",
]);
const ENV_PREFIXES = ["FLUX_LOCAL_", "HELM_", "KUSTOMIZE_", "KUBE", "XDG_", "GO", "DOCKER_"];

export function keyedEnv(env: NodeJS.ProcessEnv): Array<[string, string]> {
  return Object.entries(env)
    .filter(
      (e): e is [string, string] =>
        e[1] !== undefined && (ENV_NAMES.has(e[0]) || ENV_PREFIXES.some((p) => e[0].startsWith(p))),
    )
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The value of a `--flag VALUE` or `--flag=VALUE` option, the last one given. */
export function flagValue(argv: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    if (arg === flag) value = argv[i + 1];
    else if (arg.startsWith(`${flag}=`)) value = arg.slice(flag.length + 1);
  }
  return value;
}

function hasFlag(argv: readonly string[], flag: string): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).includes(flag);
}

/** The cache folder a run uses (as src/artifacts/cache/dir-cache.ts decides it). */
export function cacheRootOf(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): string {
  const flag = flagValue(argv, "--cache-dir");
  if (flag) return path.resolve(cwd, flag);
  if (env.FLUX_LOCAL_CACHE_DIR) return path.resolve(env.FLUX_LOCAL_CACHE_DIR);
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "flux-local");
}

export interface Invocation {
  /** The text hashed into the entry's name (also kept in the entry, to rule out collisions). */
  key: string;
  cacheRoot: string;
  entryDir: string;
  /** `--verify-cache`: hash every file read, not only those whose size or times changed. */
  verifyAll: boolean;
  /** `--verbose`: say on stderr that the run was replayed. */
  verbose: boolean;
}

/**
 * The program's folder: dist/ (or src/, run from source), the folder right
 * below the package's package.json, however deep this module sits in it
 * (dist/cli/run-cache, or a chunk of dist/bundle); the package folder above it.
 */
export const programDir = programFolder(path.dirname(fileURLToPath(import.meta.url)));
export const packageDir = path.dirname(programDir);

function programFolder(from: string): string {
  let dir = from;
  while (!existsSync(path.join(path.dirname(dir), "package.json")) && path.dirname(dir) !== dir)
    dir = path.dirname(dir);
  return dir;
}

/**
 * The folder whose files are the code that runs: the bundle's folder
 * (dist/bundle) when this module is part of it — the bundle holds the
 * whole program but for the packages in node_modules — else dist/ (run
 * unbundled, or from source). The bundle is two files, dist/ several hundred:
 * stat-ing them all cost ~15-20 ms at the start of every run.
 */
const codeDir = ((here: string) =>
  path.basename(here) === "bundle" && path.dirname(here) === programDir ? here : programDir)(
  path.dirname(fileURLToPath(import.meta.url)),
);

/**
 * The program: every file's name, size and time of its code (a rebuild
 * changes the key; V8 code caches, src/cli/code-cache.ts, are not code), the
 * installed dependencies' lock file, the Node version.
 */
function programId(): string[] {
  const id = [process.version, codeDir];
  for (const name of readdirSync(codeDir, { recursive: true, encoding: "utf8" }).sort()) {
    if (!/\.(?:c?js|ts|json)$/.test(name)) continue;
    const st = statSync(path.join(codeDir, name), { bigint: true });
    id.push(`${name}\0${st.size}\0${st.mtimeNs}`);
  }
  for (const name of ["package.json", "node_modules/.package-lock.json"]) {
    try {
      const st = statSync(path.join(packageDir, name), { bigint: true });
      id.push(`${name}\0${st.size}\0${st.mtimeNs}`);
    } catch {
      id.push(`${name}\0missing`);
    }
  }
  return id;
}

/**
 * isatty(fd), without loading node:tty (and with it net and stream) when fd
 * is plainly not a terminal: not a character device, or the null device.
 */
function isTerminal(fd: number): boolean {
  let st;
  try {
    st = fstatSync(fd);
  } catch {
    return false;
  }
  if (!st.isCharacterDevice()) return false;
  try {
    if (statSync(os.devNull).rdev === st.rdev) return false;
  } catch {
    // no null device to compare with: ask
  }
  return nodeTty().isatty(fd);
}

/**
 * The run cache's view of this run, or undefined when it is not cached: a
 * command other than build and get, `--help`, or `--no-cache` (the run cache
 * is the render cache's outermost layer, bypassed with it).
 */
export function invocationOf(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Invocation | undefined {
  if (!CACHED_COMMANDS.has(argv[0] ?? "")) return undefined;
  // --enable-dns: helm templates may look names up, which no observation covers.
  for (const flag of ["--no-cache", "--help", "-h", "--enable-dns"])
    if (hasFlag(argv, flag)) return undefined;
  if (env.FLUX_LOCAL_RUN_CACHE === "0") return undefined;
  const cacheRoot = cacheRootOf(argv, env, cwd);
  const tty = [isTerminal(1), isTerminal(2)];
  const key = JSON.stringify({
    format: RUN_CACHE_FORMAT,
    program: programId(),
    argv,
    cwd,
    env: keyedEnv(env),
    tty,
    columns: tty[0] || tty[1] ? (process.stdout.columns ?? process.stderr.columns ?? 0) : 0,
  });
  // Not SHA-256: the key itself is kept in the entry and compared on use,
  // and a replay that hashes nothing else loads no node:crypto.
  const name = shortHash(key);
  return {
    key,
    cacheRoot,
    entryDir: path.join(cacheRoot, RUNS_NAMESPACE, name.slice(0, 2), name),
    verifyAll: hasFlag(argv, "--verify-cache"),
    verbose: hasFlag(argv, "--verbose") || hasFlag(argv, "-v"),
  };
}

/** What a run read from disk, as it found it. */
export type Observation =
  /** File content: its SHA-256 (or `!CODE` when reading failed), and [size, mtimeNs, ctimeNs, ino] to skip hashing. */
  | { k: "file"; p: string; h: string; q?: [string, string, string, string] }
  /** A folder's entries (sorted names; with their types when the run asked for them). */
  | { k: "dir"; p: string; h: string; types: boolean }
  /** stat (follow) or lstat: the type, and for a file its size and modification time. */
  | { k: "stat"; p: string; follow: boolean; d: string }
  | { k: "realpath"; p: string; r: string }
  | { k: "readlink"; p: string; r: string }
  | { k: "access"; p: string; mode: number; ok: boolean };

/** What a run printed and wrote, in order; bytes are in the entry's output file. */
export type ReplayEvent =
  | { k: "out"; fd: 1 | 2; n: number }
  | { k: "write"; p: string; n: number }
  | { k: "remove"; p: string };

/**
 * The observations of one path, as a record keeps them (src/cli/run-cache/
 * observe.ts packs and checks them): one object per path, its name once. A
 * run looks at most paths two or three ways (content, stat, real path);
 * kept one object per observation, the record was 60% longer to read and
 * its objects cost a replay one more garbage collection.
 */
export interface PathFacts {
  p: string;
  /** File content: the "file" observation's h and q. */
  h?: string;
  q?: [string, string, string, string];
  /** stat (following links) and lstat: a "stat" observation's d. */
  s?: string;
  l?: string;
  /** realpath and readlink: the observation's r. */
  r?: string;
  t?: string;
  /** Folder entries, names only (n) or with their types (e). */
  n?: string;
  e?: string;
  /** Access checks: [mode, allowed]. */
  a?: Array<[number, boolean]>;
}

export interface RunRecord {
  key: string;
  exitCode: number;
  paths: PathFacts[];
  events: ReplayEvent[];
}
