/**
 * Library entry point: render a Flux repository from TypeScript.
 *
 *   const result = await render({ path: "clusters/prod" });
 *   for (const ks of result.store.list("Kustomization")) console.log(ks.key, ks.status);
 */
export { render, type RenderRequest, type RenderResult, type Issue } from "./run.js";
export {
  Store,
  type StoreEntry,
  type Artifact,
  type SourceArtifact,
  type RenderArtifact,
} from "./store/store.js";
export type { Status, Phase, Reason } from "./store/status.js";
export type { KubeObject, ObjectRef, Origin } from "./flux/objects.js";
export {
  collectFailures,
  formatFailures,
  collectWarnings,
  formatWarnings,
  type Failure,
  type Warning,
} from "./views/failures.js";
export { envsubst, SubstitutionError } from "./render/substitute/envsubst.js";
