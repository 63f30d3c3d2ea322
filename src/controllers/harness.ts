/**
 * The one reconcile harness. Every controller supplies only its body; the
 * harness does what each reconcile needs around it, in this order:
 *  1. read the object typed, with its kind's schema (a failure is InvalidObject);
 *  2. the suspend gate (`spec.suspend: true` is Suspended, nothing runs);
 *  3. run the body, which returns an outcome (expected failures are status);
 *  4. drop the outcome if a newer definition superseded this reconcile;
 *  5. record the artifact and the status (with timings) once;
 *  6. on success, add the objects the body produced to the store, where
 *     they are reconciled in turn.
 */
import type { KubeObject } from "../flux/objects.js";
import type { TypedKind, TypedObject } from "../flux/schema.js";
import { publishProduced } from "../store/produced.js";
import type { Artifact, StoreEntry } from "../store/store.js";
import type { Status } from "../store/status.js";
import { isSuspended, parseEntry } from "../store/typed.js";
import type { RunContext } from "./context.js";
import type { Controller } from "./manager.js";

/** Objects a reconcile produced, to be added to the store. */
export interface Produced {
  objects: KubeObject[];
  /** Namespace of objects that have none (the producer's targetNamespace, else its own). */
  defaultNamespace: string;
  /** The file each object came from, in the same order, where known. */
  files?: ReadonlyArray<string | undefined>;
  /** The line in that file each object starts on, where known. */
  lines?: ReadonlyArray<number | undefined>;
}

/** What a body returns: a status, and on success its artifact and produced objects. */
export type Outcome = Status & { artifact?: Artifact; produced?: Produced };

/** A controller's body for one or more kinds. */
export interface Reconciler<K extends TypedKind> {
  readonly kinds: readonly K[];
  /** Called with the object typed, after the suspend gate. */
  reconcile(object: TypedObject<K>, entry: StoreEntry, generation: number): Promise<Outcome>;
  /** Turn an error the body threw into an outcome; rethrow what is a bug. */
  recover?(err: unknown): Outcome;
}

export function harness<K extends TypedKind>(ctx: RunContext, body: Reconciler<K>): Controller {
  return {
    kinds: body.kinds,
    async reconcile(entry: StoreEntry, generation: number): Promise<void> {
      const startedAt = Date.now();
      const outcome = await run(body, entry, generation);
      if (entry.generation !== generation) return; // superseded by a newer definition
      const { artifact, produced, ...status } = outcome;
      if (artifact) ctx.store.setArtifact(entry.ref, artifact);
      ctx.store.setStatus(entry.ref, { ...status, startedAt, finishedAt: Date.now() });
      if (produced && status.phase === "Ready") publishProduced(ctx.store, entry.key, produced);
    },
  };
}

async function run<K extends TypedKind>(
  body: Reconciler<K>,
  entry: StoreEntry,
  generation: number,
): Promise<Outcome> {
  const kind = entry.ref.kind as K;
  const parsed = parseEntry(entry, kind);
  if (!parsed.ok) {
    return {
      phase: "Failed",
      reason: "InvalidObject",
      message: `invalid ${kind}: ${parsed.error}`,
    };
  }
  if (isSuspended(entry)) {
    return { phase: "Suspended", reason: "Suspended", message: "spec.suspend is true" };
  }
  try {
    return await body.reconcile(parsed.object, entry, generation);
  } catch (err) {
    if (body.recover) return body.recover(err);
    throw err;
  }
}
