/**
 * What every controller of one run shares: the store, the manager, the options
 * and where the local checkout is.
 */
import type { ObjectRef } from "../flux/objects.js";
import type { SourceArtifact, Store, StoreEntry } from "../store/store.js";
import type { Status } from "../store/status.js";
import type { ArtifactContext } from "../artifacts/context.js";
import type { RenderStore } from "../render/kustomize/cache.js";
import type { KustomizeRunner } from "../render/kustomize/runner.js";
import type { Manager } from "./manager.js";
import type { RenderMemo } from "../render/memo.js";

export interface SourceMapping {
  /** `name`, `namespace/name` or `Kind/namespace/name`. */
  selector: string;
  /**
   * Absolute local directory. Without one (flux-local's bare `--sources NAME`),
   * the entry only names a source the run is restricted to; a GitRepository
   * named so is this checkout.
   */
  path?: string;
}

export interface RunOptions {
  /** Absolute path the user pointed at (`--path`). */
  path: string;
  /** Root of the local checkout: the git root of `path`, else `path`. */
  repoRoot: string;
  /** Whether `repoRoot` is a git checkout's root (else it is `path`: no git found). */
  inGitCheckout: boolean;
  sources: SourceMapping[];
  strictSubstitute: boolean;
  skipInvalidKustomizationPaths: boolean;
  allowMissingSecrets: boolean;
  concurrency: number;
  /** Parent folder for this run's scratch directories. */
  scratchDir: string;
  /** Root of the on-disk cache shared across runs (sources, charts, renders). */
  cacheDir: string;
  /** `--no-cache`: no render cache (neither read nor written). */
  noCache?: boolean;
  /** Use only the cache: no network (`--offline`). */
  offline: boolean;
  /** Fetch every source, used or not (library callers checking sources themselves). */
  fetchAllSources: boolean;
  /** Hash every cached file on use (`--verify-cache`), not only changed ones. */
  verifyCache?: boolean;
  /** Plain Secret manifests holding source credentials (`--secret-file`). */
  secretFiles: string[];
  /** Input sets for ResourceSets (`--rset-inputs NAME=FILE`, absolute files). */
  rsetInputs: Array<{ selector: string; path: string }>;
  /** Docker config file for registry credentials (`--registry-config`); default: the user's. */
  registryConfig?: string;
  signal?: AbortSignal;
  /** Builds and renders shared by inputs fingerprint (both sides of a diff). */
  renderMemo?: RenderMemo;
}

/** The one object a run was asked for (see RunContext.wanted). */
export interface WantedObject {
  kind: "Kustomization" | "HelmRelease";
  name: string;
  /** Absent: any namespace (`-A`). */
  namespace?: string;
}

/** Is `ref` the object asked for? */
export function isWanted(wanted: WantedObject, ref: ObjectRef): boolean {
  return (
    ref.kind === wanted.kind &&
    ref.name === wanted.name &&
    (wanted.namespace === undefined || ref.namespace === wanted.namespace)
  );
}

export interface RunContext {
  store: Store;
  manager: Manager;
  options: RunOptions;
  /** The artifact fetchers' shared cache, credentials and network switch. */
  artifacts: ArtifactContext;
  /** GitRepositories (store keys) known to be the local checkout. */
  localGitRepositories: Set<string>;
  /**
   * Scanned Kustomizations that another scanned Kustomization will produce (its
   * file lies under that one's spec.path): key -> the expected producer's key.
   * They wait for it, so they are built from the definition Flux would see.
   */
  expectedProducers: Map<string, string>;
  /** Who runs kustomize in this run (the worker pool); default: a process per build. */
  kustomize?: KustomizeRunner;
  /**
   * ExternalArtifacts of the ArtifactGenerators of this run (store key -> the
   * built artifact, or the generator's failure), set before the generator
   * publishes them.
   */
  generatedArtifacts: Map<string, SourceArtifact | Status>;
  /**
   * `build ks NAME`, `build hr NAME`, `get ks NAME`, `get hr NAME`: only this
   * object and what is needed to discover and build it are built (the other
   * Kustomizations are held, and skipped if nothing needs them).
   */
  wanted?: WantedObject;
  /** Cached kustomize output by build key (absent with --no-cache). */
  kustomizeCache?: RenderStore;
  /** Cached helm template output by render key (absent with --no-cache). */
  helmCache?: RenderStore;
}

/** The `--sources` entry naming a source, if any (with or without a path). */
export function findSourceMapping(
  mappings: readonly SourceMapping[],
  kind: string,
  namespace: string,
  name: string,
): SourceMapping | undefined {
  return mappings.find(
    (m) =>
      m.selector === name ||
      m.selector === `${namespace}/${name}` ||
      m.selector === `${kind}/${namespace}/${name}`,
  );
}

/**
 * When `--sources` is given, the run is restricted to Kustomizations built from
 * a listed source (flux-local's semantics): false for the others.
 */
export function inSources(
  mappings: readonly SourceMapping[],
  kind: string,
  namespace: string,
  name: string,
): boolean {
  return mappings.length === 0 || findSourceMapping(mappings, kind, namespace, name) !== undefined;
}

/** The outcome of a reconcile that a newer definition of its object superseded. */
export const SUPERSEDED: Status = {
  phase: "Pending",
  reason: "Progressing",
  message: "superseded",
};

/**
 * Set the progress status before the work of a reconcile (`building`,
 * `rendering`, `fetching`), unless a newer definition superseded it: then
 * the outcome to return instead.
 */
export function startWork(
  ctx: RunContext,
  entry: StoreEntry,
  generation: number,
  message: string,
): Status | undefined {
  if (entry.generation !== generation) return SUPERSEDED;
  ctx.store.setStatus(entry.ref, { phase: "Reconciling", reason: "Progressing", message });
  return undefined;
}
