/**
 * What `get hr` shows about HelmReleases: chart, version and source, following
 * `chart.spec.sourceRef` or `chartRef` (through a HelmChart when it is one).
 */
import type { RenderResult } from "../run.js";
import type { StoreEntry } from "../store/store.js";
import { typed } from "../store/typed.js";
import { selectEntries, type Selection } from "./select.js";

export interface HelmReleaseInfo {
  entry: StoreEntry;
  name: string;
  namespace: string;
  chartName: string;
  version: string | undefined;
  repoName: string;
  repoNamespace: string;
  repoKind: string;
}

export function helmReleaseInfo(result: RenderResult, entry: StoreEntry): HelmReleaseInfo {
  const spec = typed(entry, "HelmRelease")?.spec;
  const { namespace, name } = entry.ref;
  const base = { entry, name, namespace };
  if (spec?.chartRef) {
    const ref = spec.chartRef;
    const refNamespace = ref.namespace ?? namespace;
    if (ref.kind === "HelmChart") {
      const chart = typed(
        result.store.get({ kind: "HelmChart", namespace: refNamespace, name: ref.name }),
        "HelmChart",
      )?.spec;
      return {
        ...base,
        chartName: chart?.chart ?? ref.name,
        version: chart?.version,
        repoName: chart?.sourceRef.name ?? ref.name,
        repoNamespace: chart?.sourceRef.namespace ?? refNamespace,
        repoKind: chart?.sourceRef.kind ?? "HelmChart",
      };
    }
    return {
      ...base,
      chartName: ref.name,
      version: undefined,
      repoName: ref.name,
      repoNamespace: refNamespace,
      repoKind: ref.kind,
    };
  }
  const chart = spec?.chart?.spec;
  return {
    ...base,
    chartName: chart?.chart ?? "",
    version: chart?.version,
    repoName: chart?.sourceRef.name ?? "",
    repoNamespace: chart?.sourceRef.namespace ?? namespace,
    repoKind: chart?.sourceRef.kind ?? "HelmRepository",
  };
}

/**
 * HelmReleases in the order their Kustomizations (sorted by name) produced them,
 * which is the order flux-local listed them in.
 */
export function helmReleaseInfos(result: RenderResult, selection: Selection): HelmReleaseInfo[] {
  const selected = new Set(selectEntries(result, "HelmRelease", selection).map((e) => e.key));
  const producers = result.store
    .list("Kustomization")
    .map((k) => k.key)
    .sort();
  const rank = new Map(producers.map((key, i) => [key, i]));
  const entries = result.store.list("HelmRelease").filter((e) => selected.has(e.key));
  const ordered = entries
    .map((entry, index) => ({
      entry,
      index,
      producer: rank.get(entry.origin.producer ?? "") ?? -1,
    }))
    .sort((a, b) => a.producer - b.producer || a.index - b.index)
    .map((x) => x.entry);
  return ordered.map((entry) => helmReleaseInfo(result, entry));
}
