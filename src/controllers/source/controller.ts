/**
 * The Source controller: resolves each source object to a local directory.
 * For now: the local checkout (the bootstrap GitRepository and those proven to
 * be the same repository) and `--sources` mappings; other sources fail with a
 * message that says how to map them.
 */
import { stat } from "node:fs/promises";
import type { StoreEntry } from "../../store/store.js";
import type { Status } from "../../store/status.js";
import { refDisplay } from "../../flux/objects.js";
import { findSourceMapping, type RunContext } from "../context.js";
import type { Controller } from "../manager.js";

export const SOURCE_KINDS = [
  "GitRepository",
  "OCIRepository",
  "Bucket",
  "ExternalArtifact",
  "HelmRepository",
  "HelmChart",
] as const;

/** Sources that hold manifests (what a Kustomization may point at). */
export const ARTIFACT_SOURCE_KINDS = new Set([
  "GitRepository",
  "OCIRepository",
  "Bucket",
  "ExternalArtifact",
]);

export const LOCAL_REVISION = "local";

export class SourceController implements Controller {
  readonly kinds = SOURCE_KINDS;

  constructor(private readonly ctx: RunContext) {}

  async reconcile(entry: StoreEntry, generation: number): Promise<void> {
    const status = await this.resolve(entry);
    if (entry.generation !== generation) return;
    this.ctx.store.setStatus(entry.ref, status);
  }

  private async resolve(entry: StoreEntry): Promise<Status> {
    const { ref } = entry;
    const spec = (entry.object.spec ?? {}) as Record<string, unknown>;
    if (spec.suspend === true) {
      return { phase: "Suspended", reason: "Suspended", message: "spec.suspend is true" };
    }
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
      this.ctx.store.setArtifact(ref, {
        type: "source",
        revision: LOCAL_REVISION,
        path: mapping.path,
        local: true,
      });
      return {
        phase: "Ready",
        reason: "ReconciliationSucceeded",
        message: `mapped to ${mapping.path}`,
      };
    }
    if (ref.kind === "GitRepository" && this.ctx.localGitRepositories.has(entry.key)) {
      this.ctx.store.setArtifact(ref, {
        type: "source",
        revision: LOCAL_REVISION,
        path: this.ctx.options.repoRoot,
        local: true,
        url: typeof spec.url === "string" ? spec.url : undefined,
      });
      return { phase: "Ready", reason: "ReconciliationSucceeded", message: "local checkout" };
    }
    const url = typeof spec.url === "string" ? ` (${spec.url})` : "";
    return {
      phase: "Failed",
      reason: "ArtifactFailed",
      message: `${refDisplay(ref)}${url} is not available offline: map it to a local directory with --sources ${ref.name}=PATH`,
    };
  }
}
