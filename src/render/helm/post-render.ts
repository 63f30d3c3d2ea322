/**
 * HelmRelease `spec.postRenderers`: each kustomize post-renderer (patches,
 * legacy strategic-merge and JSON 6902 patches, images) applied in order to
 * the rendered objects with the real kustomize, as helm-controller does.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { dumpYaml, dumpYamlStream, parseYamlDocuments } from "../../discovery/yaml.js";
import type { KubeObject } from "../../flux/objects.js";
import type { Kustomization } from "../../flux/schema.js";
import { RenderError } from "../../util/errors.js";
import { applyFluxSpec } from "../kustomize/overlay.js";
import { KustomizeFailure, ProcessRunner, type KustomizeRunner } from "../kustomize/runner.js";

/** The kustomize part of a post-renderer (the same fields as a Flux Kustomization's). */
export type KustomizePostRenderer = Pick<
  Kustomization["spec"],
  "patches" | "patchesStrategicMerge" | "patchesJson6902" | "images"
>;

/** The kustomization document for one post-renderer over `resources.yaml` (pure). */
export function postRenderKustomization(spec: KustomizePostRenderer): Record<string, unknown> {
  const base = {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    resources: ["resources.yaml"],
    // Keep helm's order of objects.
    sortOptions: { order: "fifo" },
  };
  return applyFluxSpec(base, { ...spec, sourceRef: { kind: "HelmRelease", name: "post-render" } });
}

export interface PostRenderContext {
  scratchDir: string;
  signal?: AbortSignal;
  /** Who runs kustomize (the run's worker pool); default: one process per build. */
  runner?: KustomizeRunner;
}

export async function postRender(
  objects: KubeObject[],
  renderers: readonly KustomizePostRenderer[],
  context: PostRenderContext,
): Promise<KubeObject[]> {
  let current = objects;
  for (const [index, renderer] of renderers.entries()) {
    if (current.length === 0) break;
    const dir = await mkdtemp(path.join(context.scratchDir, "post-render-"));
    try {
      await writeFile(path.join(dir, "resources.yaml"), dumpYamlStream(current));
      await writeFile(
        path.join(dir, "kustomization.yaml"),
        dumpYaml(postRenderKustomization(renderer)),
      );
      let stdout: string;
      try {
        stdout = await (context.runner ?? new ProcessRunner()).build(dir, {
          loadRestrictionsNone: false,
          signal: context.signal,
        });
      } catch (err) {
        if (err instanceof KustomizeFailure) {
          const detail = err.message.split(dir).join(".");
          throw new RenderError(`postRenderers[${index}]: kustomize failed: ${detail}`, {
            cause: err,
          });
        }
        throw err;
      }
      const parsed = parseYamlDocuments(stdout);
      const bad = parsed.errors[0];
      if (bad)
        throw new RenderError(
          `postRenderers[${index}]: kustomize produced invalid YAML: ${bad.message}`,
        );
      current = parsed.documents.map((d) => d.object);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return current;
}
