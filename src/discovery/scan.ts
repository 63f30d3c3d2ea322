/**
 * Reading the manifests under a path: every `*.yaml`/`*.yml` file, honouring
 * ignore files, skipping Helm chart folders (templates are not YAML).
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { KubeObject } from "../flux/objects.js";
import { IgnoreRules } from "./ignore.js";
import { limits, RAISE } from "../util/limits.js";
import { decodeManifest, parseYamlDocuments, refusedFluxObject } from "./yaml.js";

export interface ScannedObject {
  object: KubeObject;
  /** Absolute path of the file. */
  file: string;
  line: number;
}

export interface ScanError {
  file: string;
  line: number;
  message: string;
}

export interface ScanResult {
  objects: ScannedObject[];
  errors: ScanError[];
  files: number;
}

export function isManifestFile(name: string): boolean {
  return name.endsWith(".yaml") || name.endsWith(".yml");
}

/**
 * Ignore rules in force at `dir`: those of every folder from `root` down to it.
 * `root` must contain `dir`.
 */
export async function ignoreRulesAt(root: string, dir: string): Promise<IgnoreRules> {
  let rules = await IgnoreRules.empty().enter(root);
  const rel = path.relative(root, dir);
  if (!rel || rel.startsWith("..")) return rules;
  let current = root;
  for (const part of rel.split(path.sep)) {
    current = path.join(current, part);
    rules = await rules.enter(current);
  }
  return rules;
}

/**
 * `ignoreRulesAt` for many directories of one run: each folder's ignore files
 * are read once, and folders share their ancestors' rules.
 */
export class IgnoreRulesCache {
  private readonly byDir = new Map<string, Promise<IgnoreRules>>();

  at(root: string, dir: string): Promise<IgnoreRules> {
    const rel = path.relative(root, dir);
    if (rel.startsWith("..") || path.isAbsolute(rel)) return this.at(root, root);
    const key = `${root}\u0000${dir}`;
    let rules = this.byDir.get(key);
    if (!rules) {
      rules =
        rel === ""
          ? IgnoreRules.empty().enter(root)
          : this.at(root, path.dirname(dir)).then((parent) => parent.enter(dir));
      this.byDir.set(key, rules);
    }
    return rules;
  }
}

export async function scanManifests(
  root: string,
  start: string,
  extraRules?: IgnoreRules,
): Promise<ScanResult> {
  const result: ScanResult = { objects: [], errors: [], files: 0 };
  const rules = extraRules ?? (await ignoreRulesAt(root, start));
  for (const file of await listManifestFiles(start, rules)) await readManifestFile(file, result);
  return result;
}

/**
 * Every manifest file under `dir` in name order, honouring ignore rules and
 * skipping Helm chart folders (their templates are not manifests). With
 * `links`, symlinked files are listed too and unreadable folders are skipped
 * (diagnostics reports what it cannot read); without, a folder that cannot be
 * read is an error.
 */
export async function listManifestFiles(
  dir: string,
  inherited: IgnoreRules,
  options: { links?: boolean; skip?: ReadonlySet<string> } = {},
  out: string[] = [],
): Promise<string[]> {
  const rules = await inherited.enter(dir);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (options.links) return out;
    throw err;
  }
  if (entries.some((e) => e.isFile() && e.name === "Chart.yaml")) return out; // Helm templates
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (rules.ignores(full, true)) continue;
      await listManifestFiles(full, rules, options, out);
    } else if (
      (entry.isFile() || (options.links === true && entry.isSymbolicLink())) &&
      isManifestFile(entry.name)
    ) {
      if (rules.ignores(full, false) || options.skip?.has(full)) continue;
      out.push(full);
    }
  }
  return out;
}

/** The objects of one manifest file (within the size bound; unreadable documents left out). */
export async function scanFile(file: string): Promise<ScannedObject[]> {
  const result: ScanResult = { objects: [], errors: [], files: 0 };
  if (!(await stat(file)).isFile()) return []; // never block on a FIFO or a device
  await readManifestFile(file, result);
  return result.objects;
}

async function readManifestFile(file: string, result: ScanResult): Promise<void> {
  result.files++;
  const { size } = await stat(file);
  if (size > limits.maxFileBytes) {
    result.errors.push({
      file,
      line: 1,
      message: `file is ${size} bytes, over the limit of ${limits.maxFileBytes} (${RAISE.maxFileBytes})`,
    });
    return;
  }
  const { text, invalidLines } = decodeManifest(await readFile(file));
  const parsed = parseYamlDocuments(text);
  for (const err of parsed.errors) result.errors.push({ file, ...err });
  for (const doc of parsed.documents) {
    const refused = refusedFluxObject(
      { value: doc.object, line: doc.line, endLine: doc.endLine, duplicateKey: doc.duplicateKey },
      invalidLines,
    );
    if (refused) result.errors.push({ file, ...refused });
    else result.objects.push({ object: doc.object, file, line: doc.line });
  }
}
