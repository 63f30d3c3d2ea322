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
  /**
   * What a missing Secret means: `tolerate` (produced in the cluster by an
   * in-repo ExternalSecret or SealedSecret, or allowed by flag: a note),
   * `warn` (it exists only in the cluster: a warning), `fail`.
   */
  missingSecret(name: string): "tolerate" | "warn" | "fail";
}

export interface Variables {
  vars: Map<string, string>;
  notes: string[];
  /** Secrets (`Secret ns/name`) that are not in the repository and were warned about. */
  missingSecrets: string[];
}

export class MissingReferenceError extends Error {}

export async function gatherVariables(
  postBuild: PostBuild,
  namespace: string,
  sources: VariableSources,
): Promise<Variables> {
  const vars = new Map<string, string>();
  const notes: string[] = [];
  const missingSecrets: string[] = [];
  for (const ref of postBuild.substituteFrom ?? []) {
    const obj = await sources.lookup(ref.kind, ref.name);
    if (!obj) {
      const display = refDisplay({ kind: ref.kind, namespace, name: ref.name });
      if (ref.optional) continue;
      const missing = ref.kind === "Secret" ? sources.missingSecret(ref.name) : "fail";
      if (missing === "tolerate") {
        notes.push(
          `substituteFrom ${display} is not in the repository; its variables are left unset`,
        );
        continue;
      }
      if (missing === "warn") {
        missingSecrets.push(display);
        continue;
      }
      throw new MissingReferenceError(
        ref.kind === "Secret"
          ? `substituteFrom ${display} not found in the repository (--strict-substitute makes a Secret that exists only in the cluster a failure)`
          : `substituteFrom ${display} not found in the repository (mark it optional: true if it only exists in the cluster)`,
      );
    }
    const values = isSecret(obj) ? secretValues(obj) : configMapValues(obj);
    for (const [key, value] of values) vars.set(key, normalizeValue(value));
  }
  for (const [key, value] of Object.entries(postBuild.substitute ?? {})) {
    vars.set(key, normalizeValue(String(value)));
  }
  return { vars, notes, missingSecrets };
}

function configMapValues(obj: KubeObject): Map<string, string> {
  const out = new Map<string, string>();
  const data = obj.data as Record<string, unknown> | null | undefined;
  for (const [key, value] of Object.entries(data ?? {})) {
    out.set(key, typeof value === "string" ? value : String(value));
  }
  return out;
}
