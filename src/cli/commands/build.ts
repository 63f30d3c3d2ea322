/**
 * `flux-local build ks|hr|all`: the objects Flux would apply, as one YAML
 * stream. HelmReleases are rendered with helm by `build hr` and by
 * `build all --enable-helm` (after the Kustomizations' objects).
 */
import { Command, Option } from "commander";
import { isCustomResourceDefinition, isSecret, type KubeObject } from "../../flux/objects.js";
import { dumpYamlStream } from "../../discovery/yaml.js";
import type { RenderResult } from "../../run.js";
import { compare, kustomizationInfos } from "../../views/kustomizations.js";
import { failedKustomizations, matches, type Selection } from "../../views/select.js";
import type { StoreEntry } from "../../store/store.js";
import { checkOutputFile, emit, isStdoutName, removeStaleOutput } from "../format/output.js";
import {
  addCommonOptions,
  addHelmOptions,
  addSelectionOptions,
  checkNameArgument,
  checkNameNotFolder,
  helmRenderOptions,
  renderRequest,
  renderRequestWithHelm,
  selectionOf,
  wantedObject,
  type CommonOptions,
  type HelmOptions,
  type SelectionOptions,
} from "../options.js";
import { finish, startRun } from "../run.js";
import { addExamples } from "../help.js";

/** How the positional argument differs between `build ks|hr` and `build all`. */
const POSITIONAL_NOTE =
  "`build ks [NAME]`, `build hr [NAME]` and `build rset [NAME]` take the name of one object (the\n" +
  "cluster folder is --path); `build all [PATH]` takes the cluster folder itself (the same as --path).";

interface OutputFilter {
  skipCrds?: boolean;
  skipSecrets?: boolean;
  skipKinds?: string;
}

type BuildOptions = CommonOptions &
  SelectionOptions &
  OutputFilter & { outputFile?: string; output?: string };

type HelmBuildOptions = BuildOptions & HelmOptions & { enableHelm?: boolean };

function addOutputOptions(cmd: Command, skipCrdsByDefault = false): Command {
  return cmd
    .option(
      "--skip-crds",
      `leave CustomResourceDefinitions out${skipCrdsByDefault ? " (default)" : ""}`,
      skipCrdsByDefault,
    )
    .option(
      "--no-skip-crds",
      `include CustomResourceDefinitions${skipCrdsByDefault ? "" : " (default)"}`,
    )
    .option("--skip-secrets", "leave Secrets out (default)", true)
    .option("--no-skip-secrets", "include Secrets (with placeholder values)")
    .option("--skip-kinds <kinds>", "comma separated kinds to leave out")
    .option("--output-file <file>", "write to this file (atomically) instead of stdout")
    .addOption(
      new Option("--wipe-secrets", "no-op: Secret values are always placeholders").hideHelp(),
    )
    .addOption(new Option("--no-wipe-secrets", "no-op: Secret values are never printed").hideHelp())
    .addOption(
      new Option("-o, --output <format>", "output format: a YAML stream, or a JSON list")
        .choices(["yaml", "json"])
        .default("yaml"),
    );
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

interface Rendered {
  objects: KubeObject[];
  entries: StoreEntry[];
}

/** The objects as `-o yaml` (a stream of documents) or `-o json` (one list). */
function serialize(objects: readonly KubeObject[], output: string | undefined): string {
  return output === "json" ? `${JSON.stringify(objects, null, 2)}\n` : dumpYamlStream(objects);
}

/**
 * Print or write the output. `--output-file` is written (atomically) only when
 * the run succeeded; a failed run removes the file an earlier run left, so a
 * later step never reads an old render as this one's.
 */
async function deliver(text: string, code: number, outputFile: string | undefined): Promise<void> {
  if (!outputFile || isStdoutName(outputFile)) return emit(text);
  if (code === 0) return emit(text, outputFile);
  await removeStaleOutput(outputFile);
  process.stderr.write(`flux-local: ${outputFile} not written (the run failed)\n`);
}

function outputOf(result: RenderResult, selection: Selection, filter: OutputFilter): Rendered {
  const infos = kustomizationInfos(result, selection);
  const objects = infos.flatMap((i) => filterObjects(i.objects, filter));
  return { objects, entries: infos.map((i) => i.entry) };
}

/** The rendered objects of the selected HelmReleases (or ResourceSets), by namespace and name. */
function helmOutputOf(
  result: RenderResult,
  selection: Selection,
  filter: OutputFilter,
  kind: "HelmRelease" | "ResourceSet" = "HelmRelease",
): Rendered {
  const entries = result.store
    .list(kind)
    .filter((e) => matches(e, selection))
    .sort((a, b) => compare(a.ref.namespace, b.ref.namespace) || compare(a.ref.name, b.ref.name));
  const objects = entries.flatMap((e) =>
    e.artifact?.type === "render" ? filterObjects(e.artifact.objects, filter) : [],
  );
  return { objects, entries };
}

/** Say that a named object does not exist; the exit code for it. */
function notFound(kind: string, name: string, selection: Selection): number {
  const where = selection.allNamespaces ? "" : ` in namespace ${selection.namespace}`;
  process.stderr.write(`flux-local: ${kind} ${name} not found${where}\n`);
  return 1;
}

export function buildCommand(setExit: (code: number) => void): Command {
  const build = new Command("build").description("render the objects Flux would apply");
  addExamples(
    build,
    [
      { does: "everything a cluster folder applies", run: "flux-local build all clusters/prod" },
      { does: "one Kustomization, by name", run: "flux-local build ks apps --path clusters/prod" },
      {
        does: "one HelmRelease, templated with helm",
        run: "flux-local build hr podinfo -n podinfo --path clusters/prod",
      },
    ],
    POSITIONAL_NOTE,
  );

  for (const alias of ["ks", "ks-new"]) {
    const cmd = new Command(alias)
      .description("render Kustomizations")
      .argument("[name]", "only this Kustomization (the folder is --path)");
    if (alias === "ks") {
      addExamples(
        cmd,
        [
          {
            does: "every Kustomization of a cluster folder",
            run: "flux-local build ks --path clusters/prod",
          },
          {
            does: "one Kustomization, by name (namespace flux-system unless -n)",
            run: "flux-local build ks apps --path clusters/prod",
          },
          {
            does: "without CRDs and Secrets, into a file (written only when the render succeeds)",
            run: "flux-local build ks apps --skip-crds --path clusters/prod --output-file apps.yaml",
          },
        ],
        POSITIONAL_NOTE,
      );
    }
    addOutputOptions(addSelectionOptions(addCommonOptions(cmd))).action(
      async (name: string | undefined, opts: BuildOptions) => {
        checkNameArgument("build ks", "Kustomization", name);
        if (opts.outputFile) await checkOutputFile("--output-file", opts.outputFile);
        const request = renderRequest(opts);
        // Only what is needed to discover and build NAME.
        if (name) request.wanted = wantedObject("Kustomization", name, opts);
        const result = await startRun(opts, request);
        // Without a name, every Kustomization of every namespace (as flux-local did).
        const selection = selectionOf(opts, name);
        if (!name && opts.namespace === "flux-system") selection.allNamespaces = true;
        const { objects, entries } = outputOf(result, selection, opts);
        const missing = name !== undefined && entries.length === 0;
        if (missing) checkNameNotFolder("build ks", "Kustomization", name);
        // A failed Kustomization may be what hides the one asked for: report it too.
        let code = finish(
          result,
          missing ? [...failedKustomizations(result), ...entries] : entries,
        );
        if (missing) code = Math.max(code, notFound("Kustomization", name, selection));
        await deliver(serialize(objects, opts.output), code, opts.outputFile);
        setExit(code);
      },
    );
    build.addCommand(cmd, alias === "ks" ? {} : { hidden: true });
  }

  for (const alias of ["hr", "hr-new"]) {
    const cmd = new Command(alias)
      .description("render HelmReleases with helm")
      .argument("[name]", "only this HelmRelease (the folder is --path)");
    if (alias === "hr") {
      addExamples(
        cmd,
        [
          {
            does: "one HelmRelease, templated with helm",
            run: "flux-local build hr podinfo -n podinfo --path clusters/prod",
          },
          {
            does: "every HelmRelease of every namespace, for a given Kubernetes version",
            run: "flux-local build hr -A --kube-version 1.33.0 --path clusters/prod",
          },
        ],
        POSITIONAL_NOTE,
      );
    }
    addHelmOptions(addOutputOptions(addSelectionOptions(addCommonOptions(cmd)), true)).action(
      async (name: string | undefined, opts: HelmBuildOptions) => {
        checkNameArgument("build hr", "HelmRelease", name);
        if (opts.outputFile) await checkOutputFile("--output-file", opts.outputFile);
        const selection = selectionOf(opts, name);
        const helm = {
          ...helmRenderOptions(opts),
          select: (e: StoreEntry) => matches(e, selection),
        };
        const result = await startRun(opts, {
          ...renderRequest(opts),
          helm,
          // Only the Kustomizations needed to discover NAME are built.
          ...(name ? { wanted: wantedObject("HelmRelease", name, opts) } : {}),
        });
        const { objects, entries } = helmOutputOf(result, selection, opts);
        // A Kustomization that failed may hide HelmReleases: report it too.
        let code = finish(result, [...failedKustomizations(result), ...entries]);
        if (name && entries.length === 0) {
          checkNameNotFolder("build hr", "HelmRelease", name);
          code = Math.max(code, notFound("HelmRelease", name, selection));
        }
        await deliver(serialize(objects, opts.output), code, opts.outputFile);
        setExit(code);
      },
    );
    build.addCommand(cmd, alias === "hr" ? {} : { hidden: true });
  }

  for (const alias of ["rset", "resourceset"]) {
    const cmd = new Command(alias)
      .description("render ResourceSets (with the Flux Operator CLI)")
      .argument("[name]", "only this ResourceSet (the folder is --path)");
    if (alias === "rset") {
      addExamples(
        cmd,
        [
          {
            does: "what every ResourceSet of a cluster folder generates",
            run: "flux-local build rset --path clusters/prod",
          },
          {
            does: "one ResourceSet, with its input sets from a file",
            run: "flux-local build rset tenants --path clusters/prod --rset-inputs tenants=inputs.yaml",
          },
        ],
        POSITIONAL_NOTE,
      );
    }
    addOutputOptions(addSelectionOptions(addCommonOptions(cmd))).action(
      async (name: string | undefined, opts: BuildOptions) => {
        const result = await startRun(opts, renderRequest(opts));
        const selection = selectionOf(opts, name);
        if (!name && opts.namespace === "flux-system") selection.allNamespaces = true;
        const { objects, entries } = helmOutputOf(result, selection, opts, "ResourceSet");
        // A Kustomization that failed may hide ResourceSets: report it too.
        let code = finish(result, [...failedKustomizations(result), ...entries]);
        if (name && entries.length === 0)
          code = Math.max(code, notFound("ResourceSet", name, selection));
        await deliver(serialize(objects, opts.output), code, opts.outputFile);
        setExit(code);
      },
    );
    build.addCommand(cmd, alias === "rset" ? {} : { hidden: true });
  }

  const all = new Command("all")
    .description("render everything (HelmReleases too with --enable-helm)")
    .argument("[path]", "the cluster folder (same as --path)")
    .option("--enable-helm", "render HelmReleases with helm, after the Kustomizations' objects")
    .addOption(new Option("--no-enable-helm", "list HelmReleases only (default)").hideHelp());
  addExamples(
    all,
    [
      { does: "everything a cluster folder applies", run: "flux-local build all clusters/prod" },
      {
        does: "HelmReleases too, templated with helm",
        run: "flux-local build all --enable-helm --path clusters/prod",
      },
      {
        does: "as one JSON list, leaving out CRDs",
        run: "flux-local build all clusters/prod --skip-crds -o json",
      },
    ],
    POSITIONAL_NOTE,
  );
  addHelmOptions(addOutputOptions(addCommonOptions(all))).action(
    async (pathArg: string | undefined, opts: HelmBuildOptions) => {
      if (opts.outputFile) await checkOutputFile("--output-file", opts.outputFile);
      const result = await startRun(opts, renderRequestWithHelm(opts, pathArg));
      const everything = { namespace: "", allNamespaces: true, labels: [] };
      const objects = outputOf(result, everything, opts).objects;
      // What ResourceSets generate that no Kustomization builds (Flux objects among it
      // are reconciled, and what they build is in the Kustomizations' output).
      objects.push(...helmOutputOf(result, everything, opts, "ResourceSet").objects);
      if (opts.enableHelm) objects.push(...helmOutputOf(result, everything, opts).objects);
      const code = finish(
        result,
        result.store.list().filter((e) => e.status.phase === "Failed"),
        { warningsOf: result.store.list("Kustomization") },
      );
      const releases = result.store.list("HelmRelease").length;
      if (!opts.enableHelm && releases > 0) {
        process.stderr.write(
          `note: ${releases} HelmRelease${releases === 1 ? "" : "s"} not rendered (use --enable-helm)\n`,
        );
      }
      // --output-file is written only when the whole run succeeded: never a partial file.
      await deliver(serialize(objects, opts.output), code, opts.outputFile);
      setExit(code);
    },
  );
  build.addCommand(all);
  return build;
}
