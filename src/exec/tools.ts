/**
 * Locating the external binaries. Order: an explicit environment variable
 * (FLUX_LOCAL_KUSTOMIZE, FLUX_LOCAL_HELM, FLUX_LOCAL_FLUX_OPERATOR), the project-local tools folder that
 * `npm run setup` fills (.tools/bin), then PATH. `kubectl kustomize` is the
 * fallback for kustomize.
 */
import { access, constants } from "node:fs/promises";
import path from "node:path";
import { FluxLocalError } from "../util/errors.js";
import { packageRoot } from "../util/package-info.js";

export interface Tool {
  /** Program to execute. */
  file: string;
  /** Arguments that precede the tool's own (for `kubectl kustomize`). */
  prefix: string[];
  /** Where it was found: the environment variable, ".tools/bin" or "PATH". */
  via?: string;
}

/** How to install each tool flux-local runs, for messages and `flux-local doctor`. */
export const INSTALL_HINTS: Record<string, string> = {
  kustomize:
    "go install sigs.k8s.io/kustomize/kustomize/v5@latest (or brew install kustomize; releases: https://github.com/kubernetes-sigs/kustomize/releases)",
  helm: "brew install helm (or go install helm.sh/helm/v4/cmd/helm@latest; releases: https://github.com/helm/helm/releases)",
  git: "apt-get install git (or brew install git)",
  "flux-operator":
    "brew install controlplaneio-fluxcd/tap/flux-operator (or go install github.com/controlplaneio-fluxcd/flux-operator/cmd/cli@latest)",
};

const localTools = path.join(packageRoot, ".tools", "bin");

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The message for a tool that is not there: what to run to install it, or where to point. */
export function missingToolMessage(name: ToolName): string {
  const envVar = toolEnvVar(name);
  return (
    `${name} not found on PATH. Install it: ${INSTALL_HINTS[name]}; ` +
    `or set ${envVar} to its path (in a flux-local checkout, \`npm run setup\` installs it into .tools/bin). ` +
    "`flux-local doctor` shows what is found where."
  );
}

export async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** A tool found nowhere (not one named by its environment variable that is not executable). */
export class MissingToolError extends FluxLocalError {
  constructor(readonly tool: ToolName) {
    super(missingToolMessage(tool));
  }
}

const cache = new Map<string, Promise<Tool>>();

export type ToolName = "kustomize" | "helm" | "flux-operator";

/** FLUX_LOCAL_KUSTOMIZE, FLUX_LOCAL_HELM, FLUX_LOCAL_FLUX_OPERATOR. */
export function toolEnvVar(name: ToolName): string {
  return `FLUX_LOCAL_${name.toUpperCase().replace(/-/g, "_")}`;
}

async function locate(name: ToolName): Promise<Tool> {
  const envVar = toolEnvVar(name);
  const explicit = process.env[envVar];
  if (explicit) {
    if (await isExecutable(explicit)) return { file: explicit, prefix: [], via: envVar };
    throw new FluxLocalError(`${envVar}=${explicit} is not an executable file`);
  }
  const local = path.join(localTools, name);
  if (await isExecutable(local)) return { file: local, prefix: [], via: ".tools/bin" };
  const found = await onPath(name);
  if (found) return { file: found, prefix: [], via: "PATH" };
  if (name === "kustomize") {
    const kubectl = await onPath("kubectl");
    if (kubectl) return { file: kubectl, prefix: ["kustomize"], via: "PATH (kubectl kustomize)" };
  }
  throw new MissingToolError(name);
}

export function findTool(name: ToolName): Promise<Tool> {
  let found = cache.get(name);
  if (!found) {
    found = locate(name);
    cache.set(name, found);
    found.catch(() => cache.delete(name));
  }
  return found;
}
