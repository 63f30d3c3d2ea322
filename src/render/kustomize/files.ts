import { lstat } from "node:fs/promises";
import path from "node:path";

/** The file names kustomize recognises, in its order of preference. */
export const KUSTOMIZATION_FILE_NAMES = [
  "kustomization.yaml",
  "kustomization.yml",
  "Kustomization",
];

/** The kustomization file in `dir`, or undefined. */
export async function findKustomizationFile(dir: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILE_NAMES) {
    const candidate = path.join(dir, name);
    try {
      const st = await lstat(candidate);
      if (st.isFile() || st.isSymbolicLink()) return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
}
