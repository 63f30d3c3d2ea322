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
import type { ChartTemplateSpec } from "../flux/schema.js";
import type { StoreEntry } from "../store/store.js";
import { typed } from "../store/typed.js";

interface ChartRef {
  kind: string;
  namespace: string;
  name: string;
  /** For GitRepository/Bucket sources: the chart folder inside the source. */
  chart?: string;
  valuesFiles: string[];
}

/** Where a chart template (a HelmRelease's chart.spec, or a HelmChart's spec) takes its chart from. */
function fromTemplate(
  tpl: Pick<ChartTemplateSpec, "chart" | "sourceRef" | "valuesFiles" | "valuesFile">,
  namespace: string,
): ChartRef {
  return {
    kind: tpl.sourceRef.kind,
    namespace: tpl.sourceRef.namespace ?? namespace,
    name: tpl.sourceRef.name,
    chart: tpl.chart,
    valuesFiles: [...(tpl.valuesFile ? [tpl.valuesFile] : []), ...(tpl.valuesFiles ?? [])],
  };
}

function chartRefOf(entry: StoreEntry): ChartRef | undefined {
  const spec = typed(entry, "HelmRelease")?.spec;
  const ns = entry.ref.namespace;
  if (spec?.chart) return fromTemplate(spec.chart.spec, ns);
  if (spec?.chartRef) {
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
  for (const ref of typed(entry, "HelmRelease")?.spec.valuesFrom ?? []) {
    parts.push(definition(result, `${ref.kind}/${entry.ref.namespace}/${ref.name}`));
  }
  const chart = chartRefOf(entry);
  if (chart) {
    const sourceKey = `${chart.kind}/${chart.namespace}/${chart.name}`;
    parts.push(definition(result, sourceKey));
    const helmChart = typed(result?.store.get(sourceKey), "HelmChart");
    if (helmChart) {
      // A HelmChart points at a source in turn.
      const inner = fromTemplate(helmChart.spec, chart.namespace);
      parts.push(definition(result, `${inner.kind}/${inner.namespace}/${inner.name}`));
      parts.push(await localChart(result, inner));
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
