/**
 * A controller whose module is loaded when it first has something to
 * reconcile: a run with no ResourceSet never loads the ResourceSet controller
 * (and the CEL parser it checks `readyExpr` with); one with no
 * ArtifactGenerator never loads the archive code it copies with. A part that
 * cannot be loaded fails the object it was loaded for, with the part named.
 */
import type { TypedKind, TypedObject } from "../flux/schema.js";
import type { StoreEntry } from "../store/store.js";
import type { Reason } from "../store/status.js";
import { lazyPart, MissingPartError } from "../util/lazy.js";
import type { Outcome, Reconciler } from "./harness.js";

export function lazyReconciler<K extends TypedKind>(
  kinds: readonly K[],
  part: string,
  failure: Reason,
  load: () => Promise<Reconciler<K>>,
): Reconciler<K> {
  const get = lazyPart(part, load);
  let loaded: Reconciler<K> | undefined;
  return {
    kinds,
    async reconcile(object: TypedObject<K>, entry: StoreEntry, generation: number) {
      loaded ??= await get();
      return loaded.reconcile(object, entry, generation);
    },
    recover(err: unknown): Outcome {
      if (err instanceof MissingPartError) {
        return { phase: "Failed", reason: failure, message: err.message };
      }
      if (loaded?.recover) return loaded.recover(err);
      throw err;
    },
  };
}
