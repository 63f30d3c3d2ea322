/**
 * Waiting for what an object needs before it is reconciled, shared by the
 * Kustomization and HelmRelease controllers: the objects its `dependsOn`
 * names, and the artifact of its source. Waits go through the manager (store
 * events, never polling); a dependency that ends other than Ready becomes the
 * failure of the waiting object, with the dependency (or the dependency's own
 * root cause) as root cause.
 */
import { checkReadyExpr } from "../flux/cel.js";
import { refDisplay, refString, type ObjectRef } from "../flux/objects.js";
import type { DependsOnRef } from "../flux/schema.js";
import type { SourceArtifact, StoreEntry } from "../store/store.js";
import type { Reason, Status } from "../store/status.js";
import { findSourceMapping, type RunContext } from "./context.js";
import { LOCAL_REVISION } from "./source/controller.js";

/** How the failure of a dependency that is not Ready reads. */
export interface NotReadyOptions {
  /** The reason of the failure (default DependencyNotReady). */
  reason?: Reason;
  /**
   * Tell a dependency cycle the waiting object is part of, and a dependency
   * that does not exist, from a dependency that failed (default true).
   */
  classify?: boolean;
  /**
   * Repeat the dependency's message even when it has a root cause, which is
   * reported with its own message (default false: say only what failed).
   */
  repeatMessage?: boolean;
}

/** The failure of `waiter` whose dependency (`what`, stored as `key`) ended with `status`. */
export function dependencyFailure(
  what: string,
  key: string,
  status: Status,
  waiter: string,
  options: NotReadyOptions = {},
): Status {
  const { reason = "DependencyNotReady", classify = true, repeatMessage = false } = options;
  if (classify) {
    // Members of a cycle report the cycle; objects that merely depend on one
    // report their dependency, with the cycle as root cause.
    if (status.reason === "DependencyCycle" && status.message.includes(`${waiter} ->`)) {
      return { phase: "Failed", reason: "DependencyCycle", message: status.message };
    }
    if (status.reason === "DependencyNotFound") {
      return {
        phase: "Failed",
        reason: "DependencyNotFound",
        message: `${what} not found`,
        rootCause: key,
      };
    }
  }
  const detail =
    status.message && (repeatMessage || !status.rootCause) ? `: ${status.message}` : "";
  return {
    phase: "Failed",
    reason,
    message: `${what} is ${status.phase.toLowerCase()}${detail}`,
    rootCause: status.rootCause ?? key,
  };
}

/**
 * The failure of an object whose `dependsOn[].readyExpr` Flux would not
 * compile (invalid CEL, unknown variables, not a bool), before any waiting.
 * Valid expressions are not evaluated: offline there is no cluster state, so a
 * dependency counts as ready when it rendered.
 */
export function invalidReadyExpr(
  dependsOn: readonly DependsOnRef[] | undefined,
): Status | undefined {
  for (const [i, dep] of (dependsOn ?? []).entries()) {
    if (dep.readyExpr === undefined) continue;
    const error = checkReadyExpr(dep.readyExpr);
    if (error) {
      return {
        phase: "Failed",
        reason: "InvalidObject",
        message: `spec.dependsOn[${i}].readyExpr: ${error}`,
      };
    }
  }
  return undefined;
}

/**
 * Wait for the `dependsOn` objects (of `kind`, in the entry's namespace unless
 * they name one), in order: the failure of the first that is not Ready, or
 * undefined when all are. An invalid `readyExpr` fails at once.
 */
export async function awaitDependencies(
  ctx: RunContext,
  entry: StoreEntry,
  kind: string,
  dependsOn: readonly DependsOnRef[] | undefined,
  options: NotReadyOptions = {},
): Promise<Status | undefined> {
  const invalid = invalidReadyExpr(dependsOn);
  if (invalid) return invalid;
  for (const dep of dependsOn ?? []) {
    const ref: ObjectRef = {
      kind,
      namespace: dep.namespace ?? entry.ref.namespace,
      name: dep.name,
    };
    const status = await ctx.manager.awaitReady(ref, entry.key);
    // Left out by --sources: not part of this run, so it holds nothing up.
    if (status.phase === "Skipped" && status.reason === "NotInSources") continue;
    if (status.phase !== "Ready") {
      return dependencyFailure(
        `dependency ${refDisplay(ref)}`,
        refString(ref),
        status,
        entry.key,
        options,
      );
    }
  }
  return undefined;
}

/**
 * The artifact of a source of files (a GitRepository, OCIRepository, Bucket
 * ...), once it is Ready. A source defined nowhere is a `--sources` mapping,
 * or, for a GitRepository, this checkout; otherwise it is not found. `what`
 * names the source in messages.
 */
export async function awaitSourceArtifact(
  ctx: RunContext,
  entry: StoreEntry,
  ref: ObjectRef,
  what: string,
  notReady: NotReadyOptions = {},
): Promise<SourceArtifact | Status> {
  const key = refString(ref);
  const present = await ctx.manager.awaitPresence(ref, entry.key);
  if (!present) {
    const mapping = findSourceMapping(ctx.options.sources, ref.kind, ref.namespace, ref.name);
    if (mapping?.path !== undefined)
      return { type: "source", revision: LOCAL_REVISION, path: mapping.path, local: true };
    if (ref.kind === "GitRepository") {
      // Bootstrap source aliasing: a GitRepository defined nowhere in the
      // repository (created by bootstrap or a FluxInstance) is this checkout.
      return { type: "source", revision: LOCAL_REVISION, path: ctx.options.repoRoot, local: true };
    }
    return {
      phase: "Failed",
      reason: "SourceNotFound",
      message: `${what} not found; map it with --sources ${ref.name}=PATH`,
      rootCause: key,
    };
  }
  const status = await ctx.manager.awaitReady(ref, entry.key);
  const source = ctx.store.get(key);
  if (status.phase !== "Ready" || source?.artifact?.type !== "source") {
    return dependencyFailure(what, key, status, entry.key, {
      reason: "SourceNotReady",
      ...notReady,
    });
  }
  return source.artifact;
}
