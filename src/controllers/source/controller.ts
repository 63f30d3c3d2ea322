/**
 * The Source controller: resolves each source object to a local directory and
 * a revision. `--sources` mappings and the local checkout come first; other
 * GitRepositories and OCIRepositories are fetched into the source cache by
 * their fetcher (git.ts, oci.ts) on the manager's bounded queue; Buckets and
 * ExternalArtifacts can only be mapped. A failure is status (ArtifactFailed)
 * on the source, which its consumers report as their root cause.
 */
import { stat } from "node:fs/promises";
import { refDisplay, SOURCE_KINDS } from "../../flux/objects.js";
import type { StoreEntry } from "../../store/store.js";
import { errorMessage } from "../../util/errors.js";
import { findSourceMapping, type RunContext } from "../context.js";
import type { Reconciler } from "../harness.js";
import type { TypedObject } from "../../flux/schema.js";
import type { SourceOutcome, SourceFetcher } from "./fetching.js";
import { GitFetcher } from "./git.js";
import { OciFetcher } from "./oci.js";

export const LOCAL_REVISION = "local";

export interface SourceControllerOptions {
  /** Replace the fetchers by kind (tests); production uses git and OCI. */
  fetchers?: SourceFetcher[];
}

type SourceKind = (typeof SOURCE_KINDS)[number];

export class SourceController implements Reconciler<SourceKind> {
  readonly kinds = SOURCE_KINDS;
  private readonly fetchers = new Map<string, SourceFetcher>();

  constructor(
    private readonly ctx: RunContext,
    options: SourceControllerOptions = {},
  ) {
    for (const fetcher of options.fetchers ?? [new GitFetcher(ctx), new OciFetcher(ctx)]) {
      this.fetchers.set(fetcher.kind, fetcher);
    }
  }

  /** Loading --secret-file failed: every source that fetches reports it. */
  recover(err: unknown): SourceOutcome {
    return { phase: "Failed", reason: "ArtifactFailed", message: errorMessage(err) };
  }

  async reconcile(
    source: TypedObject<SourceKind>,
    entry: StoreEntry,
    generation: number,
  ): Promise<SourceOutcome> {
    const { ref } = entry;
    if (ref.kind === "HelmRepository" || ref.kind === "HelmChart") {
      // Charts are fetched by the HelmRelease controller, which knows the version.
      return { phase: "Ready", reason: "ReconciliationSucceeded", message: "" };
    }
    const mapping = findSourceMapping(this.ctx.options.sources, ref.kind, ref.namespace, ref.name);
    if (mapping) {
      try {
        if (!(await stat(mapping.path)).isDirectory()) throw new Error("not a directory");
      } catch {
        return {
          phase: "Failed",
          reason: "ArtifactFailed",
          message: `--sources ${mapping.selector}=${mapping.path}: not a directory`,
        };
      }
      return {
        phase: "Ready",
        reason: "ReconciliationSucceeded",
        message: `mapped to ${mapping.path}`,
        artifact: { type: "source", revision: LOCAL_REVISION, path: mapping.path, local: true },
      };
    }
    if (ref.kind === "GitRepository" && this.ctx.localGitRepositories.has(entry.key)) {
      return {
        phase: "Ready",
        reason: "ReconciliationSucceeded",
        message: "local checkout",
        artifact: {
          type: "source",
          revision: LOCAL_REVISION,
          path: this.ctx.options.repoRoot,
          local: true,
          ...(source.kind === "GitRepository" ? { url: source.spec.url } : {}),
        },
      };
    }
    const fetcher = this.fetchers.get(ref.kind);
    if (fetcher) return fetcher.fetch(entry, generation);
    const why =
      ref.kind === "Bucket"
        ? "buckets are not fetched by flux-local"
        : ref.kind === "ExternalArtifact"
          ? "an ExternalArtifact is produced in the cluster by another controller"
          : `${ref.kind} is not fetched by flux-local`;
    return {
      phase: "Failed",
      reason: "ArtifactFailed",
      message: `${refDisplay(ref)}: ${why}; map it to a local directory with --sources ${ref.name}=PATH`,
    };
  }
}
