import path from "node:path";
import { FileFacts } from "../file-facts.js";

/** The file names kustomize recognises, in its order of preference. */
export const KUSTOMIZATION_FILE_NAMES = [
  "kustomization.yaml",
  "kustomization.yml",
  "Kustomization",
];

/** The kustomization file in `dir`, or undefined. */
export function findKustomizationFile(
  dir: string,
  facts: FileFacts = new FileFacts(),
): string | undefined {
  for (const name of KUSTOMIZATION_FILE_NAMES) {
    const candidate = path.join(dir, name);
    try {
      const st = facts.lstat(candidate);
      if (st.isFile() || st.isSymbolicLink()) return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
}
