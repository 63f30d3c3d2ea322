/**
 * Generating a kustomization for a directory that has none, the way Flux does:
 * every YAML file that decodes as Kubernetes objects is a resource; a
 * sub-directory with its own kustomization file is one resource and is not
 * descended; other sub-directories are walked.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import type { IgnoreRules } from "../../discovery/ignore.js";
import { parseYamlDocuments } from "../../discovery/yaml.js";
import { InputError } from "../../util/errors.js";
import { FileFacts } from "../file-facts.js";
import { findKustomizationFile } from "./files.js";
import { containedPath, readYamlText } from "./safety.js";

export interface GeneratedKustomization {
  apiVersion: "kustomize.config.k8s.io/v1beta1";
  kind: "Kustomization";
  resources: string[];
}

export async function generateKustomization(
  dir: string,
  rules: IgnoreRules,
  root: string = dir,
  facts: FileFacts = new FileFacts(),
): Promise<GeneratedKustomization> {
  const resources: string[] = [];
  await scan(facts, facts.realpath(root), dir, dir, rules, resources);
  return { apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources };
}

async function scan(
  facts: FileFacts,
  realRoot: string,
  base: string,
  dir: string,
  rules: IgnoreRules,
  out: string[],
): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    const rel = `./${path.relative(base, full).split(path.sep).join("/")}`;
    if (entry.isDirectory()) {
      if (rules.ignores(full, true)) continue;
      if (findKustomizationFile(full, facts)) {
        out.push(rel);
        continue;
      }
      await scan(facts, realRoot, base, full, await rules.enter(full), out);
      continue;
    }
    if (!entry.isFile() && !entry.isSymbolicLink()) continue;
    if (!entry.name.endsWith(".yaml") && !entry.name.endsWith(".yml")) continue;
    if (rules.ignores(full, false)) continue;
    // A link is resolved and contained before anything is read; devices,
    // FIFOs and folders behind a *.yaml name are refused.
    const real = containedPath(realRoot, dir, entry.name, () => `${full}: link`, full, facts);
    if (!real) throw new InputError(`${full} is a broken symlink`, { file: full });
    const text = readYamlText(real, full, facts);
    const parsed = facts.from("yaml-documents", real, () => parseYamlDocuments(text));
    const bad = parsed.errors[0];
    if (bad) {
      throw new InputError(
        `failed to decode Kubernetes YAML from ${full}: line ${bad.line}: ${bad.message}`,
        {
          file: full,
          line: bad.line,
        },
      );
    }
    const notObject = parsed.documents.find((d) => !d.object.kind || !d.object.apiVersion);
    if (notObject) {
      throw new InputError(
        `failed to decode Kubernetes YAML from ${full}: line ${notObject.line}: document has no ${notObject.object.kind ? "apiVersion" : "kind"}`,
        { file: full, line: notObject.line },
      );
    }
    out.push(rel);
  }
}
