/**
 * Render inputs fingerprint: everything one render reads, reduced to digests,
 * so that two renders with equal fingerprints produce equal output.
 *
 * - A Kustomization build reads its kustomization document (after the Flux
 *   spec is applied, or the generated one) and, transitively through
 *   resources, bases, components, patches, generators, replacements, ..., every
 *   file and nested kustomization it references.
 * - A HelmRelease render reads its chart (identity, version and content), its
 *   merged values and the template flags.
 *
 * `diff` renders an owner once when both sides have the same fingerprint, and
 * reports which inputs differ when they do not; the render cache keys on the
 * same value. The functions here are pure over data and file contents: file
 * access goes through a small reader interface, so tests can use a map.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { parse } from "yaml";
import { isRemoteReference, referencesOf } from "../discovery/references.js";
import type { RenderInputs } from "../flux/render-inputs.js";
import type { FileFacts } from "./file-facts.js";

export type { RenderInputs };

export type InputChangeType = "added" | "removed" | "changed";

/** One input that differs between two fingerprints. */
export interface InputChange {
  /** `file apps/prod/configmap.yaml`, `values`, `chart`, `substitutions`, ... */
  input: string;
  change: InputChangeType;
}

export const MISSING = "missing";

export function digest(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** JSON with object keys sorted at every level: equal data, equal text. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(obj)
        .sort()
        .filter((k) => obj[k] !== undefined)
        .map((k) => [k, sortKeys(obj[k])]),
    );
  }
  return value;
}

/** The fingerprint of named parts (any JSON data) and file digests. */
export function fingerprint(
  kind: RenderInputs["kind"],
  parts: Readonly<Record<string, unknown>>,
  files: Readonly<Record<string, string>> = {},
): RenderInputs {
  const partDigests = Object.fromEntries(
    Object.keys(parts)
      .sort()
      .map((k) => [k, digest(stableJson(parts[k]))]),
  );
  const sortedFiles = Object.fromEntries(
    Object.keys(files)
      .sort()
      .map((k) => [k, files[k] ?? MISSING]),
  );
  const key = digest(stableJson({ kind, parts: partDigests, files: sortedFiles }));
  return { kind, key, parts: partDigests, files: sortedFiles };
}

/** The same fingerprint with one more named part (e.g. substitution variables). */
export function withPart(inputs: RenderInputs, name: string, value: unknown): RenderInputs {
  const parts = { ...inputs.parts, [name]: digest(stableJson(value)) };
  const key = digest(stableJson({ kind: inputs.kind, parts, files: inputs.files }));
  return { ...inputs, key, parts };
}

/** The same fingerprint with more files read (digests, or `missing`). */
export function withFiles(
  inputs: RenderInputs,
  extra: Readonly<Record<string, string>>,
): RenderInputs {
  const merged = { ...inputs.files, ...extra };
  const files = Object.fromEntries(
    Object.keys(merged)
      .sort()
      .map((k) => [k, merged[k] ?? MISSING]),
  );
  const key = digest(stableJson({ kind: inputs.kind, parts: inputs.parts, files }));
  return { ...inputs, key, files };
}

/** What differs between two fingerprints of the same owner, files first. */
export function compareInputs(
  before: RenderInputs | undefined,
  after: RenderInputs | undefined,
): InputChange[] {
  if (!before && !after) return [];
  if (!before || !after) {
    return [{ input: "render inputs", change: before ? "removed" : "added" }];
  }
  if (before.key === after.key) return [];
  const out: InputChange[] = [];
  const compareMaps = (
    a: Record<string, string>,
    b: Record<string, string>,
    label: (k: string) => string,
  ) => {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const x = a[k] === MISSING ? undefined : a[k];
      const y = b[k] === MISSING ? undefined : b[k];
      if (x === y) continue;
      out.push({
        input: label(k),
        change: x === undefined ? "added" : y === undefined ? "removed" : "changed",
      });
    }
  };
  compareMaps(before.files, after.files, (k) => `file ${k}`);
  compareMaps(before.parts, after.parts, (k) => k);
  return out;
}

/** File access for the fingerprint walk (the real file system, or a map in tests). */
export interface InputReader {
  /** File content, or undefined when it does not exist. */
  read(file: string): Promise<Uint8Array | undefined>;
  isDirectory(file: string): Promise<boolean>;
  /** Every file below `dir` (absolute paths); used for chart folders. */
  list(dir: string): Promise<string[]>;
  /** digest() of the file's content, or undefined when it does not exist (default: from read). */
  digest?(file: string): Promise<string | undefined>;
  /** A kustomization file's content parsed (shared, never changed), computed once per run. */
  parsed?(file: string, compute: () => unknown): unknown;
}

export const fsReader: InputReader = {
  async read(file) {
    try {
      return await readFile(file);
    } catch {
      return undefined;
    }
  },
  async isDirectory(file) {
    try {
      return (await stat(file)).isDirectory();
    } catch {
      return false;
    }
  },
  async list(dir) {
    // One folder at a time rather than readdir's recursive form, whose answer
    // the run cache cannot check: each folder's listing is then an observation
    // of its own, and a run over a chart in the checkout can be replayed.
    const files: string[] = [];
    const walk = async (folder: string): Promise<void> => {
      for (const entry of await readdir(folder, { withFileTypes: true })) {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.isFile() || entry.isSymbolicLink()) files.push(full);
      }
    };
    await walk(dir);
    return files;
  },
};

/** The file system through a run's file facts: each file read and digested once per run. */
export function factsReader(facts: FileFacts): InputReader {
  return {
    read: (file) => Promise.resolve(facts.tryRead(file)),
    isDirectory: (file) => Promise.resolve(facts.isDirectory(file)),
    list: (dir) => fsReader.list(dir),
    digest: (file) => Promise.resolve(facts.digest(file)),
    parsed: (file, compute) => facts.from("kustomization-references", file, compute),
  };
}

async function digestOf(reader: InputReader, file: string): Promise<string | undefined> {
  if (reader.digest) return reader.digest(file);
  const content = await reader.read(file);
  return content === undefined ? undefined : digest(content);
}

const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

function relativeKey(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join("/");
}

/**
 * Digests of every file a kustomization tree reads, relative to `root`,
 * starting from the (possibly generated or modified) document `doc` of `dir`.
 * Missing references are recorded as `missing` (adding one changes the
 * fingerprint); remote references are left out (the build refuses them).
 */
export async function kustomizationFiles(
  root: string,
  dir: string,
  doc: Record<string, unknown>,
  reader: InputReader = fsReader,
): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const visited = new Set<string>();
  const walk = async (at: string, document: Record<string, unknown>, depth: number) => {
    if (depth > 64) return;
    for (const ref of referencesOf(document)) {
      if (isRemoteReference(ref.value)) continue;
      const target = path.resolve(at, ref.value);
      const key = relativeKey(root, target);
      if (ref.mayBeDir && (await reader.isDirectory(target))) {
        if (visited.has(target)) continue;
        visited.add(target);
        let found = false;
        for (const name of KUSTOMIZATION_FILES) {
          const kfile = path.join(target, name);
          const content = await reader.read(kfile);
          if (content === undefined) continue;
          found = true;
          files[relativeKey(root, kfile)] = (await digestOf(reader, kfile)) ?? MISSING;
          const parseIt = (): unknown => {
            try {
              return parse(Buffer.from(content).toString("utf8"));
            } catch {
              return undefined; // the build reports it; the digest above already covers it
            }
          };
          // Shared components are read by every build that uses them: parsed once.
          const nested = reader.parsed ? reader.parsed(kfile, parseIt) : parseIt();
          if (nested && typeof nested === "object" && !Array.isArray(nested)) {
            await walk(target, nested as Record<string, unknown>, depth + 1);
          }
          break;
        }
        if (!found) files[`${key}/`] = "directory without kustomization";
        continue;
      }
      files[key] = (await digestOf(reader, target)) ?? MISSING;
    }
  };
  await walk(dir, doc, 0);
  return files;
}

/** The fingerprint of one Kustomization build. */
export async function kustomizeInputs(
  root: string,
  dir: string,
  doc: Record<string, unknown>,
  reader: InputReader = fsReader,
): Promise<RenderInputs> {
  const files = await kustomizationFiles(root, dir, doc, reader);
  return fingerprint(
    "kustomize",
    { path: relativeKey(root, dir) || ".", kustomization: doc },
    files,
  );
}

/** Digests of every file of a chart folder, relative to it. */
export async function chartFiles(
  chartDir: string,
  reader: InputReader = fsReader,
): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const file of (await reader.list(chartDir)).sort()) {
    const content = await reader.read(file);
    files[`chart/${relativeKey(chartDir, file)}`] =
      content === undefined ? MISSING : digest(content);
  }
  return files;
}

export interface HelmInputParts {
  /** Chart name, version and where it came from. */
  chart: string;
  values: unknown;
  /** Release name, namespace and every template flag. */
  flags: unknown;
  postRenderers?: unknown;
}

/** The fingerprint of one HelmRelease render. */
export function helmInputs(
  parts: HelmInputParts,
  chartFileDigests: Record<string, string>,
): RenderInputs {
  return fingerprint(
    "helm",
    {
      chart: parts.chart,
      values: parts.values,
      flags: parts.flags,
      postRenderers: parts.postRenderers ?? [],
    },
    chartFileDigests,
  );
}
