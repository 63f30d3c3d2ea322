/**
 * Flux's safety rails for a kustomize build, checked before kustomize runs:
 * every file a kustomization tree references stays inside the source root
 * (no `..` or symlink escape), no remote bases, no `helmCharts` (Flux does not
 * inflate charts in a Kustomization).
 */
import { readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { parse } from "yaml";
import { InputError } from "../../util/errors.js";
import { isInside } from "../../flux/paths.js";
import { findKustomizationFile } from "./files.js";
import { isRemoteReference, referencesOf } from "../../discovery/references.js";
/**
 * Check the kustomization tree rooted at `dir` (whose kustomization document is
 * `doc`, possibly already modified) against `root`. Throws InputError naming the
 * file and field at fault.
 */
export async function checkKustomizationTree(
  root: string,
  dir: string,
  doc: Record<string, unknown>,
  docFile: string,
): Promise<void> {
  const realRoot = await realpath(root);
  const seen = new Set<string>();
  await checkDoc(realRoot, dir, doc, docFile, seen, 0);
}

async function checkDoc(
  realRoot: string,
  dir: string,
  doc: Record<string, unknown>,
  docFile: string,
  seen: Set<string>,
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
  for (const ref of referencesOf(doc)) {
    if (isRemoteReference(ref.value)) {
      throw new InputError(
        `${docFile}: ${ref.field} entry "${ref.value}" is a remote reference; remote bases are not supported (vendor it into the repository)`,
        { file: docFile },
      );
    }
    const target = path.resolve(dir, ref.value);
    let real: string;
    try {
      real = await realpath(target);
    } catch {
      // kustomize reports missing files itself, with its own message.
      continue;
    }
    if (!isInside(realRoot, real)) {
      throw new InputError(
        `${docFile}: ${ref.field} entry "${ref.value}" resolves outside the source root (${real}); paths must stay inside the source`,
        { file: docFile },
      );
    }
    if (!ref.mayBeDir || seen.has(real)) continue;
    const st = await stat(real);
    if (!st.isDirectory()) continue;
    seen.add(real);
    const kfile = await findKustomizationFile(real);
    if (!kfile) continue;
    const realKfile = await realpath(kfile);
    if (!isInside(realRoot, realKfile)) {
      throw new InputError(`${kfile} resolves outside the source root`, { file: kfile });
    }
    const nested: unknown = parse(await readFile(realKfile, "utf8"));
    if (nested && typeof nested === "object") {
      await checkDoc(realRoot, real, nested as Record<string, unknown>, kfile, seen, depth + 1);
    }
  }
}
