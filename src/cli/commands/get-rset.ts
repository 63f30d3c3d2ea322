/**
 * `flux-local get rset [NAME]`: the ResourceSets of the repository, with the
 * providers they take inputs from and how many objects each generated
 * (READY and STATUS say why one was skipped: inputs only the cluster has).
 */
import { addExamples } from "../help.js";
import { Command, Option } from "commander";
import type { RenderResult } from "../../run.js";
import type { StoreEntry } from "../../store/store.js";
import { typed } from "../../store/typed.js";
import { compare } from "../../views/kustomizations.js";
import { selectEntries, type Selection } from "../../views/select.js";
import { formatData } from "../format/output.js";
import { resourceName, statusColumns, statusData } from "../format/status.js";
import { formatTable } from "../format/table.js";
import {
  addCommonOptions,
  addSelectionOptions,
  selectionOf,
  type CommonOptions,
  type SelectionOptions,
} from "../options.js";
import { runListing } from "../run.js";

type Options = CommonOptions & SelectionOptions & { output?: string; status?: boolean };

interface RsetInfo {
  entry: StoreEntry;
  providers: string;
  objects: number | undefined;
}

function infos(result: RenderResult, selection: Selection): RsetInfo[] {
  return selectEntries(result, "ResourceSet", selection)
    .map((entry) => {
      const rset = typed(entry, "ResourceSet");
      const providers = (rset?.spec?.inputsFrom ?? []).map((ref) =>
        ref.name
          ? ref.name
          : Object.entries(ref.selector?.matchLabels ?? {})
              .map(([k, v]) => `${k}=${v}`)
              .join(",") || "(selector)",
      );
      return {
        entry,
        providers: providers.length ? providers.join(",") : "-",
        objects: entry.artifact?.type === "render" ? entry.artifact.objects.length : undefined,
      };
    })
    .sort(
      (a, b) =>
        compare(a.entry.ref.namespace, b.entry.ref.namespace) ||
        compare(a.entry.ref.name, b.entry.ref.name),
    );
}

export function getRsetCommand(setExit: (code: number) => void): Command {
  const cmd = new Command("rset")
    .alias("resourceset")
    .description("list ResourceSets: their input providers and what they generated")
    .argument("[name]", "only this ResourceSet")
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["table", "yaml", "json", "name"])
        .default("table"),
    )
    .option("--status", "add READY and STATUS columns (default on a terminal)")
    .option("--no-status", "leave READY and STATUS out (default when not a terminal)");
  addExamples(cmd, [
    {
      does: "the ResourceSets of a cluster folder, their inputs and what they generated",
      run: "flux-local get rset -A --path clusters/prod",
    },
    {
      does: "one ResourceSet as YAML",
      run: "flux-local get rset tenants -o yaml --path clusters/prod",
    },
  ]);
  addSelectionOptions(addCommonOptions(cmd)).action((name: string | undefined, opts: Options) =>
    runListing(opts, setExit, (result) => {
      const list = infos(result, selectionOf(opts, name));
      const entries = list.map((i) => i.entry);
      if (opts.output === "yaml" || opts.output === "json") {
        const data = list.map((i) => ({
          name: i.entry.ref.name,
          namespace: i.entry.ref.namespace,
          inputsFrom: i.providers,
          objects: i.objects ?? 0,
          status: statusData(i.entry),
        }));
        return { text: formatData(opts.output, data), listed: entries };
      }
      if (opts.output === "name") {
        return { text: entries.map((e) => `${resourceName(e)}\n`).join(""), listed: entries };
      }
      if (list.length === 0) return { text: "no ResourceSet objects found\n", listed: entries };
      const all = opts.allNamespaces === true || opts.all === true;
      const status =
        (opts.status ?? process.stdout.isTTY === true) ? statusColumns(entries) : undefined;
      const headers = [
        ...(all ? ["NAMESPACE"] : []),
        "NAME",
        "INPUTS FROM",
        "OBJECTS",
        ...(status?.headers ?? []),
      ];
      const rows = list.map((i) => [
        ...(all ? [i.entry.ref.namespace] : []),
        i.entry.ref.name,
        i.providers,
        i.objects === undefined ? "-" : String(i.objects),
        ...(status?.cells(i.entry) ?? []),
      ]);
      return { text: formatTable(headers, rows), listed: entries };
    }),
  );
  return cmd;
}
