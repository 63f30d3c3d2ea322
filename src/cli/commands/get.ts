/**
 * `flux-local get ks|hr|cluster`: what the repository defines, as flux-local
 * printed it (tables, or `-o yaml|json`).
 */
import { Command, Option } from "commander";
import { FLUX_GROUPS, isConfigMap, isSecret, type KubeObject } from "../../flux/objects.js";
import type { RenderResult } from "../../pipeline.js";
import type { StoreEntry } from "../../store/store.js";
import { helmReleaseInfos, type HelmReleaseInfo } from "../../query/helmreleases.js";
import {
  countHelmRepos,
  countOciRepos,
  countReleases,
  kustomizationInfos,
  ofKind,
  type KustomizationInfo,
} from "../../query/kustomizations.js";
import { emit, toJson, toYaml } from "../format/output.js";
import { formatTable } from "../format/table.js";
import {
  addCommonOptions,
  addSelectionOptions,
  renderRequest,
  selectionOf,
  type CommonOptions,
  type SelectionOptions,
} from "../options.js";
import { finish, startRun } from "../run.js";

type GetOptions = CommonOptions & SelectionOptions & { output?: string; skipSecrets?: boolean };

function outputOption(choices: string[]): Option {
  return new Option("-o, --output <format>", "output format").choices(choices);
}

export function getCommand(setExit: (code: number) => void): Command {
  const get = new Command("get").description("list the objects the repository defines");

  for (const alias of ["ks", "ks-new"]) {
    const cmd = new Command(alias)
      .description("list Kustomizations")
      .argument("[name]", "only this Kustomization")
      .addOption(outputOption(["table", "wide", "yaml", "json"]).default("table"));
    if (alias !== "ks") cmd.alias("kustomization").description("same as `get ks`");
    addSelectionOptions(addCommonOptions(cmd)).action(
      async (name: string | undefined, opts: GetOptions) => {
        const result = await startRun(opts, renderRequest(opts));
        const infos = kustomizationInfos(result, selectionOf(opts, name), process.cwd());
        await emit(formatKustomizations(infos, opts));
        setExit(
          finish(
            result,
            withFailedKustomizations(
              result,
              infos.map((i) => i.entry),
            ),
          ),
        );
      },
    );
    get.addCommand(cmd, alias === "ks" ? {} : { hidden: true });
  }

  for (const alias of ["hr", "hr-new"]) {
    const cmd = new Command(alias)
      .description("list HelmReleases")
      .argument("[name]", "only this HelmRelease")
      .addOption(outputOption(["table", "wide", "yaml", "json"]).default("table"));
    addSelectionOptions(addCommonOptions(cmd)).action(
      async (name: string | undefined, opts: GetOptions) => {
        const result = await startRun(opts, renderRequest(opts));
        const infos = helmReleaseInfos(result, selectionOf(opts, name));
        await emit(formatHelmReleases(infos, opts));
        setExit(
          finish(
            result,
            withFailedKustomizations(
              result,
              infos.map((i) => i.entry),
            ),
          ),
        );
      },
    );
    get.addCommand(cmd, alias === "hr" ? {} : { hidden: true });
  }

  const cluster = new Command("cluster")
    .description("list the cluster at --path and what its Kustomizations define")
    .addOption(outputOption(["table", "yaml", "json"]).default("table"))
    .option("--skip-secrets", "leave Secrets out of -o yaml|json (default)", true)
    .option("--no-skip-secrets", "include Secrets in -o yaml|json");
  addSelectionOptions(addCommonOptions(cluster)).action(async (opts: GetOptions) => {
    const result = await startRun(opts, renderRequest(opts));
    const infos = kustomizationInfos(result, selectionOf(opts), process.cwd());
    await emit(formatCluster(result, infos, opts));
    setExit(
      finish(
        result,
        withFailedKustomizations(
          result,
          infos.map((i) => i.entry),
        ),
      ),
    );
  });
  get.addCommand(cluster);
  return get;
}

/**
 * The entries whose failures a listing reports: the listed objects, plus every
 * Kustomization that failed (whatever its namespace), because what it would
 * have produced (HelmReleases, further Kustomizations) is missing from the
 * listing. Without them `get hr` printed "no HelmRelease objects found" and
 * exited 0 when the Kustomization holding the releases could not be built.
 */
function withFailedKustomizations(
  result: RenderResult,
  listed: readonly StoreEntry[],
): StoreEntry[] {
  const keys = new Set(listed.map((e) => e.key));
  const failed = result.store
    .list("Kustomization")
    .filter((e) => e.status.phase === "Failed" && !keys.has(e.key));
  return [...listed, ...failed];
}

function formatKustomizations(infos: KustomizationInfo[], opts: GetOptions): string {
  if (opts.output === "yaml" || opts.output === "json") {
    const data = infos.map((i) => ({
      name: i.name,
      namespace: i.namespace,
      path: i.path,
      status: statusOf(i),
    }));
    return opts.output === "yaml" ? toYaml(data) : `${toJson(data)}\n`;
  }
  if (infos.length === 0) return "no Kustomization objects found in cluster\n";
  const all = opts.allNamespaces === true || opts.all === true;
  const wide = opts.output === "wide";
  const headers = [
    ...(all ? ["NAMESPACE"] : []),
    "NAME",
    "PATH",
    ...(wide ? ["HELMREPOS", "OCIREPOS", "RELEASES"] : []),
  ];
  const rows = infos.map((i) => [
    ...(all ? [i.namespace] : []),
    i.name,
    i.path,
    ...(wide
      ? [
          String(countHelmRepos(i.objects)),
          String(countOciRepos(i.objects)),
          String(countReleases(i.objects)),
        ]
      : []),
  ]);
  return formatTable(headers, rows);
}

function statusOf(info: KustomizationInfo) {
  const s = info.entry.status;
  return { phase: s.phase, reason: s.reason, ...(s.message ? { message: s.message } : {}) };
}

function formatHelmReleases(infos: HelmReleaseInfo[], opts: GetOptions): string {
  if (opts.output === "yaml" || opts.output === "json") {
    const data = infos.map((i) => ({
      name: i.name,
      namespace: i.namespace,
      chart: {
        name: i.chartName,
        version: i.version ?? null,
        repo_name: i.repoName,
        repo_namespace: i.repoNamespace,
        repo_kind: i.repoKind,
      },
    }));
    return opts.output === "yaml" ? toYaml(data) : `${toJson(data)}\n`;
  }
  if (infos.length === 0) return "no HelmRelease objects found in cluster\n";
  const all = opts.allNamespaces === true || opts.all === true;
  const headers = [...(all ? ["NAMESPACE"] : []), "NAME", "REVISION", "CHART", "SOURCE"];
  const rows = infos.map((i) => [
    ...(all ? [i.namespace] : []),
    i.name,
    i.version ?? "None",
    `${i.namespace}-${i.chartName}`,
    i.repoName,
  ]);
  return formatTable(headers, rows);
}

function clusterPath(opts: GetOptions): string {
  return opts.path.replace(/\/+$/, "") || ".";
}

function nameNamespace(objects: KubeObject[], fallback: string) {
  return objects.map((o) => ({
    name: o.metadata?.name ?? "",
    namespace: o.metadata?.namespace ?? fallback,
  }));
}

function formatCluster(result: RenderResult, infos: KustomizationInfo[], opts: GetOptions): string {
  if (opts.output !== "yaml" && opts.output !== "json") {
    return formatTable(["PATH", "KUSTOMIZATIONS"], [[clusterPath(opts), String(infos.length)]]);
  }
  const hrInfos = helmReleaseInfos(result, { namespace: "", allNamespaces: true, labels: {} });
  const kustomizations = infos.map((info) => {
    const ns = info.namespace;
    const releases = hrInfos.filter((h) => h.entry.origin.producer === info.entry.key);
    return {
      name: info.name,
      namespace: ns,
      path: info.path,
      helm_repos: ofKind(info.objects, FLUX_GROUPS.source, "HelmRepository").map((o) => {
        const spec = (o.spec ?? {}) as { url?: string; type?: string };
        return {
          name: o.metadata?.name ?? "",
          namespace: o.metadata?.namespace ?? ns,
          url: spec.url ?? "",
          repo_type: spec.type ?? "default",
        };
      }),
      oci_repos: ofKind(info.objects, FLUX_GROUPS.source, "OCIRepository").map((o) => {
        const spec = (o.spec ?? {}) as { url?: string; ref?: unknown };
        return {
          name: o.metadata?.name ?? "",
          namespace: o.metadata?.namespace ?? ns,
          url: spec.url ?? "",
          ref: spec.ref ?? null,
        };
      }),
      helm_releases: releases.map((h) => ({
        name: h.name,
        namespace: h.namespace,
        chart: {
          name: h.chartName,
          repo_name: h.repoName,
          repo_namespace: h.repoNamespace,
          repo_kind: h.repoKind,
        },
      })),
      config_maps: nameNamespace(info.objects.filter(isConfigMap), ns),
      secrets: opts.skipSecrets === false ? nameNamespace(info.objects.filter(isSecret), ns) : [],
      helm_chart_sources: ofKind(info.objects, FLUX_GROUPS.source, "HelmChart").map((o) => ({
        name: o.metadata?.name ?? "",
        namespace: o.metadata?.namespace ?? ns,
      })),
    };
  });
  const data = { clusters: [{ path: clusterPath(opts), kustomizations }] };
  return opts.output === "yaml" ? `---\n${toYaml(data)}` : toJson(data);
}
