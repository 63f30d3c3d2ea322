/**
 * Which produced objects join the store, and under which key. Flux objects
 * (reconciled in turn), ConfigMaps and Secrets (looked up by substitution and
 * values) do; everything else only lives in its producer's artifact. An object
 * without a namespace inherits its producer's (targetNamespace, else its own).
 */
import {
  apiGroup,
  FLUX_GROUPS,
  isConfigMap,
  isSecret,
  type KubeObject,
  type ObjectRef,
} from "../flux/objects.js";
import type { Store } from "./store.js";

const STORED_GROUPS = new Set<string>(Object.values(FLUX_GROUPS));

export function isStoredKind(obj: KubeObject): boolean {
  return STORED_GROUPS.has(apiGroup(obj.apiVersion)) || isConfigMap(obj) || isSecret(obj);
}

export function producedRef(obj: KubeObject, defaultNamespace: string): ObjectRef | undefined {
  if (!isStoredKind(obj) || !obj.kind) return undefined;
  const name = obj.metadata?.name;
  if (!name) return undefined;
  return { kind: obj.kind, namespace: obj.metadata?.namespace ?? defaultNamespace, name };
}

/** Add what `producer` produced to the store: Flux objects, ConfigMaps and Secrets. */
export function publishProduced(
  store: Store,
  producer: string,
  produced: {
    objects: readonly KubeObject[];
    defaultNamespace: string;
    files?: ReadonlyArray<string | undefined>;
    lines?: ReadonlyArray<number | undefined>;
  },
): void {
  produced.objects.forEach((obj, index) => {
    const ref = producedRef(obj, produced.defaultNamespace);
    if (!ref) return;
    const file = produced.files?.[index];
    const line = file ? produced.lines?.[index] : undefined;
    store.put(ref, obj, { producer, ...(file ? { file } : {}), ...(line ? { line } : {}) });
  });
}
