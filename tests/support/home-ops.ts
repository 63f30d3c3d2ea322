/**
 * The home-ops-style repository of tests/fixtures/home-ops in a temp git
 * repository, its charts pointing at `registryHost`.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeRepo, type TempRepo } from "./repo.js";

const FIXTURE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "fixtures",
  "home-ops",
);

/** `--path` of the repository (its Flux entry). */
export const HOME_OPS_ENTRY = "kubernetes/flux/cluster";

/** The app Kustomizations and HelmReleases (`namespace/name`), each with its own OCIRepository. */
export const HOME_OPS_APPS = [
  "cert-manager/cert-manager",
  "default/echo",
  "default/whoami",
  "observability/exporter",
];

async function filesUnder(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = path.join(rel, d.name);
    if (d.isDirectory()) out.push(...(await filesUnder(dir, child)));
    else out.push(child);
  }
  return out;
}

export async function makeHomeOps(registryHost: string): Promise<TempRepo> {
  const files: Record<string, string> = {};
  for (const rel of await filesUnder(FIXTURE)) {
    const text = await readFile(path.join(FIXTURE, rel), "utf8");
    files[rel] = text.replaceAll("REGISTRY_HOST", registryHost);
  }
  return makeRepo(files);
}
