/**
 * Building the artifacts of an ArtifactGenerator (source-watcher,
 * `source.extensions.fluxcd.io/v1beta1`) as directories, with source-watcher's
 * copy semantics (its internal/builder), which are `cp`-like:
 *
 * - `from: "@alias/path"` without glob characters (`*?[]`): a file is copied to
 *   `to` (into it when `to` ends with `/` or is an existing directory); a
 *   directory is copied as a sub-directory of `to` (`cp -r dir dest/`).
 * - with glob characters the pattern is matched as Go's `fs.Glob` does, one
 *   path segment per pattern segment (`**` is `*`: it does not cross `/`);
 *   each match keeps its path under `to`, except that a pattern ending in
 *   `/**` strips that directory prefix (`cp -r dir/** dest/`); a directory
 *   that matches is copied whole. No match is an error, and so is a match
 *   list that `exclude` empties.
 * - `exclude` globs (doublestar: `**` crosses directories) are matched against
 *   the path relative to the source root (for glob matches), or to the copied
 *   directory (inside a directory copy); a pattern without `/` also matches a
 *   file name at any depth.
 * - `strategy`: `Overwrite` (default: later copies replace files); `Merge`: a
 *   YAML file copied onto an existing file is deep-merged into it (maps merge,
 *   lists and scalars are replaced, as Helm merges values files; every
 *   document of each file is merged first); `Extract`: `.tar.gz`/`.tgz` files
 *   are unpacked into `to` (with doublestar globbing; other files are skipped,
 *   a directory is an error).
 *
 * A source's `.git` folder is never part of its artifact. The artifact's
 * revision is `latest@sha256:<digest>` of its content (source-watcher hashes
 * its tarball, so the digest differs in value, not in meaning).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import {
  chmod,
  copyFile,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import picomatch from "picomatch";
import { parseAllDocuments } from "yaml";
import type { CopyOperation } from "../flux/schema.js";
import { toYaml } from "../util/yaml.js";
import { FluxLocalError } from "../util/errors.js";
import { extractTarGz } from "./archive.js";
import { isDirectory } from "../util/fs.js";

export class GeneratorError extends FluxLocalError {}

export type CopyStrategy = NonNullable<CopyOperation["strategy"]>;

/**
 * Build one artifact into `staging` (an existing directory) from the sources
 * (alias -> root). `origins` receives, for each file copied, its path in the
 * artifact (relative, `/`-separated) and the source file it came from (a file
 * merged onto another keeps the first one's; extracted files have none).
 */
export async function applyCopyOperations(
  operations: readonly CopyOperation[],
  sources: ReadonlyMap<string, string>,
  staging: string,
  origins: Map<string, string> = new Map(),
): Promise<void> {
  for (const op of operations) {
    try {
      await applyCopyOperation(op, sources, staging, origins);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new GeneratorError(`copy from '${op.from}' to '${op.to}': ${message}`, { cause: err });
    }
  }
}

const GLOB_CHARS = /[*?[\]]/;

function parseFrom(from: string): { alias: string; pattern: string } {
  if (!from.startsWith("@")) throw new GeneratorError("source must start with '@'");
  const slash = from.indexOf("/");
  if (slash < 0) throw new GeneratorError("source format must be '@alias/pattern'");
  return { alias: from.slice(1, slash), pattern: from.slice(slash + 1) };
}

function parseTo(to: string): string {
  if (!to.startsWith("@artifact/")) {
    throw new GeneratorError("destination must start with '@artifact/'");
  }
  return to.slice("@artifact/".length);
}

/** A path inside `root` (relative, `/`-separated), or an error if it leaves it. */
function inside(root: string, rel: string, what: string): string {
  const full = path.resolve(root, rel);
  const back = path.relative(root, full);
  if (back.startsWith("..") || path.isAbsolute(back)) {
    throw new GeneratorError(
      `${what} '${rel}' is outside the ${what === "source" ? "source" : "artifact"}`,
    );
  }
  return full;
}

async function applyCopyOperation(
  op: CopyOperation,
  sources: ReadonlyMap<string, string>,
  staging: string,
  origins: Map<string, string>,
): Promise<void> {
  const { alias, pattern } = parseFrom(op.from);
  const dest = parseTo(op.to);
  const root = sources.get(alias);
  if (root === undefined) throw new GeneratorError(`source alias '${alias}' not found`);
  const exclude = op.exclude ?? [];
  const copier = new Copier(root, staging, exclude, op.strategy ?? "Overwrite", origins);
  const destEndsWithSlash = op.to.endsWith("/");

  if (!GLOB_CHARS.test(pattern)) {
    await copier.single(path.posix.normalize(pattern), dest, destEndsWithSlash);
    return;
  }
  const matches =
    op.strategy === "Extract" ? await doublestarGlob(root, pattern) : await goGlob(root, pattern);
  if (matches.length === 0) {
    throw new GeneratorError(`no files match pattern '${pattern}' in source '${alias}'`);
  }
  const kept = matches.filter((m) => m !== "." && m !== ".." && !excluded(m, exclude));
  if (kept.length === 0) {
    throw new GeneratorError(
      `all files matching pattern '${pattern}' in source '${alias}' were excluded`,
    );
  }
  for (const match of kept) {
    if (op.strategy === "Extract") {
      if (isTarball(match)) await copier.extract(match, dest);
      continue;
    }
    await copier.copy(match, globDestination(pattern, match, dest));
  }
}

/** Where a glob match goes: `dir/**` strips `dir/`, other patterns keep the whole match path. */
function globDestination(pattern: string, match: string, dest: string): string {
  if (pattern.endsWith("/**")) {
    const prefix = pattern.slice(0, -3);
    if (match.startsWith(`${prefix}/`))
      return path.posix.join(dest, match.slice(prefix.length + 1));
  }
  return path.posix.join(dest, match);
}

function isTarball(file: string): boolean {
  const lower = file.toLowerCase();
  return lower.endsWith(".tar.gz") || lower.endsWith(".tgz");
}

const doublestarOptions = { dot: true, nonegate: true, noextglob: true } as const;

/** source-watcher's exclusion: the path, or the base name for a pattern without `/`. */
export function excluded(rel: string, patterns: readonly string[]): boolean {
  const base = path.posix.basename(rel);
  return patterns.some(
    (p) =>
      picomatch.isMatch(rel, p, doublestarOptions) ||
      (!p.includes("/") && picomatch.isMatch(base, p, doublestarOptions)),
  );
}

/** Go's path.Match for one path segment, as a regular expression. */
export function segmentRegExp(pattern: string): RegExp {
  let out = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "\\" && i + 1 < pattern.length) out += escapeRe(pattern.charAt(++i));
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) throw new GeneratorError(`invalid glob pattern '${pattern}'`);
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith("^");
      if (negate) body = body.slice(1);
      out += `[${negate ? "^" : ""}${body.replace(/[\]\\]/g, (m) => `\\${m}`)}]`;
      i = end;
    } else out += escapeRe(c);
  }
  return new RegExp(`${out}$`, "s");
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Go's fs.Glob over `root`: sorted matches, relative `/`-separated paths. */
export async function goGlob(root: string, pattern: string): Promise<string[]> {
  if (!GLOB_CHARS.test(pattern)) {
    return (await exists(path.join(root, pattern))) ? [pattern] : [];
  }
  const slash = pattern.lastIndexOf("/");
  const dirPart = slash < 0 ? "." : pattern.slice(0, slash) || "/";
  const filePart = slash < 0 ? pattern : pattern.slice(slash + 1);
  const dirs = GLOB_CHARS.test(dirPart) ? await goGlob(root, dirPart) : [dirPart];
  const re = segmentRegExp(filePart);
  const out: string[] = [];
  for (const dir of dirs) {
    const full = path.join(root, dir);
    if (!(await isDirectory(full))) continue;
    const names = (await readdir(full)).sort();
    for (const name of names) {
      if (dir === "." && name === ".git") continue;
      if (re.test(name)) out.push(dir === "." ? name : `${dir}/${name}`);
    }
  }
  return out;
}

/** Every file and directory under `root` matching a doublestar pattern. */
async function doublestarGlob(root: string, pattern: string): Promise<string[]> {
  const isMatch = picomatch(pattern, doublestarOptions);
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = (await readdir(path.join(root, rel), { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const e of entries) {
      if (!rel && e.name === ".git") continue;
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (isMatch(child)) out.push(child);
      if (e.isDirectory()) await walk(child);
    }
  };
  await walk("");
  return out;
}

/** The copies of one operation, confined to the source root and the artifact. */
class Copier {
  constructor(
    private readonly root: string,
    private readonly staging: string,
    private readonly exclude: readonly string[],
    private readonly strategy: CopyStrategy,
    private readonly origins: Map<string, string>,
  ) {}

  /** The real path of a source entry, refusing symlinks that leave the source. */
  private async source(rel: string): Promise<string> {
    const full = inside(this.root, rel, "source");
    let real: string;
    try {
      real = await realpath(full);
    } catch {
      throw new GeneratorError(`source '${rel}' does not exist`);
    }
    const rootReal = await realpath(this.root);
    const back = path.relative(rootReal, real);
    if (back.startsWith("..") || path.isAbsolute(back)) {
      throw new GeneratorError(`source '${rel}' is a link that leaves the source`);
    }
    return real;
  }

  async single(rel: string, dest: string, destEndsWithSlash: boolean): Promise<void> {
    const src = await this.source(rel);
    if (await isDirectory(src)) {
      if (this.strategy === "Extract") {
        throw new GeneratorError(`extract strategy is not supported for directories, got '${rel}'`);
      }
      await this.copy(rel, path.posix.join(dest, path.posix.basename(rel)));
      return;
    }
    if (excluded(rel, this.exclude)) return;
    if (this.strategy === "Extract") {
      if (!isTarball(rel)) {
        throw new GeneratorError(
          `extract strategy requires tarball file (.tar.gz or .tgz), got '${rel}'`,
        );
      }
      await this.extract(rel, dest);
      return;
    }
    const target =
      destEndsWithSlash || (await isDirectory(inside(this.staging, dest, "destination")))
        ? path.posix.join(dest, path.posix.basename(rel))
        : dest;
    await this.copy(rel, target);
  }

  /** Copy a file or directory of the source to `dest` in the artifact. */
  async copy(rel: string, dest: string): Promise<void> {
    const src = await this.source(rel);
    if (await isDirectory(src)) {
      await this.copyDir(rel, src, dest);
      return;
    }
    const target = inside(this.staging, dest, "destination");
    if (this.strategy === "Merge" && (await exists(target))) {
      await mergeYamlFile(src, target);
      return;
    }
    await this.copyFile(src, target);
  }

  private async copyFile(src: string, target: string): Promise<void> {
    await mkdir(path.dirname(target), { recursive: true });
    if (await isDirectory(target)) {
      throw new GeneratorError(`cannot overwrite directory '${target}' with a file`);
    }
    await copyFile(src, target);
    await chmod(target, (await stat(src)).mode & 0o777);
    this.origins.set(path.relative(this.staging, target).split(path.sep).join("/"), src);
  }

  private async copyDir(rel: string, src: string, dest: string): Promise<void> {
    await mkdir(inside(this.staging, dest, "destination"), { recursive: true });
    const walk = async (sub: string): Promise<void> => {
      const entries = (await readdir(path.join(src, sub), { withFileTypes: true })).sort((a, b) =>
        a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
      );
      for (const e of entries) {
        const child = sub ? `${sub}/${e.name}` : e.name;
        if (rel === "." && !sub && e.name === ".git") continue;
        if (excluded(child, this.exclude)) continue;
        const from = await this.source(path.posix.join(rel, child));
        const to = inside(this.staging, path.posix.join(dest, child), "destination");
        if (await isDirectory(from)) {
          await mkdir(to, { recursive: true });
          await walk(child);
        } else {
          await this.copyFile(from, to);
        }
      }
    };
    await walk("");
  }

  async extract(rel: string, dest: string): Promise<void> {
    const src = await this.source(rel);
    const target = inside(this.staging, dest, "destination");
    await mkdir(target, { recursive: true });
    // Unpack beside, then lay over the destination (which may hold files already).
    const tmp = await mkdtemp(path.join(path.dirname(this.staging), ".extract-"));
    try {
      await extractTarGz(createReadStream(src), tmp);
      await cp(tmp, target, { recursive: true, force: true });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Helm's values merge: maps merge deeply, everything else is replaced. */
export function mergeMaps(
  base: Record<string, unknown>,
  overlay: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    const current = out[key];
    out[key] = isMap(value) && isMap(current) ? mergeMaps(current, value) : value;
  }
  return out;
}

async function loadYaml(file: string): Promise<Record<string, unknown>> {
  const text = await readFile(file, "utf8");
  let out: Record<string, unknown> = {};
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      throw new GeneratorError(
        `cannot unmarshal YAML document of '${path.basename(file)}': ${doc.errors[0]?.message.split("\n")[0] ?? ""}`,
      );
    }
    const value: unknown = doc.toJS({ maxAliasCount: 1000 });
    if (value === null || value === undefined) continue;
    if (!isMap(value)) {
      throw new GeneratorError(`cannot merge '${path.basename(file)}': a document is not a map`);
    }
    out = mergeMaps(out, value);
  }
  return out;
}

async function mergeYamlFile(src: string, target: string): Promise<void> {
  const merged = mergeMaps(await loadYaml(target), await loadYaml(src));
  await writeFile(target, toYaml(merged, { sortMapEntries: true, indentSeq: true }));
}

/** sha256 over every file's path, mode and content, in path order (hex). */
export async function hashDirectory(dir: string): Promise<string> {
  const hash = createHash("sha256");
  const walk = async (rel: string): Promise<void> => {
    const entries = (await readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        await walk(child);
        continue;
      }
      const content = await readFile(path.join(dir, child));
      const fileHash = createHash("sha256").update(content).digest("hex");
      hash.update(`${fileHash}  ${child}\n`);
    }
  };
  await walk("");
  return hash.digest("hex");
}
