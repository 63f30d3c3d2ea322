/**
 * Resolving a HelmRelease's `valuesFrom` entries against the objects the
 * repository renders, as helm-controller resolves them against the cluster:
 * ConfigMaps and Secrets in the release's namespace, `valuesKey` defaulting to
 * `values.yaml`, `optional` tolerating a missing object or key. Offline,
 * Secret values are not available: a Secret entry with a `targetPath` gets the
 * placeholder of its key, a whole values document from a Secret is left out
 * with a note. A Secret that only exists in the cluster (made by an in-repo
 * ExternalSecret or SealedSecret, or tolerated by `--allow-missing-secrets`)
 * is left out with a note; anything else missing is an error.
 */
import type { KubeObject } from "../../flux/objects.js";
import { placeholder, secretValues } from "../../render/secrets.js";
import { readValues, ValuesError, type ValuesSource } from "../../render/helm/values.js";
import type { ValuesReference } from "../../flux/schema.js";

export interface ValuesLookup {
  /** The ConfigMap or Secret in the release namespace, once known; undefined if it never appears. */
  find(kind: "ConfigMap" | "Secret", name: string): Promise<KubeObject | undefined>;
  /** True if an in-repo ExternalSecret or SealedSecret creates this Secret in the cluster. */
  producedInCluster(name: string): boolean;
  allowMissingSecrets: boolean;
}

export interface ResolvedValues {
  sources: ValuesSource[];
  notes: string[];
}

const DEFAULT_VALUES_KEY = "values.yaml";

function describe(ref: ValuesReference, namespace: string): string {
  const key = ref.valuesKey ?? DEFAULT_VALUES_KEY;
  return `${ref.optional ? "optional " : ""}${ref.kind} chart values reference '${namespace}/${ref.name}' with key '${key}'`;
}

export async function resolveValuesFrom(
  refs: readonly ValuesReference[],
  namespace: string,
  lookup: ValuesLookup,
): Promise<ResolvedValues> {
  const sources: ValuesSource[] = [];
  const notes: string[] = [];
  for (const ref of refs) {
    const what = describe(ref, namespace);
    if (ref.kind !== "ConfigMap" && ref.kind !== "Secret") {
      throw new ValuesError(`could not resolve ${what}: unsupported values reference kind`);
    }
    const key = ref.valuesKey ?? DEFAULT_VALUES_KEY;
    const object = await lookup.find(ref.kind, ref.name);
    if (!object) {
      if (ref.optional) {
        notes.push(`${ref.kind} ${namespace}/${ref.name} not found (optional, skipped)`);
        continue;
      }
      if (ref.kind === "Secret" && lookup.producedInCluster(ref.name)) {
        notes.push(
          `Secret ${namespace}/${ref.name} is created in the cluster (ExternalSecret/SealedSecret): its values are left out`,
        );
        continue;
      }
      if (ref.kind === "Secret" && lookup.allowMissingSecrets) {
        notes.push(
          `Secret ${namespace}/${ref.name} not found (--allow-missing-secrets): its values are left out`,
        );
        continue;
      }
      throw new ValuesError(
        `could not resolve ${what}: ${ref.kind} not found in the rendered objects${ref.kind === "Secret" ? " (use --allow-missing-secrets if it only exists in the cluster)" : ""}`,
      );
    }

    let value: string | undefined;
    if (ref.kind === "Secret") {
      const keys = secretValues(object);
      value = keys.has(key) ? placeholder(key) : undefined;
    } else {
      const data = object.data as Record<string, unknown> | null | undefined;
      const raw = data && typeof data === "object" ? data[key] : undefined;
      // ConfigMap data values are strings; a number or boolean left unquoted in YAML reads as its text.
      value =
        typeof raw === "string"
          ? raw
          : typeof raw === "number" || typeof raw === "boolean"
            ? String(raw)
            : undefined;
    }
    if (value === undefined) {
      if (ref.optional) {
        notes.push(`${ref.kind} ${namespace}/${ref.name} has no key ${key} (optional, skipped)`);
        continue;
      }
      throw new ValuesError(`could not resolve ${what}: key not found`);
    }

    if (ref.targetPath) {
      sources.push({
        kind: "path",
        targetPath: ref.targetPath,
        value,
        literal: ref.literal ?? false,
      });
      continue;
    }
    if (ref.kind === "Secret") {
      notes.push(
        `Secret ${namespace}/${ref.name} key ${key}: Secret values are not available offline, left out`,
      );
      continue;
    }
    try {
      sources.push({ kind: "document", values: readValues(value) });
    } catch (err) {
      if (err instanceof ValuesError)
        throw new ValuesError(`could not resolve ${what}: ${err.message}`);
      throw err;
    }
  }
  return { sources, notes };
}
