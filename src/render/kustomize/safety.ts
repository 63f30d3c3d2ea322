/**
 * Flux's safety rails for a kustomize build, checked before kustomize runs:
 * every file a kustomization tree makes kustomize open — resources, patches,
 * generator files, and the files named inside generator/transformer/validator
 * configs, recursively — stays inside the source root (no `..`, absolute path
 * or symlink escape, no device or FIFO); no remote bases; no `helmCharts`
 * (Flux does not inflate charts in a Kustomization).
 */
import path from "node:path";
import { InputError } from "../../util/errors.js";
import { limits, RAISE } from "../../util/limits.js";
import { isInside } from "../../flux/paths.js";
import { parseYamlDocuments } from "../../discovery/yaml.js";
import { FileFacts } from "../file-facts.js";
import { findKustomizationFile, KUSTOMIZATION_FILE_NAMES } from "./files.js";

function isPresent(facts: FileFacts, file: string): boolean {
  try {
    facts.lstat(file);
    return true;
  } catch {
    return false;
  }
}
import {
  allReferencesOf,
  inlineDocuments,
  isRemoteReference,
  pluginConfigReferences,
  type Reference,
} from "../../discovery/references.js";

export interface TreeCheckOptions {
  /**
   * Build a directory listed under generators/transformers/validators (its
   * tree already checked) and return its objects: they are plugin configs, and
   * the files they name are checked too. Without it such directories are refused.
   */
  buildConfigs?: (dir: string) => Promise<unknown[]>;
  /** The run's file facts (each file looked at once per run); default: this check's own. */
  facts?: FileFacts;
}

interface Context {
  facts: FileFacts;
  realRoot: string;
  seen: Set<string>;
  options: TreeCheckOptions;
  /** The directory of the checked kustomization document. */
  top: string;
  /** Paths (as written) that kustomize opens relative to `top`. */
  topReferences: string[];
  /** Every path the tree makes kustomize open (absolute) -> what is there. */
  opened: Map<string, "file" | "missing">;
  /** The objects of plugin config folders, as built. */
  builtConfigs: unknown[];
  /** The tree's shape, for telling where built objects come from (see TreeShape). */
  shape: TreeShape;
}

/**
 * The kustomizations of a tree and the resource files they list, by the paths
 * kustomize itself names them with: joined as written from the checked
 * directory, not resolved through links (kustomize's origin annotations).
 */
export interface TreeShape {
  /** Every kustomization document of the tree (the checked one first) and its folder. */
  kustomizations: Array<{
    doc: Record<string, unknown>;
    /** Its folder as kustomize names it (joined as written). */
    dir: string;
    /** Its folder, links resolved (what its paths are read against). */
    realDir: string;
    file: string;
  }>;
  /** The files listed as resources (or bases), in the order met. */
  resourceFiles: Array<{ file: string; real: string }>;
  /** Why the paths above may not be how kustomize names what it reads (a folder met twice, ...). */
  irregular: string[];
}

/** What a kustomization tree makes kustomize read, as found by the check. */
export interface TreeReads {
  /**
   * Every path (as written, relative to the checked directory) that kustomize
   * opens relative to that directory itself: the document's file references
   * and the files its generator/transformer/validator configs name — what a
   * build mirror of the directory must expose.
   */
  topReferences: string[];
  /**
   * Every file the build opens, transitively (absolute paths, links resolved
   * where they lead), with `missing` for a referenced path where nothing is:
   * references, nested kustomization files (every name kustomize looks for),
   * plugin config files and the files the configs name.
   */
  opened: Map<string, "file" | "missing">;
  /** The plugin configs built from folders (what they name depends on the build). */
  builtConfigs: unknown[];
  /** The kustomizations and resource files of the tree, as kustomize names them. */
  shape: TreeShape;
}

/**
 * Check the kustomization tree rooted at `dir` (whose kustomization document is
 * `doc`, possibly already modified) against `root`. Throws InputError naming the
 * file and field at fault. Returns what the build reads (see TreeReads): the
 * build mirror and the render inputs fingerprint use it.
 */
export async function checkKustomizationTree(
  root: string,
  dir: string,
  doc: Record<string, unknown>,
  docFile: string,
  options: TreeCheckOptions = {},
): Promise<TreeReads> {
  const facts = options.facts ?? new FileFacts();
  const ctx: Context = {
    facts,
    realRoot: facts.realpath(root),
    seen: new Set(),
    options,
    top: dir,
    topReferences: [],
    opened: new Map(),
    builtConfigs: [],
    shape: { kustomizations: [], resourceFiles: [], irregular: [] },
  };
  await checkDoc(ctx, dir, dir, doc, docFile, 0);
  return {
    topReferences: ctx.topReferences,
    opened: ctx.opened,
    builtConfigs: ctx.builtConfigs,
    shape: ctx.shape,
  };
}

/** Note what kustomize opens at `value` (from `base`): the file, or that nothing is there. */
function noteOpened(ctx: Context, base: string, value: string, real: string | undefined): void {
  if (real === undefined) {
    ctx.opened.set(path.resolve(base, value), "missing");
    return;
  }
  if (ctx.facts.stat(real).isFile()) ctx.opened.set(real, "file");
}

/**
 * Where a path read from a repository really leads, if it stays inside the
 * root: lexically (as kustomize cleans it), then with every link resolved.
 * Undefined when nothing is there (the tool reading it reports that). Devices,
 * FIFOs and sockets are refused.
 */
export function containedPath(
  realRoot: string,
  base: string,
  value: string,
  what: () => string,
  file: string,
  facts: FileFacts = new FileFacts(),
): string | undefined {
  const target = path.resolve(base, value);
  if (!isInside(realRoot, target)) {
    throw new InputError(
      `${what()} "${value}" resolves outside the source root; paths must stay inside the source`,
      { file },
    );
  }
  let real: string;
  try {
    real = facts.realpath(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP")
      throw new InputError(`${what()} "${value}" is a symlink loop`, { file });
    return undefined;
  }
  if (!isInside(realRoot, real)) {
    throw new InputError(
      `${what()} "${value}" resolves outside the source root (through a symlink); paths must stay inside the source`,
      { file },
    );
  }
  const st = facts.stat(real);
  if (!st.isFile() && !st.isDirectory()) {
    throw new InputError(`${what()} "${value}" is not a regular file (a device, FIFO or socket)`, {
      file,
    });
  }
  if (st.isFile() && st.size > limits.maxFileBytes) {
    throw new InputError(
      `${what()} "${value}" is ${st.size} bytes, over the limit of ${limits.maxFileBytes} (${RAISE.maxFileBytes})`,
      { file },
    );
  }
  return real;
}

/**
 * `dir`: the document's folder (links resolved); `named`: the same folder as
 * kustomize names it (the references that lead there, joined as written).
 */
async function checkDoc(
  ctx: Context,
  dir: string,
  named: string,
  doc: Record<string, unknown>,
  docFile: string,
  depth: number,
): Promise<void> {
  if (depth > 64)
    throw new InputError(`kustomization nesting deeper than 64 levels at ${docFile}`, {
      file: docFile,
    });
  if (doc.helmCharts !== undefined || doc.helmChartInflationGenerator !== undefined) {
    throw new InputError(
      `${docFile}: helmCharts is not supported: Flux does not inflate Helm charts in a Kustomization; use a HelmRelease`,
      { file: docFile },
    );
  }
  ctx.shape.kustomizations.push({ doc, dir: named, realDir: dir, file: docFile });
  for (const ref of allReferencesOf(doc)) {
    if (!ref.inline && isRemoteReference(ref.value)) {
      throw new InputError(
        `${docFile}: ${ref.field} entry "${ref.value}" is a remote reference; remote bases are not supported (vendor it into the repository)`,
        { file: docFile },
      );
    }
    if (depth === 0 && !ref.inline) ctx.topReferences.push(ref.value);
    // Inline entries are checked as paths as well: whichever way kustomize
    // reads an entry, what it could open is inside the root.
    const real = containedPath(
      ctx.realRoot,
      dir,
      ref.value,
      () => `${docFile}: ${ref.field} entry`,
      docFile,
      ctx.facts,
    );
    if (!ref.inline) noteOpened(ctx, dir, ref.value, real);
    if (ref.pluginConfig) {
      await checkPluginEntry(ctx, dir, named, ref, real, docFile, depth);
      continue;
    }
    if (!real || !ref.mayBeDir) continue;
    const isDir = ctx.facts.stat(real).isDirectory();
    noteShape(ctx, named, ref, real, isDir);
    if (!isDir) continue;
    if (ctx.seen.has(real)) {
      ctx.shape.irregular.push(`${ref.value} is met twice`);
      continue;
    }
    ctx.seen.add(real);
    await checkDirectory(ctx, real, path.resolve(named, ref.value), depth);
  }
}

/** A resources/bases/components entry in the tree's shape. */
function noteShape(
  ctx: Context,
  named: string,
  ref: Reference,
  real: string,
  isDir: boolean,
): void {
  if (path.isAbsolute(ref.value)) ctx.shape.irregular.push(`${ref.value} is an absolute path`);
  if (isDir) return;
  if (ref.field === "components") ctx.shape.irregular.push(`component ${ref.value} is a file`);
  else ctx.shape.resourceFiles.push({ file: path.resolve(named, ref.value), real });
}

async function checkDirectory(
  ctx: Context,
  real: string,
  named: string,
  depth: number,
): Promise<void> {
  // Every name kustomize looks for: a second kustomization file appearing
  // changes the build (kustomize refuses two).
  for (const name of KUSTOMIZATION_FILE_NAMES) {
    const candidate = path.join(real, name);
    ctx.opened.set(candidate, isPresent(ctx.facts, candidate) ? "file" : "missing");
  }
  const kfile = findKustomizationFile(real, ctx.facts);
  if (!kfile) return;
  const realKfile = containedPath(
    ctx.realRoot,
    real,
    path.basename(kfile),
    () => "kustomization file",
    kfile,
    ctx.facts,
  );
  if (!realKfile) return;
  const nested = readYamlFile(realKfile, kfile, ctx.facts);
  const first = nested[0];
  if (first && typeof first === "object" && !Array.isArray(first)) {
    await checkDoc(ctx, real, named, first as Record<string, unknown>, kfile, depth + 1);
  }
}

/**
 * A generators/transformers/validators entry: inline configs, a config file, or
 * a directory whose build output is the configs. The files the configs name
 * are resolved against the kustomization that lists them (`dir`).
 */
async function checkPluginEntry(
  ctx: Context,
  dir: string,
  named: string,
  ref: Reference,
  real: string | undefined,
  docFile: string,
  depth: number,
): Promise<void> {
  const where = `${docFile}: ${ref.field}`;
  for (const config of inlineDocuments(ref.value) ?? [])
    checkConfig(ctx, dir, config, where, docFile);
  if (!real) return;
  if (ctx.facts.stat(real).isFile()) {
    for (const config of readYamlFile(real, path.resolve(dir, ref.value), ctx.facts))
      checkConfig(ctx, dir, config, `${where} ${ref.value}`, docFile);
    return;
  }
  if (!ctx.options.buildConfigs) {
    throw new InputError(
      `${where} entry "${ref.value}" is a directory, which is not supported here`,
      {
        file: docFile,
      },
    );
  }
  if (!ctx.seen.has(real)) {
    ctx.seen.add(real);
    await checkDirectory(ctx, real, path.resolve(named, ref.value), depth);
  }
  const configs = await ctx.options.buildConfigs(real);
  ctx.builtConfigs.push(...configs);
  for (const config of configs) checkConfig(ctx, dir, config, `${where} ${ref.value}`, docFile);
}

function checkConfig(
  ctx: Context,
  dir: string,
  config: unknown,
  where: string,
  docFile: string,
): void {
  const kind = (config as { kind?: unknown } | null)?.kind;
  if (kind === "HelmChartInflationGenerator") {
    throw new InputError(
      `${where}: HelmChartInflationGenerator is not supported: Flux does not inflate Helm charts in a Kustomization; use a HelmRelease`,
      { file: docFile },
    );
  }
  for (const ref of pluginConfigReferences(config, where)) {
    if (dir === ctx.top) ctx.topReferences.push(ref.value);
    const real = containedPath(
      ctx.realRoot,
      dir,
      ref.value,
      () => `${ref.field} entry`,
      docFile,
      ctx.facts,
    );
    noteOpened(ctx, dir, ref.value, real);
  }
}

/** A regular file's text, within the size bound (a folder or device is refused). */
export function readYamlText(
  real: string,
  shown: string,
  facts: FileFacts = new FileFacts(),
): string {
  const st = facts.stat(real);
  if (!st.isFile()) throw new InputError(`${shown} is not a regular file`, { file: shown });
  if (st.size > limits.maxFileBytes) {
    throw new InputError(
      `${shown} is ${st.size} bytes, over the limit of ${limits.maxFileBytes} (${RAISE.maxFileBytes})`,
      { file: shown },
    );
  }
  return facts.read(real).toString("utf8");
}

/** A YAML file's documents, read within the size bound; errors name the file. */
export function readYamlFile(
  real: string,
  shown: string,
  facts: FileFacts = new FileFacts(),
): unknown[] {
  const text = readYamlText(real, shown, facts);
  // Parsed once per run (the documents are only read, never changed).
  const parsed = facts.from("yaml-documents", real, () => parseYamlDocuments(text));
  const bad = parsed.errors[0];
  if (bad)
    throw new InputError(`${shown}:${bad.line}: ${bad.message}`, { file: shown, line: bad.line });
  return parsed.documents.map((d) => d.object);
}

/**
 * Defence in depth for whatever builds from a mirror of the source tree: may
 * the mirror expose this directory entry? Regular files and folders do; a
 * link does only when it resolves inside the root to a regular file or
 * folder; devices, FIFOs, sockets, broken links and links leaving the root
 * are left out, so kustomize cannot reach them through the mirror whatever a
 * kustomization says.
 */
export function exposedInMirror(
  realRoot: string,
  entry: { name: string; isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean },
  parent: string,
  facts: FileFacts = new FileFacts(),
): boolean {
  if (entry.isFile() || entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    const real = facts.realpath(path.join(parent, entry.name));
    if (!isInside(realRoot, real)) return false;
    const st = facts.stat(real);
    return st.isFile() || st.isDirectory();
  } catch {
    return false;
  }
}
