/**
 * `flux-local build ks|all`: the objects Flux would apply, as one YAML stream.
 */
import { Command } from "commander";
import { isCustomResourceDefinition, isSecret, type KubeObject } from "../../flux/objects.js";
import { dumpYamlStream } from "../../discovery/yaml.js";
import type { RenderResult } from "../../pipeline.js";
import { kustomizationInfos } from "../../query/kustomizations.js";
import type { Selection } from "../../query/select.js";
import type { StoreEntry } from "../../store/store.js";
import { emit } from "../format/output.js";
import {
  addCommonOptions,
  addSelectionOptions,
  renderRequest,
  selectionOf,
  type CommonOptions,
  type SelectionOptions,
} from "../options.js";
import { finish, startRun } from "../run.js";

interface OutputFilter {
  skipCrds?: boolean;
  skipSecrets?: boolean;
  skipKinds?: string;
}

type BuildOptions = CommonOptions &
  SelectionOptions &
  OutputFilter & { outputFile?: string; output?: string };

function addOutputOptions(cmd: Command): Command {
  return cmd
    .option("--skip-crds", "leave CustomResourceDefinitions out", false)
    .option("--no-skip-crds", "include CustomResourceDefinitions (default)")
    .option("--skip-secrets", "leave Secrets out (default)", true)
    .option("--no-skip-secrets", "include Secrets (with placeholder values)")
    .option("--skip-kinds <kinds>", "comma separated kinds to leave out")
    .option("--output-file <file>", "write to this file (atomically) instead of stdout")
    .option("-o, --output <format>", "output format (yaml)", "yaml");
}

export function filterObjects(objects: readonly KubeObject[], filter: OutputFilter): KubeObject[] {
  const skipKinds = new Set(
    (filter.skipKinds ?? "")
      .split(",")
      .map((k) => k.trim())
      .filter(Boolean),
  );
  return objects.filter(
    (o) =>
      !(filter.skipSecrets !== false && isSecret(o)) &&
      !(filter.skipCrds === true && isCustomResourceDefinition(o)) &&
      !skipKinds.has(o.kind ?? ""),
  );
}

function outputOf(
  result: RenderResult,
  selection: Selection,
  filter: OutputFilter,
): { text: string; entries: StoreEntry[] } {
  const infos = kustomizationInfos(result, selection, process.cwd());
  const objects = infos.flatMap((i) => filterObjects(i.objects, filter));
  return { text: dumpYamlStream(objects), entries: infos.map((i) => i.entry) };
}

export function buildCommand(setExit: (code: number) => void): Command {
  const build = new Command("build").description("render the objects Flux would apply");

  for (const alias of ["ks", "ks-new"]) {
    const cmd = new Command(alias)
      .description("render Kustomizations")
      .argument("[name]", "only this Kustomization");
    addOutputOptions(addSelectionOptions(addCommonOptions(cmd))).action(
      async (name: string | undefined, opts: BuildOptions) => {
        const result = await startRun(opts, renderRequest(opts));
        // Without a name, every Kustomization of every namespace (as flux-local did).
        const selection = selectionOf(opts, name);
        if (!name && opts.namespace === "flux-system") selection.allNamespaces = true;
        const { text, entries } = outputOf(result, selection, opts);
        const code = finish(result, entries);
        if (code === 0 || !opts.outputFile) await emit(text, opts.outputFile);
        setExit(code);
      },
    );
    build.addCommand(cmd, alias === "ks" ? {} : { hidden: true });
  }

  const all = new Command("all")
    .description("render everything")
    .argument("[path]", "same as --path");
  addOutputOptions(addCommonOptions(all)).action(
    async (pathArg: string | undefined, opts: BuildOptions) => {
      const result = await startRun(opts, renderRequest(opts, pathArg));
      const { text } = outputOf(result, { namespace: "", allNamespaces: true, labels: {} }, opts);
      const code = finish(
        result,
        result.store.list().filter((e) => e.status.phase === "Failed"),
      );
      // --output-file is written only when the whole run succeeded: never a partial file.
      if (code === 0 || !opts.outputFile) await emit(text, opts.outputFile);
      setExit(code);
    },
  );
  build.addCommand(all);
  return build;
}
