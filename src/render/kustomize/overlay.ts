/**
 * Applying a Flux Kustomization spec to a kustomization document, as
 * kustomize-controller's generator does: it edits the kustomization in place
 * (never as an outer layer), so images merge by name and patches append.
 * Pure: a document in, a new document out.
 */
import type { Kustomization } from "../../flux/schema.js";

type KustomizeDoc = Record<string, unknown>;
type FluxSpec = Kustomization["spec"];

function selector(
  target: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (!target) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of [
    "group",
    "version",
    "kind",
    "name",
    "namespace",
    "labelSelector",
    "annotationSelector",
  ]) {
    const value = target[key];
    if (typeof value === "string" && value !== "") out[key] = value;
  }
  return out;
}

function list(doc: KustomizeDoc, key: string): unknown[] {
  const value = doc[key];
  return Array.isArray(value) ? [...(value as unknown[])] : [];
}

export interface OverlayOptions {
  /** Components that exist; with ignoreMissingComponents the others are dropped. */
  existingComponents?: ReadonlySet<string>;
}

export function applyFluxSpec(
  original: KustomizeDoc,
  spec: FluxSpec,
  options: OverlayOptions = {},
): KustomizeDoc {
  const doc: KustomizeDoc = { ...original };
  if (spec.targetNamespace) doc.namespace = spec.targetNamespace;
  if (spec.namePrefix) doc.namePrefix = spec.namePrefix;
  if (spec.nameSuffix) doc.nameSuffix = spec.nameSuffix;

  if (spec.patches?.length) {
    const patches = list(doc, "patches");
    for (const p of spec.patches) {
      const entry: Record<string, unknown> = { patch: p.patch };
      const target = selector(p.target);
      if (target) entry.target = target;
      patches.push(entry);
    }
    doc.patches = patches;
  }

  if (spec.patchesStrategicMerge?.length) {
    const patches = list(doc, "patchesStrategicMerge");
    for (const p of spec.patchesStrategicMerge) patches.push(JSON.stringify(p));
    doc.patchesStrategicMerge = patches;
  }

  if (spec.patchesJson6902?.length) {
    const patches = list(doc, "patchesJson6902");
    for (const p of spec.patchesJson6902) {
      patches.push({ patch: JSON.stringify(p.patch), target: selector(p.target) });
    }
    doc.patchesJson6902 = patches;
  }

  if (spec.images?.length) {
    const images = list(doc, "images") as Array<Record<string, unknown>>;
    for (const image of spec.images) {
      // Flux replaces a same-named entry as a unit (newTag and digest together).
      const replacement: Record<string, unknown> = { name: image.name };
      if (image.newName) replacement.newName = image.newName;
      if (image.newTag) replacement.newTag = image.newTag;
      if (image.digest) replacement.digest = image.digest;
      const index = images.findIndex((existing) => existing.name === image.name);
      if (index >= 0) images[index] = replacement;
      else images.push(replacement);
    }
    doc.images = images;
  }

  if (spec.components?.length) {
    const components = list(doc, "components");
    for (const component of spec.components) {
      if (
        spec.ignoreMissingComponents &&
        options.existingComponents &&
        !options.existingComponents.has(component)
      ) {
        continue;
      }
      components.push(component);
    }
    doc.components = components;
  }
  return doc;
}
