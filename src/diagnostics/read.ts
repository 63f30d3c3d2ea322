/**
 * Reading a repository for diagnostics (the only I/O of the checks): every
 * `*.yaml`/`*.yml` under the path, honouring `.krmignore`/`.sourceignore` and
 * skipping Helm chart folders, plus the folders the cluster builds from this
 * checkout that lie outside the path (a Flux Kustomization's `spec.path`, a
 * kustomization's `../base`), so that references into them resolve.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { apiGroup, FLUX_GROUPS } from "../flux/objects.js";
import { ignoreRulesAt, isManifestFile, listManifestFiles } from "../discovery/scan.js";
import type { IgnoreRules } from "../discovery/ignore.js";
import { isKustomizationFile, isMapping, type ParsedFile, type Repository } from "./model.js";
import { parseYamlFile } from "./parse.js";
import { decodeManifest } from "../discovery/yaml.js";
import { isDirectory } from "../util/fs.js";

async function walk(
  dir: string,
  rules: IgnoreRules,
  files: Map<string, ParsedFile>,
): Promise<void> {
  const found = await listManifestFiles(dir, rules, { links: true, skip: new Set(files.keys()) });
  for (const file of found) await readOne(file, files);
}

async function readOne(file: string, files: Map<string, ParsedFile>): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    // A dangling symlink or an unreadable file: say so, as a YAML problem of that file.
    files.set(file, {
      file,
      documents: [],
      error: {
        line: 1,
        message: `could not be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      },
    });
    return;
  }
  const { text, invalidLines } = decodeManifest(bytes);
  files.set(file, parseYamlFile(file, text, invalidLines));
}

function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** Folders outside what was read that the files read build from this checkout. */
function referencedFolders(repo: Repository, covered: readonly string[]): string[] {
  const out = new Set<string>();
  const consider = (dir: string) => {
    if (!isInside(repo.root, dir)) return;
    if (covered.some((c) => isInside(c, dir))) return;
    out.add(dir);
  };
  for (const parsed of repo.files.values()) {
    for (const doc of parsed.documents) {
      const v = doc.value;
      if (!isMapping(v)) continue;
      if (isKustomizationFile(parsed.file)) {
        for (const key of ["resources", "bases", "components"]) {
          const list = v[key];
          if (!Array.isArray(list)) continue;
          for (const ref of list) {
            if (typeof ref !== "string" || /^[a-z][a-z0-9+.-]*:\/\//i.test(ref)) continue;
            const target = path.resolve(path.dirname(parsed.file), ref);
            consider(isManifestFile(target) ? path.dirname(target) : target);
          }
        }
        continue;
      }
      if (v.kind !== "Kustomization" || typeof v.apiVersion !== "string") continue;
      if (apiGroup(v.apiVersion) !== FLUX_GROUPS.kustomize) continue;
      const spec = v.spec;
      if (!isMapping(spec) || !isMapping(spec.sourceRef)) continue;
      if (spec.sourceRef.kind !== "GitRepository") continue;
      consider(path.join(repo.root, typeof spec.path === "string" ? spec.path : ""));
    }
  }
  return [...out].sort();
}

/**
 * Read `start` (absolute) and what it builds from `root` (the checkout).
 * Returns the repository and the folders read (start first).
 */
export async function readRepository(
  root: string,
  start: string,
): Promise<{ repo: Repository; folders: string[] }> {
  const files = new Map<string, ParsedFile>();
  const repo: Repository = { root, files };
  const folders = [start];
  await walk(start, await ignoreRulesAt(root, start), files);
  // Follow what the cluster builds until nothing new is referenced.
  for (let round = 0; round < 20; round++) {
    const more: string[] = [];
    for (const dir of referencedFolders(repo, folders)) {
      if (await isDirectory(dir)) more.push(dir);
    }
    // Drop folders inside others found in the same round.
    const fresh = more.filter((d) => !more.some((o) => o !== d && isInside(o, d)));
    if (fresh.length === 0) break;
    for (const dir of fresh) {
      folders.push(dir);
      await walk(dir, await ignoreRulesAt(root, dir), files);
    }
  }
  return { repo, folders };
}
