/**
 * `flux-local get ks|hr|cluster`: what the repository defines, as flux-local
 * printed it (tables, or `-o yaml|json`).
 */
import { Command, Option } from "commander";
import { FLUX_GROUPS, isConfigMap, isSecret, type KubeObject } from "../../flux/objects.js";
import { KIND_SCHEMAS } from "../../flux/schema.js";
import type { RenderResult } from "../../run.js";
import type { StoreEntry } from "../../store/store.js";
import { helmReleaseInfos, type HelmReleaseInfo } from "../../views/helmreleases.js";
import {
  countHelmRepos,
  countOciRepos,
  compare,
  countReleases,
  displayBase,
  displayPath,
  kustomizationInfos,
  ofKind,
  type KustomizationInfo,
} from "../../views/kustomizations.js";
import { formatData, toJson, toYaml } from "../format/output.js";
import { formatTable } from "../format/table.js";
import { resourceName, statusColumns, statusData } from "../format/status.js";
import { buildTree, renderTree, TREE_KINDS, type TreeNode } from "../../views/tree.js";
import { matches, selectEntries } from "../../views/select.js";
import {
  addCommonOptions,
  addHelmOptions,
  addSelectionOptions,
  checkNameArgument,
  checkNameNotFolder,
  helmRenderOptions,
  renderRequest,
  selectionOf,
  wantedObject,
  type CommonOptions,
  type HelmOptions,
  type SelectionOptions,
} from "../options.js";
import { runListing } from "../run.js";
import { getRsetCommand } from "./get-rset.js";
import { getSourcesCommand } from "./get-sources.js";
import { getImagesCommand } from "./get-images.js";
import { distinctImages, imagesUsed } from "../../views/images.js";
import { printable } from "../../util/printable.js";
import { UsageError } from "../../util/errors.js";
import { addExamples, type Example } from "../help.js";

const GET_KS_EXAMPLES: Example[] = [
  { does: "the Kustomizations of a cluster folder", run: "flux-local get ks --path clusters/prod" },
  {
    does: "every namespace, with the HelmRepositories, OCIRepositories and releases each defines",
    run: "flux-local get ks -A -o wide --path clusters/prod",
  },
  {
    does: "what produced what, with dependsOn edges",
    run: "flux-local get ks --tree --path clusters/prod",
  },
];

const GET_HR_EXAMPLES: Example[] = [
  { does: "the HelmReleases of every namespace", run: "flux-local get hr -A --path clusters/prod" },
  {
    does: "one release, with its chart and source, as YAML",
    run: "flux-local get hr podinfo -n podinfo -o yaml --path clusters/prod",
  },
];

type GetOptions = CommonOptions &
  SelectionOptions &
  Partial<HelmOptions> & {
    output?: string;
    skipSecrets?: boolean;
    status?: boolean;
    tree?: boolean;
    enableImages?: boolean;
    onlyImages?: boolean;
  };

function outputOption(choices: string[]): Option {
  return new Option("-o, --output <format>", "output format").choices(choices);
}

/** READY and STATUS columns: on a terminal by default, or as asked. */
function showStatus(opts: GetOptions): boolean {
  return opts.status ?? process.stdout.isTTY === true;
}

/**
 * Kustomizations that `--sources` left out are not part of the run: flux-local's
 * columns leave them out; the status columns list them as Skipped (NotInSources).
 */
function inRun(infos: KustomizationInfo[], opts: GetOptions): KustomizationInfo[] {
  if (showStatus(opts)) return infos;
  return infos.filter((i) => i.entry.status.reason !== "NotInSources");
}

function addStatusOption(cmd: Command): Command {
  return cmd
    .option("--status", "add READY and STATUS columns (default on a terminal)")
    .option("--no-status", "print flux-local's columns only (default when not a terminal)");
}

export function getCommand(setExit: (code: number) => void): Command {
  const get = new Command("get").description("list the objects the repository defines");
  addExamples(get, [
    {
      does: "the Kustomizations of a cluster folder",
      run: "flux-local get ks --path clusters/prod",
    },
    {
      does: "the HelmReleases of every namespace",
      run: "flux-local get hr -A --path clusters/prod",
    },
    {
      does: "every source and the revision it resolved to",
      run: "flux-local get sources --path clusters/prod",
    },
  ]);

  for (const alias of ["ks", "ks-new"]) {
    const cmd = new Command(alias)
      .description(alias === "ks" ? "list Kustomizations" : "same as `get ks`")
      .argument("[name]", "only this Kustomization")
      .addOption(outputOption(["table", "wide", "yaml", "json", "name"]).default("table"))
      .option("--tree", "show what produced what, with dependsOn edges");
    if (alias === "ks") addExamples(cmd, GET_KS_EXAMPLES);
    addStatusOption(addSelectionOptions(addCommonOptions(cmd))).action(
      (name: string | undefined, opts: GetOptions) => {
        checkNameArgument("get ks", "Kustomization", name);
        const request = renderRequest(opts);
        // Listing one needs only the Kustomizations that discover it (its
        // tree needs everything below it).
        if (name && !opts.tree) request.wanted = wantedObject("Kustomization", name, opts);
        return runListing(
          opts,
          setExit,
          (result) => {
            const infos = inRun(kustomizationInfos(result, selectionOf(opts, name)), opts);
            if (infos.length === 0) checkNameNotFolder("get ks", "Kustomization", name);
            const text = opts.tree
              ? formatTree(result, opts, name)
              : formatKustomizations(infos, opts);
            return { text, listed: infos.map((i) => i.entry) };
          },
          request,
        );
      },
    );
    get.addCommand(cmd, alias === "ks" ? {} : { hidden: true });
  }

  for (const alias of ["hr", "hr-new"]) {
    const cmd = new Command(alias)
      .description(alias === "hr" ? "list HelmReleases" : "same as `get hr`")
      .argument("[name]", "only this HelmRelease")
      .addOption(outputOption(["table", "wide", "yaml", "json", "name"]).default("table"));
    if (alias === "hr") addExamples(cmd, GET_HR_EXAMPLES);
    addStatusOption(addSelectionOptions(addCommonOptions(cmd))).action(
      (name: string | undefined, opts: GetOptions) => {
        checkNameArgument("get hr", "HelmRelease", name);
        const request = renderRequest(opts);
        if (name) request.wanted = wantedObject("HelmRelease", name, opts);
        return runListing(
          opts,
          setExit,
          (result) => {
            const infos = helmReleaseInfos(result, selectionOf(opts, name));
            if (infos.length === 0) checkNameNotFolder("get hr", "HelmRelease", name);
            return { text: formatHelmReleases(infos, opts), listed: infos.map((i) => i.entry) };
          },
          request,
        );
      },
    );
    get.addCommand(cmd, alias === "hr" ? {} : { hidden: true });
  }

  const cluster = new Command("cluster")
    .description("list the cluster at --path and what its Kustomizations define")
    // `diff` is flux-local's name for the table.
    .addOption(outputOption(["table", "diff", "yaml", "json"]).default("table"))
    .option("--skip-secrets", "leave Secrets out of -o yaml|json (default)", true)
    .option("--no-skip-secrets", "include Secrets in -o yaml|json")
    .option(
      "--enable-images",
      "render HelmReleases with helm and add the container images of each Kustomization and HelmRelease",
    )
    .addOption(new Option("--no-enable-images", "no image listing (default)").hideHelp())
    .option("--only-images", "print only the distinct images (with --enable-images)")
    .addOption(new Option("--no-only-images", "all of the cluster (default)").hideHelp())
    .option("--output-file <file>", "write to this file instead of stdout");
  addExamples(cluster, [
    {
      does: "the cluster folder and how many Kustomizations it has",
      run: "flux-local get cluster --path clusters/prod",
    },
    {
      does: "what each Kustomization defines (sources, releases, ConfigMaps), as YAML",
      run: "flux-local get cluster -o yaml --path clusters/prod",
    },
    {
      does: "the distinct container images the cluster runs, HelmReleases included",
      run: "flux-local get cluster --enable-images --only-images -o yaml --path clusters/prod",
    },
  ]);
  addHelmOptions(addStatusOption(addSelectionOptions(addCommonOptions(cluster)))).action(
    (opts: GetOptions & HelmOptions) => {
      if (opts.onlyImages && !opts.enableImages) {
        throw new UsageError("--only-images needs --enable-images");
      }
      // Images of HelmReleases come from their rendered objects: helm runs.
      const request = opts.enableImages
        ? { ...renderRequest(opts), helm: helmRenderOptions(opts) }
        : renderRequest(opts);
      return runListing(
        opts,
        setExit,
        (result) => {
          const infos = inRun(kustomizationInfos(result, selectionOf(opts)), opts);
          return { text: formatCluster(result, infos, opts), listed: infos.map((i) => i.entry) };
        },
        request,
      );
    },
  );
  get.addCommand(cluster);

  const all = new Command("all")
    .description(
      "list Kustomizations, HelmReleases, ResourceSets, ArtifactGenerators and sources, with their status",
    )
    .addOption(outputOption(["table", "name"]).default("table"));
  addExamples(all, [
    {
      does: "Kustomizations, HelmReleases and sources with their status",
      run: "flux-local get all --path clusters/prod",
    },
    {
      does: "every object's kind/name, one a line, for scripts",
      run: "flux-local get all -A -o name --path clusters/prod",
    },
  ]);
  addSelectionOptions(addCommonOptions(all)).action((opts: GetOptions) =>
    runListing(opts, setExit, (result) => formatAll(result, opts)),
  );
  get.addCommand(all);
  get.addCommand(getSourcesCommand(setExit));
  get.addCommand(getRsetCommand(setExit));
  get.addCommand(getImagesCommand(setExit));
  return get;
}

function formatKustomizations(infos: KustomizationInfo[], opts: GetOptions): string {
  if (opts.output === "yaml" || opts.output === "json") {
    const data = infos.map((i) => ({
      name: i.name,
      namespace: i.namespace,
      path: i.path,
      status: statusData(i.entry),
    }));
    return formatData(opts.output, data);
  }
  if (opts.output === "name") return infos.map((i) => `${resourceName(i.entry)}\n`).join("");
  if (infos.length === 0) return "no Kustomization objects found in cluster\n";
  const all = opts.allNamespaces === true || opts.all === true;
  const wide = opts.output === "wide";
  const status = showStatus(opts) ? statusColumns(infos.map((i) => i.entry)) : undefined;
  const headers = [
    ...(all ? ["NAMESPACE"] : []),
    "NAME",
    "PATH",
    ...(wide ? ["HELMREPOS", "OCIREPOS", "RELEASES"] : []),
    ...(status?.headers ?? []),
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
    ...(status?.cells(i.entry) ?? []),
  ]);
  return formatTable(headers, rows);
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
      status: statusData(i.entry),
    }));
    return formatData(opts.output, data);
  }
  if (opts.output === "name") return infos.map((i) => `${resourceName(i.entry)}\n`).join("");
  if (infos.length === 0) return "no HelmRelease objects found in cluster\n";
  const all = opts.allNamespaces === true || opts.all === true;
  const status = showStatus(opts) ? statusColumns(infos.map((i) => i.entry)) : undefined;
  const headers = [
    ...(all ? ["NAMESPACE"] : []),
    "NAME",
    "REVISION",
    "CHART",
    "SOURCE",
    ...(status?.headers ?? []),
  ];
  const rows = infos.map((i) => [
    ...(all ? [i.namespace] : []),
    i.name,
    i.version ?? "None",
    `${i.namespace}-${i.chartName}`,
    i.repoName,
    ...(status?.cells(i.entry) ?? []),
  ]);
  return formatTable(headers, rows);
}

/** `get ks --tree`: what produced what, with dependsOn edges and status. */
function formatTree(result: RenderResult, opts: GetOptions, name?: string): string {
  const selection = selectionOf(opts, name);
  const entries = result.store.list().filter((e) => TREE_KINDS.has(e.ref.kind));
  let roots = buildTree(entries);
  if (name || !selection.allNamespaces) {
    // Keep the subtrees rooted at the selected Kustomizations.
    const wanted = (n: TreeNode) =>
      n.entry.ref.kind === "Kustomization" && matches(n.entry, selection);
    const pick = (nodes: TreeNode[]): TreeNode[] =>
      nodes.flatMap((n) => (wanted(n) ? [n] : pick(n.children)));
    roots = pick(roots);
  }
  if (roots.length === 0) return "no Kustomization objects found in cluster\n";
  const lines = renderTree(roots, (node) => {
    const { entry } = node;
    const deps = node.dependsOn.length
      ? `  (after ${node.dependsOn.map((k) => k.split("/").slice(1).join("/")).join(", ")})`
      : "";
    const { phase } = entry.status;
    // `get` renders no HelmRelease (no helm): say so, not "Pending".
    const unrendered =
      entry.ref.kind === "HelmRelease" &&
      !result.controllers.helmRelease &&
      (phase === "Pending" || phase === "Reconciling");
    const state =
      phase === "Ready"
        ? "Ready"
        : unrendered
          ? "not rendered (get does not run helm; build hr does)"
          : `${phase}: ${entry.status.message || entry.status.reason}`;
    return printable(`${entry.ref.kind} ${entry.ref.namespace}/${entry.ref.name}  ${state}${deps}`);
  });
  return `${lines.join("\n")}\n`;
}

/** The order `get all` lists sources in (flux get all's). */
const GET_ALL_SOURCE_ORDER = [
  "GitRepository",
  "OCIRepository",
  "HelmRepository",
  "HelmChart",
  "Bucket",
  "ExternalArtifact",
];

/** `get all`: every Kustomization, HelmRelease, ResourceSet, ArtifactGenerator and source, with status. */
function formatAll(result: RenderResult, opts: GetOptions): { text: string; listed: StoreEntry[] } {
  const selection = selectionOf(opts);
  const sections: Array<{ title: string; entries: StoreEntry[] }> = [
    { title: "Kustomizations", entries: selectEntries(result, "Kustomization", selection) },
    { title: "HelmReleases", entries: selectEntries(result, "HelmRelease", selection) },
    { title: "ResourceSets", entries: selectEntries(result, "ResourceSet", selection) },
    {
      title: "ArtifactGenerators",
      entries: selectEntries(result, "ArtifactGenerator", selection),
    },
    {
      title: "Sources",
      entries: GET_ALL_SOURCE_ORDER.flatMap((kind) => selectEntries(result, kind, selection)),
    },
  ];
  const listed = sections.flatMap((s) => s.entries);
  if (opts.output === "name")
    return { text: listed.map((e) => `${resourceName(e)}\n`).join(""), listed };
  const parts: string[] = [];
  for (const section of sections) {
    if (section.entries.length === 0) continue;
    const status = statusColumns(section.entries);
    const rows = [...section.entries]
      .sort((a, b) => compare(a.key, b.key))
      .map((e) => [e.ref.kind, e.ref.namespace, e.ref.name, ...status.cells(e)]);
    parts.push(
      `${section.title}:\n${formatTable(["KIND", "NAMESPACE", "NAME", ...status.headers], rows)}`,
    );
  }
  return { text: parts.length ? parts.join("\n") : "no objects found in cluster\n", listed };
}

/** The cluster's folder (--path), relative to the repository root (as flux-local). */
function clusterPath(result: RenderResult): string {
  return displayPath(result.options.path, displayBase(result));
}

function nameNamespace(objects: KubeObject[], fallback: string) {
  return objects.map((o) => ({
    name: o.metadata?.name ?? "",
    namespace: o.metadata?.namespace ?? fallback,
  }));
}

function formatCluster(result: RenderResult, infos: KustomizationInfo[], opts: GetOptions): string {
  const hrObjects = (entry: StoreEntry) =>
    entry.artifact?.type === "render" ? entry.artifact.objects : [];
  if (opts.onlyImages) {
    // The distinct images of everything listed: Kustomizations' objects and releases' renders.
    const releases = helmReleaseInfos(result, {
      namespace: "",
      allNamespaces: true,
      labels: [],
    }).filter((h) => infos.some((i) => i.entry.key === h.entry.origin.producer));
    const images = distinctImages(
      imagesUsed([
        ...infos.flatMap((i) => i.objects),
        ...releases.flatMap((h) => hrObjects(h.entry)),
      ]),
    );
    if (opts.output === "yaml") return `---\n${toYaml(images)}`;
    if (opts.output === "json") return toJson(images);
    return images.map((i) => `${i}\n`).join("");
  }
  const imagesOf = (objects: readonly KubeObject[]) => {
    if (!opts.enableImages) return {};
    const images = distinctImages(imagesUsed(objects));
    return images.length > 0 ? { images } : {};
  };
  if (opts.output !== "yaml" && opts.output !== "json") {
    const row = [clusterPath(result), String(infos.length)];
    if (!showStatus(opts)) return formatTable(["PATH", "KUSTOMIZATIONS"], [row]);
    // The cluster is ready when every Kustomization is; STATUS counts the others.
    const count = (phase: string) => infos.filter((i) => i.entry.status.phase === phase).length;
    const failed = count("Failed");
    const notReady = infos.length - count("Ready") - count("Suspended") - count("Skipped");
    const status = [
      `${count("Ready")} ready`,
      ...(failed ? [`${failed} failed`] : []),
      ...(count("Suspended") ? [`${count("Suspended")} suspended`] : []),
      ...(count("Skipped") ? [`${count("Skipped")} skipped`] : []),
    ].join(", ");
    return formatTable(
      ["PATH", "KUSTOMIZATIONS", "READY", "STATUS"],
      [[...row, notReady === 0 ? "True" : "False", status]],
    );
  }
  const hrInfos = helmReleaseInfos(result, { namespace: "", allNamespaces: true, labels: [] });
  const kustomizations = infos.map((info) => {
    const ns = info.namespace;
    const releases = hrInfos.filter((h) => h.entry.origin.producer === info.entry.key);
    return {
      name: info.name,
      namespace: ns,
      path: info.path,
      helm_repos: ofKind(info.objects, FLUX_GROUPS.source, "HelmRepository").map((o) => {
        const spec = KIND_SCHEMAS.HelmRepository.safeParse(o).data?.spec;
        return {
          name: o.metadata?.name ?? "",
          namespace: o.metadata?.namespace ?? ns,
          url: spec?.url ?? "",
          repo_type: spec?.type ?? "default",
        };
      }),
      oci_repos: ofKind(info.objects, FLUX_GROUPS.source, "OCIRepository").map((o) => {
        const spec = KIND_SCHEMAS.OCIRepository.safeParse(o).data?.spec;
        return {
          name: o.metadata?.name ?? "",
          namespace: o.metadata?.namespace ?? ns,
          url: spec?.url ?? "",
          ref: spec?.ref ?? null,
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
        ...imagesOf(hrObjects(h.entry)),
      })),
      config_maps: nameNamespace(info.objects.filter(isConfigMap), ns),
      secrets: opts.skipSecrets === false ? nameNamespace(info.objects.filter(isSecret), ns) : [],
      helm_chart_sources: ofKind(info.objects, FLUX_GROUPS.source, "HelmChart").map((o) => ({
        name: o.metadata?.name ?? "",
        namespace: o.metadata?.namespace ?? ns,
      })),
      ...imagesOf(info.objects),
    };
  });
  const data = { clusters: [{ path: clusterPath(result), kustomizations }] };
  return opts.output === "yaml" ? `---\n${toYaml(data)}` : toJson(data);
}
