/**
 * `flux-local get sources`: every source of the repository with what it
 * resolved to, in the spirit of `flux get sources all`: NAME, READY, STATUS,
 * URL, REVISION (`-o wide` adds the local path of the artifact).
 */
import { Command, Option } from "commander";
import { SOURCE_KINDS } from "../../flux/objects.js";
import { typed } from "../../store/typed.js";
import type { RenderResult } from "../../run.js";
import { selectEntries, type Selection } from "../../views/select.js";
import type { StoreEntry } from "../../store/store.js";
import { formatData } from "../format/output.js";
import { resourceName, statusData } from "../format/status.js";
import { formatTable } from "../format/table.js";
import {
  addCommonOptions,
  addSelectionOptions,
  selectionOf,
  type CommonOptions,
  type SelectionOptions,
} from "../options.js";
import { UsageError } from "../../util/errors.js";
import { runListing } from "../run.js";
import { redactUrls } from "../../util/printable.js";
import { addExamples } from "../help.js";

type Options = CommonOptions & SelectionOptions & { output?: string; kind?: string[] };

export interface SourceInfo {
  entry: StoreEntry;
  kind: string;
  namespace: string;
  name: string;
  ready: "True" | "False" | "Unknown";
  status: string;
  url: string;
  revision: string;
  path: string;
}

const KIND_ALIASES: Record<string, string> = {
  git: "GitRepository",
  gitrepository: "GitRepository",
  oci: "OCIRepository",
  ocirepository: "OCIRepository",
  helm: "HelmRepository",
  helmrepository: "HelmRepository",
  chart: "HelmChart",
  helmchart: "HelmChart",
  bucket: "Bucket",
  external: "ExternalArtifact",
  externalartifact: "ExternalArtifact",
};

export function sourceInfos(
  result: RenderResult,
  selection: Selection,
  kinds?: readonly string[],
): SourceInfo[] {
  const wanted = kinds && kinds.length > 0 ? new Set(kinds) : new Set<string>(SOURCE_KINDS);
  const out: SourceInfo[] = [];
  for (const kind of SOURCE_KINDS) {
    if (!wanted.has(kind)) continue;
    for (const entry of selectEntries(result, kind, selection)) {
      const artifact = entry.artifact?.type === "source" ? entry.artifact : undefined;
      const phase = entry.status.phase;
      out.push({
        entry,
        kind,
        namespace: entry.ref.namespace,
        name: entry.ref.name,
        ready:
          phase === "Ready"
            ? "True"
            : phase === "Failed" || phase === "Suspended"
              ? "False"
              : "Unknown",
        status:
          entry.status.reason === "NotNeeded"
            ? `NotNeeded: ${entry.status.message}`
            : entry.status.message || phase.toLowerCase(),
        // Never a password or token embedded in the URL.
        url: redactUrls(artifact?.url ?? definedUrl(entry)),
        revision: artifact?.revision ?? "",
        path: artifact?.path ?? "",
      });
    }
  }
  return out;
}

function format(infos: SourceInfo[], opts: Options): string {
  if (opts.output === "name") return infos.map((i) => `${resourceName(i.entry)}\n`).join("");
  if (opts.output === "yaml" || opts.output === "json") {
    const data = infos.map((i) => ({
      kind: i.kind,
      name: i.name,
      namespace: i.namespace,
      ready: i.ready === "True",
      status: statusData(i.entry),
      url: i.url || null,
      revision: i.revision || null,
      path: i.path || null,
    }));
    return formatData(opts.output, data);
  }
  if (infos.length === 0) return "no sources found in cluster\n";
  const all = opts.allNamespaces === true || opts.all === true;
  const wide = opts.output === "wide";
  const headers = [
    ...(all ? ["NAMESPACE"] : []),
    "NAME",
    "READY",
    "STATUS",
    "URL",
    "REVISION",
    ...(wide ? ["PATH"] : []),
  ];
  const rows = infos.map((i) => [
    ...(all ? [i.namespace] : []),
    `${i.kind.toLowerCase()}/${i.name}`,
    i.ready,
    oneLine(i.status),
    i.url,
    i.revision || "-",
    ...(wide ? [i.path || "-"] : []),
  ]);
  return formatTable(headers, rows);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function getSourcesCommand(setExit: (code: number) => void): Command {
  const cmd = new Command("sources")
    .alias("source")
    .description(
      "list the sources (Git, OCI, Helm, Bucket, ExternalArtifact) with their resolved revisions",
    )
    .argument("[name]", "only sources with this name")
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["table", "wide", "yaml", "json", "name"])
        .default("table"),
    )
    .option(
      "--kind <kind>",
      "only this kind: git, oci, helm, chart, bucket, external (repeatable)",
      collect,
      [],
    );
  addExamples(cmd, [
    {
      does: "every source and the revision it resolved to",
      run: "flux-local get sources -A --path clusters/prod",
    },
    {
      does: "the Git sources only, with where each was fetched to",
      run: "flux-local get sources --kind git -o wide --path clusters/prod",
    },
    {
      does: "use only what earlier runs fetched (no network)",
      run: "flux-local get sources --offline --path clusters/prod",
    },
  ]);
  addSelectionOptions(addCommonOptions(cmd)).action(
    async (name: string | undefined, opts: Options) => {
      const kinds = (opts.kind ?? []).map((k) => {
        const kind = KIND_ALIASES[k.toLowerCase()];
        if (!kind) {
          throw new UsageError(
            `--kind ${k}: expected one of git, oci, helm, chart, bucket, external`,
          );
        }
        return kind;
      });
      // Failed Kustomizations hide the sources they would have defined: reported too.
      await runListing(opts, setExit, (result) => {
        const infos = sourceInfos(result, selectionOf(opts, name), kinds);
        return { text: format(infos, opts), listed: infos.map((i) => i.entry) };
      });
    },
  );
  return cmd;
}

/** The URL a source's definition gives (a HelmChart's chart name), for sources not fetched. */
function definedUrl(entry: StoreEntry): string {
  switch (entry.ref.kind) {
    case "GitRepository":
      return typed(entry, "GitRepository")?.spec.url ?? "";
    case "OCIRepository":
      return typed(entry, "OCIRepository")?.spec.url ?? "";
    case "HelmRepository":
      return typed(entry, "HelmRepository")?.spec.url ?? "";
    case "HelmChart":
      return typed(entry, "HelmChart")?.spec.chart ?? "";
    default:
      return "";
  }
}
