/**
 * When `--path` holds no Flux objects: where in the checkout the cluster is
 * likely to be, so the message can say "did you mean --path X?".
 *
 * A bounded walk (dot folders, node_modules and Helm chart folders left out)
 * reads the files that mention Flux Kustomizations. The suggestion is the
 * `spec.path` of a bootstrap `flux-system` Kustomization when there is one;
 * otherwise the folders holding Kustomizations that no other folder's
 * Kustomizations build (the roots: `kubernetes/flux/cluster`, not every
 * `kubernetes/apps/*` below the Kustomization that builds `kubernetes/apps`).
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { apiGroup, FLUX_GROUPS } from "../flux/objects.js";
import { isManifestFile } from "./scan.js";
import { parseYamlDocuments } from "./yaml.js";

const MAX_FILES = 5000;
const MAX_DEPTH = 8;
const MAX_FILE_BYTES = 1 << 20;

interface Found {
  /** Folder of the file, relative to the root ("" for the root). */
  dir: string;
  name: string;
  /** spec.path, relative to the root. */
  specPath: string;
  git: boolean;
}

/** Folders (absolute) that are likely `--path` values under `root`, best first; at most 3. */
export async function suggestFluxPaths(root: string, exclude?: string): Promise<string[]> {
  const found: Found[] = [];
  let files = 0;
  let level = [root];
  for (let depth = 0; depth <= MAX_DEPTH && level.length > 0 && files < MAX_FILES; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      if (entries.some((e) => e.isFile() && e.name === "Chart.yaml")) continue;
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (!entry.name.startsWith(".") && entry.name !== "node_modules") next.push(full);
        } else if (entry.isFile() && isManifestFile(entry.name) && files < MAX_FILES) {
          files++;
          found.push(...(await kustomizationsIn(root, full)));
        }
      }
    }
    level = next;
  }
  const exists = async (rel: string) => {
    try {
      return (await stat(path.join(root, rel))).isDirectory();
    } catch {
      return false;
    }
  };
  const excluded = exclude ? path.relative(root, exclude) : undefined;
  const keep = (rel: string) => rel !== excluded;

  const bootstrap = found.find((f) => f.name === "flux-system" && f.git);
  if (bootstrap && keep(bootstrap.specPath) && (await exists(bootstrap.specPath))) {
    return [path.join(root, bootstrap.specPath)];
  }
  const under = (dir: string, p: string) => p === "" || dir === p || dir.startsWith(`${p}/`);
  const dirs = [...new Set(found.map((f) => f.dir))];
  const roots = dirs.filter(
    (dir) => !found.some((f) => f.dir !== dir && f.git && under(dir, f.specPath)),
  );
  const depth = (d: string) => (d === "" ? 0 : d.split("/").length);
  return roots
    .filter(keep)
    .sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, 3)
    .map((d) => path.join(root, d));
}

async function kustomizationsIn(root: string, file: string): Promise<Found[]> {
  let text;
  try {
    if ((await stat(file)).size > MAX_FILE_BYTES) return [];
    text = await readFile(file, "utf8");
  } catch {
    return [];
  }
  if (!text.includes(FLUX_GROUPS.kustomize) || !/kind:\s*Kustomization/.test(text)) return [];
  const dir = path.relative(root, path.dirname(file)).split(path.sep).join("/");
  const out: Found[] = [];
  for (const { object } of parseYamlDocuments(text).documents) {
    if (object.kind !== "Kustomization") continue;
    if (apiGroup(object.apiVersion ?? "") !== FLUX_GROUPS.kustomize) continue;
    const spec = (object as { spec?: { path?: unknown; sourceRef?: { kind?: unknown } } }).spec;
    const specPath = typeof spec?.path === "string" ? spec.path : "";
    out.push({
      dir,
      name: object.metadata?.name ?? "",
      specPath: relativeSpecPath(specPath),
      git: spec?.sourceRef?.kind === undefined || spec.sourceRef.kind === "GitRepository",
    });
  }
  return out;
}

/** `./kubernetes/apps/` -> `kubernetes/apps`; the root is "". */
function relativeSpecPath(p: string): string {
  const norm = path.posix.normalize(p.replace(/^\.?\/+/, "") || ".").replace(/\/+$/, "");
  return norm === "." ? "" : norm;
}
