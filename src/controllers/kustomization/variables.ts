/**
 * Gathering post-build variables: each `substituteFrom` entry in order (later
 * ones overwrite earlier ones), then the inline `substitute` map on top. Values
 * lose their newlines. Secrets contribute placeholders, never their content.
 */
import { isSecret, refDisplay, type KubeObject } from "../../flux/objects.js";
import type { PostBuild } from "../../flux/schema.js";
import { secretValues } from "../../render/secrets.js";
import { normalizeValue } from "../../render/substitute/postbuild.js";

export interface VariableSources {
  /** Look a ConfigMap or Secret up (in the Kustomization's namespace); undefined if missing. */
  lookup(kind: "ConfigMap" | "Secret", name: string): Promise<KubeObject | undefined>;
  /** True when a missing Secret may be tolerated (produced in-cluster, or allowed by flag). */
  tolerateMissingSecret(name: string): boolean;
}

export interface Variables {
  vars: Map<string, string>;
  notes: string[];
}

export class MissingReferenceError extends Error {}

export async function gatherVariables(
  postBuild: PostBuild,
  namespace: string,
  sources: VariableSources,
): Promise<Variables> {
  const vars = new Map<string, string>();
  const notes: string[] = [];
  for (const ref of postBuild.substituteFrom ?? []) {
    const obj = await sources.lookup(ref.kind, ref.name);
    if (!obj) {
      const display = refDisplay({ kind: ref.kind, namespace, name: ref.name });
      if (ref.optional) continue;
      if (ref.kind === "Secret" && sources.tolerateMissingSecret(ref.name)) {
        notes.push(
          `substituteFrom ${display} is not in the repository; its variables are left unset`,
        );
        continue;
      }
      throw new MissingReferenceError(
        `substituteFrom ${display} not found in the repository (mark it optional: true if it only exists in the cluster)`,
      );
    }
    const values = isSecret(obj) ? secretValues(obj) : configMapValues(obj);
    for (const [key, value] of values) vars.set(key, normalizeValue(value));
  }
  for (const [key, value] of Object.entries(postBuild.substitute ?? {})) {
    vars.set(key, normalizeValue(String(value)));
  }
  return { vars, notes };
}

function configMapValues(obj: KubeObject): Map<string, string> {
  const out = new Map<string, string>();
  const data = obj.data as Record<string, unknown> | null | undefined;
  for (const [key, value] of Object.entries(data ?? {})) {
    out.set(key, typeof value === "string" ? value : String(value));
  }
  return out;
}
