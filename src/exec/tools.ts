/**
 * Locating the external binaries. Order: an explicit environment variable
 * (FLUX_LOCAL_KUSTOMIZE, FLUX_LOCAL_HELM), the project-local tools folder that
 * `npm run setup` fills (.tools/bin), then PATH. `kubectl kustomize` is the
 * fallback for kustomize.
 */
import { access, constants } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FluxLocalError } from "../util/errors.js";

export interface Tool {
  /** Program to execute. */
  file: string;
  /** Arguments that precede the tool's own (for `kubectl kustomize`). */
  prefix: string[];
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const localTools = path.join(projectRoot, ".tools", "bin");

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

const cache = new Map<string, Promise<Tool>>();

async function locate(name: "kustomize" | "helm"): Promise<Tool> {
  const envVar = `FLUX_LOCAL_${name.toUpperCase()}`;
  const explicit = process.env[envVar];
  if (explicit) {
    if (await isExecutable(explicit)) return { file: explicit, prefix: [] };
    throw new FluxLocalError(`${envVar}=${explicit} is not an executable file`);
  }
  const local = path.join(localTools, name);
  if (await isExecutable(local)) return { file: local, prefix: [] };
  const found = await onPath(name);
  if (found) return { file: found, prefix: [] };
  if (name === "kustomize") {
    const kubectl = await onPath("kubectl");
    if (kubectl) return { file: kubectl, prefix: ["kustomize"] };
  }
  throw new FluxLocalError(
    `${name} not found: run \`npm run setup\` (installs it into .tools/bin), install it on PATH, or set ${envVar}`,
  );
}

export function findTool(name: "kustomize" | "helm"): Promise<Tool> {
  let found = cache.get(name);
  if (!found) {
    found = locate(name);
    cache.set(name, found);
    found.catch(() => cache.delete(name));
  }
  return found;
}
