/**
 * Which HelmReleases a diff must render. A release whose definition, values
 * sources (`valuesFrom` ConfigMaps and Secrets) and chart source are the same
 * on both sides renders the same output: it is reported unchanged without
 * fetching its chart or running helm on either side (as flux-local did). A
 * chart in the local checkout is compared by the digests of its files.
 */
import path from "node:path";
import type { RenderResult } from "../run.js";
import { chartFiles, kustomizationFiles, stableJson } from "../render/inputs.js";
import type { StoreEntry } from "../store/store.js";

interface ChartRef {
  kind: string;
  namespace: string;
  name: string;
  /** For GitRepository/Bucket sources: the chart folder inside the source. */
  chart?: string;
  valuesFiles: string[];
}

function chartRefOf(entry: StoreEntry): ChartRef | undefined {
  const spec = (entry.object.spec ?? {}) as {
    chart?: {
      spec?: {
        chart?: string;
        sourceRef?: { kind?: string; name?: string; namespace?: string };
        valuesFiles?: string[];
        valuesFile?: string;
      };
    };
    chartRef?: { kind?: string; name?: string; namespace?: string };
  };
  const ns = entry.ref.namespace;
  const tpl = spec.chart?.spec;
  if (tpl?.sourceRef?.kind && tpl.sourceRef.name) {
    return {
      kind: tpl.sourceRef.kind,
      namespace: tpl.sourceRef.namespace ?? ns,
      name: tpl.sourceRef.name,
      ...(tpl.chart ? { chart: tpl.chart } : {}),
      valuesFiles: [...(tpl.valuesFile ? [tpl.valuesFile] : []), ...(tpl.valuesFiles ?? [])],
    };
  }
  if (spec.chartRef?.kind && spec.chartRef.name) {
    return {
      kind: spec.chartRef.kind,
      namespace: spec.chartRef.namespace ?? ns,
      name: spec.chartRef.name,
      valuesFiles: [],
    };
  }
  return undefined;
}

function definition(result: RenderResult | undefined, key: string): string {
  const entry = result?.store.get(key);
  return entry ? stableJson(entry.object) : "";
}

/** Digests of a chart folder (and values files) in a local source; "" when not local. */
async function localChart(result: RenderResult | undefined, ref: ChartRef): Promise<string> {
  if (!result || !ref.chart) return "";
  const source = result.store.get(`${ref.kind}/${ref.namespace}/${ref.name}`);
  const artifact = source?.artifact;
  if (artifact?.type !== "source" || !artifact.local) return "";
  const root = artifact.path;
  const files = await chartFiles(path.resolve(root, ref.chart)).catch(() => ({}));
  const values = await kustomizationFiles(root, root, { resources: ref.valuesFiles });
  return stableJson({ files, values });
}

/** What a release's render depends on, as comparable text. */
async function dependencies(result: RenderResult | undefined, entry: StoreEntry): Promise<string> {
  const parts: string[] = [definition(result, entry.key)];
  const spec = (entry.object.spec ?? {}) as {
    valuesFrom?: Array<{ kind?: string; name?: string }>;
  };
  for (const ref of spec.valuesFrom ?? []) {
    parts.push(definition(result, `${ref.kind ?? ""}/${entry.ref.namespace}/${ref.name ?? ""}`));
  }
  const chart = chartRefOf(entry);
  if (chart) {
    const sourceKey = `${chart.kind}/${chart.namespace}/${chart.name}`;
    parts.push(definition(result, sourceKey));
    const source = result?.store.get(sourceKey);
    if (chart.kind === "HelmChart" && source) {
      // A HelmChart points at a source in turn.
      const inner = chartRefOf({
        ...source,
        object: { spec: { chart: { spec: source.object.spec } } },
      });
      if (inner) {
        parts.push(definition(result, `${inner.kind}/${inner.namespace}/${inner.name}`));
        parts.push(await localChart(result, inner));
      }
    }
    parts.push(await localChart(result, chart));
  }
  return stableJson(parts);
}

/**
 * Keys of the selected HelmReleases whose render may differ between the sides
 * (present on one side only, or any input above differs).
 */
export async function releasesToRender(
  before: RenderResult | undefined,
  after: RenderResult,
  selected: (entry: StoreEntry) => boolean,
): Promise<Set<string>> {
  const keys = new Set<string>();
  const all = new Map<string, StoreEntry>();
  for (const entry of [
    ...(before?.store.list("HelmRelease") ?? []),
    ...after.store.list("HelmRelease"),
  ]) {
    if (selected(entry)) all.set(entry.key, entry);
  }
  for (const [key] of all) {
    const b = before?.store.get(key);
    const a = after.store.get(key);
    if (!a || !b) {
      keys.add(key);
      continue;
    }
    const [x, y] = await Promise.all([dependencies(before, b), dependencies(after, a)]);
    if (x !== y) keys.add(key);
  }
  return keys;
}
