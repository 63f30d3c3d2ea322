/**
 * `flux-local diff ks|hr|all`: render the repository on both sides (the
 * working tree, and `--path-orig`, `--branch-orig`/`--base` or HEAD) and show
 * what changes, in flux-local's formats and ours. Owners whose render inputs
 * are identical on both sides are rendered once.
 *
 * Exit codes: 0 (differences or not; 1 for differences with --exit-code),
 * 2 bad usage, 3 a render failed on either side (its diff is withheld).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Command, Option } from "commander";
import { parse as parseShell } from "shell-quote";
import { collectSide, type CollectedSide } from "../../diff/collect.js";
import {
  diffJson,
  diffLines,
  diffYaml,
  externalFiles,
  limitExternal,
} from "../../diff/flux-format.js";
import {
  changedGroups,
  compareSides,
  DEFAULT_STRIP_ATTRS,
  type GroupDiff,
} from "../../diff/model.js";
import { openOtherSide } from "../../diff/other-side.js";
import { releasesToRender } from "../../diff/helm-changes.js";
import {
  changesDocument,
  changesText,
  countsLine,
  markdownComment,
  planText,
  type RenderCounts,
} from "../../diff/report.js";
import { execa } from "execa";
import { findTool } from "../../exec/tools.js";
import {
  compareImages,
  imageChangesData,
  imageChangesMarkdown,
  imageChangesText,
  imageChangesYaml,
} from "../../diff/images.js";
import { addExamples, type Example } from "../help.js";
import type { KubeObject } from "../../flux/objects.js";
import { render, type RenderRequest, type RenderResult } from "../../run.js";
import { matches, type Selection } from "../../views/select.js";
import { compareInputs } from "../../render/inputs.js";
import { RenderMemo } from "../../render/memo.js";
import type { StoreEntry } from "../../store/store.js";
import { UsageError } from "../../util/errors.js";
import { configureLogging } from "../../util/log.js";
import { emit } from "../format/output.js";
import {
  addCommonOptions,
  addHelmOptions,
  addSelectionOptions,
  helmRenderOptions,
  renderRequest,
  selectionOf,
  type CommonOptions,
  type HelmOptions,
  type SelectionOptions,
} from "../options.js";
import { filterObjects } from "./build.js";
import { isDirectory } from "../../util/fs.js";

export const EXIT_DIFFERENCES = 1;
export const EXIT_RENDER_FAILED = 3;

const FORMATS = [
  "diff",
  "object",
  "yaml",
  "json",
  "changes",
  "changes-json",
  "markdown",
  "summary",
];

interface DiffOptions extends CommonOptions, SelectionOptions, HelmOptions {
  output: string;
  unified: string;
  pathOrig?: string;
  branchOrig?: string;
  base?: string;
  stripAttrs: string[];
  defaultStripAttrs?: boolean;
  limitBytes: string;
  exitCode?: boolean;
  full?: boolean;
  plan?: boolean;
  enableHelm?: boolean;
  skipSecrets?: boolean;
  skipKinds?: string;
  outputFile?: string;
  onlyImages?: boolean;
}

type Mode = "ks" | "hr" | "all";

const collect = (value: string, previous: string[]) => [...previous, value];

function addDiffOptions(cmd: Command, mode: Mode): Command {
  cmd
    .addOption(
      new Option("-o, --output <format>", "output format").choices(FORMATS).default("diff"),
    )
    .option("-u, --unified <n>", "lines of context in unified diffs", "3")
    .option("--path-orig <dir>", "compare with this directory (default: HEAD of the repository)")
    .option("--branch-orig <rev>", "compare with this branch or revision (a temporary worktree)")
    .option(
      "--base <rev>",
      "compare with this git revision; `auto`: the merge-base with the upstream (else origin/HEAD)",
    )
    .option(
      "--strip-attrs <names>",
      "labels or annotations to leave out of the comparison (comma separated, `*` globs); repeatable",
      collect,
      [],
    )
    .option(
      "--no-default-strip-attrs",
      `keep the chart noise stripped by default (${DEFAULT_STRIP_ATTRS.join(", ")})`,
    )
    .option("--limit-bytes <n>", "truncate each object's diff past N characters (0: no limit)", "0")
    .option("--exit-code", "exit 1 when there are differences (as git diff --exit-code)")
    .option("--full", "render every owner on both sides (checks the changed-only shortcut)")
    .option("--plan", "print the plan (what changes, and why) on stdout before the diffs")
    .option(
      "--skip-crds",
      `leave CustomResourceDefinitions out${mode === "hr" ? " (default)" : ""}`,
      mode === "hr",
    )
    .option(
      "--no-skip-crds",
      `include CustomResourceDefinitions${mode === "hr" ? "" : " (default)"}`,
    )
    .option("--skip-secrets", "leave Secrets out (default)", true)
    .option("--no-skip-secrets", "compare Secrets (values are never shown, only that they changed)")
    .option("--skip-kinds <kinds>", "comma separated kinds to leave out")
    .option("--output-file <file>", "write the output to this file instead of stdout")
    .option(
      "--only-images",
      "compare only the container images of each workload: one line per image change (-o diff|yaml|json|markdown)",
    );
  if (mode === "all") cmd.option("--enable-helm", "render and compare HelmReleases too");
  return addHelmOptions(cmd);
}

function nonNegative(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`${flag} ${value}: expected a whole number`);
  return n;
}

interface Plan {
  kustomizations?: Selection;
  /** Render only these HelmReleases (keys), when set. */
  helmKeys?: Set<string>;
  helmReleases?: Selection;
  resourceSets?: Selection;
  helm: boolean;
  /** For the not-found message. */
  kind: "Kustomization" | "HelmRelease";
  name?: string;
  selection: Selection;
}

function planFor(mode: Mode, opts: DiffOptions, name: string | undefined): Plan {
  const selection = selectionOf(opts, name);
  const everything: Selection = { namespace: "", allNamespaces: true, labels: [] };
  if (mode === "ks") {
    const ks = { ...selection };
    // Without a name, every Kustomization of every namespace (as build ks).
    if (!name && !opts.allNamespaces && opts.namespace === "flux-system") ks.allNamespaces = true;
    return {
      kustomizations: ks,
      helm: false,
      kind: "Kustomization",
      ...(name ? { name } : {}),
      selection,
    };
  }
  if (mode === "hr") {
    return {
      helmReleases: selection,
      helm: true,
      kind: "HelmRelease",
      ...(name ? { name } : {}),
      selection,
    };
  }
  const helm = opts.enableHelm === true;
  return {
    kustomizations: everything,
    ...(helm ? { helmReleases: everything } : {}),
    resourceSets: everything,
    helm,
    kind: "Kustomization",
    selection: everything,
  };
}

function requestFor(
  opts: DiffOptions,
  plan: Plan,
  memo: RenderMemo,
  pathArg: string,
): RenderRequest {
  const base = renderRequest(opts, pathArg);
  const keys = plan.helmKeys;
  return {
    ...base,
    renderMemo: memo,
    ...(keys
      ? { helm: { ...helmRenderOptions(opts), select: (e: StoreEntry) => keys.has(e.key) } }
      : {}),
  };
}

async function externalDiff(
  command: string,
  groups: readonly GroupDiff[],
  limitBytes: number,
): Promise<string> {
  const argv = parseShell(command).filter((a): a is string => typeof a === "string");
  const [file, ...args] = argv;
  if (!file) throw new UsageError(`DIFF=${command}: no command`);
  const dir = await mkdtemp(path.join(os.tmpdir(), "flux-local-diff-"));
  try {
    let out = "";
    for (const group of groups) {
      if (group.changes.length === 0) continue;
      const { before, after } = externalFiles(group);
      const a = path.join(dir, "a.yaml");
      const b = path.join(dir, "b.yaml");
      await writeFile(a, before);
      await writeFile(b, after);
      // A differ exits 1 when the files differ (as diff does); more is a failure.
      const result = await execa(file, [...args, a, b], {
        cwd: dir,
        reject: false,
        stripFinalNewline: false,
      });
      if (result.exitCode !== 0 && result.exitCode !== 1) {
        throw new UsageError(
          `DIFF=${command}: ${result.exitCode === undefined ? `could not run (${result.shortMessage})` : `exited with code ${result.exitCode}: ${String(result.stderr).trim()}`}`,
        );
      }
      const text = String(result.stdout ?? "");
      if (text) out += `${limitExternal(text, limitBytes)}\n`;
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function notFoundMessage(plan: Plan): string {
  const ns = plan.selection.allNamespaces ? "None" : plan.selection.namespace;
  return `${plan.kind} object '${plan.name ?? "None"}' not found in '${ns}' namespace\n`;
}

function reportFailures(groups: readonly GroupDiff[], labels: { before: string; after: string }) {
  const lines: string[] = [];
  for (const g of groups) {
    if (g.status !== "failed") continue;
    for (const [side, f] of Object.entries(g.failures ?? {})) {
      const which = side === "before" ? `original side (${labels.before})` : "current side";
      lines.push(
        `flux-local: ${g.owner.kind} ${g.owner.namespace}/${g.owner.name} failed on the ${which}${f.location ? ` at ${f.location}` : ""}: ${f.reason}: ${f.message}; its diff is withheld`,
      );
    }
  }
  if (lines.length) process.stderr.write(`${lines.join("\n")}\n`);
  return lines.length;
}

function reportIssues(result: RenderResult, side: string): number {
  const errors = result.issues.filter((i) => i.severity === "error");
  for (const issue of errors) {
    const where = issue.file
      ? `${path.relative(result.options.repoRoot, issue.file)}${issue.line ? `:${issue.line}` : ""}: `
      : "";
    process.stderr.write(`flux-local: ${side}: ${where}${issue.reason}: ${issue.message}\n`);
  }
  return errors.length;
}

async function runDiff(mode: Mode, name: string | undefined, opts: DiffOptions): Promise<number> {
  const revisions = [opts.pathOrig, opts.branchOrig, opts.base].filter((v) => v !== undefined);
  if (revisions.length > 1) {
    throw new UsageError("--path-orig, --branch-orig and --base are exclusive: give one");
  }
  if (opts.onlyImages && !["diff", "object", "yaml", "json", "markdown"].includes(opts.output)) {
    throw new UsageError(
      `--only-images prints -o diff, yaml, json or markdown, not ${opts.output}`,
    );
  }
  const context = nonNegative("--unified", opts.unified);
  const limitBytes = nonNegative("--limit-bytes", opts.limitBytes);
  await configureLogging({
    level: opts.verbose ? "debug" : "warn",
    format: opts.logFormat ?? "pretty",
  });

  const plan = planFor(mode, opts, name);
  // Tools first, as build and test: a missing kustomize (or helm, when
  // HelmReleases are compared) is one message with the install command.
  await findTool("kustomize");
  if (plan.helm) await findTool("helm");
  const cwd = process.cwd();
  const other = await openOtherSide({
    path: opts.path,
    cwd,
    ...(opts.pathOrig !== undefined ? { pathOrig: opts.pathOrig } : {}),
    ...((opts.branchOrig ?? opts.base) !== undefined
      ? { revision: opts.branchOrig ?? opts.base }
      : {}),
  });
  try {
    // One memo for both sides: an owner with the same inputs renders once.
    // --full gives each side its own, so everything renders twice.
    const memoAfter = new RenderMemo();
    const memoBefore = opts.full ? new RenderMemo() : memoAfter;
    const otherExists = await isDirectory(other.path);
    const renderBoth = (withHelm: Plan) =>
      Promise.all([
        render(requestFor(opts, withHelm, memoAfter, opts.path)),
        otherExists ? render(requestFor(opts, withHelm, memoBefore, other.path)) : undefined,
      ]);
    // First the Kustomizations; then only the HelmReleases whose inputs may differ.
    let [after, before] = await renderBoth({ ...plan, helm: false });
    const kustomizeReused = memoAfter.reused("kustomize");
    let skippedReleases = 0;
    if (plan.helm && plan.helmReleases) {
      const selection = plan.helmReleases;
      const selected = (e: StoreEntry) => matches(e, selection);
      const toRender = opts.full
        ? new Set(
            [...after.store.list("HelmRelease"), ...(before?.store.list("HelmRelease") ?? [])]
              .filter(selected)
              .map((e) => e.key),
          )
        : await releasesToRender(before, after, selected);
      skippedReleases = after.store.list("HelmRelease").filter(selected).length;
      skippedReleases -= [...toRender].filter((k) => after.store.has(k)).length;
      if (toRender.size > 0) {
        [after, before] = await renderBoth({ ...plan, helmKeys: toRender });
      }
    }
    if (opts.pathOrig !== undefined && before && before.store.list("Kustomization").length === 0) {
      throw new UsageError(
        `--path-orig ${opts.pathOrig} holds no Flux Kustomizations: point it at the same cluster folder as --path`,
      );
    }
    const filter = (objects: readonly KubeObject[]) => filterObjects(objects, opts);
    const collectOptions = {
      ...(plan.kustomizations ? { kustomizations: plan.kustomizations } : {}),
      ...(plan.helmReleases ? { helmReleases: plan.helmReleases } : {}),
      ...(plan.resourceSets ? { resourceSets: plan.resourceSets } : {}),
      filter,
    };
    const a = collectSide(after, collectOptions);
    const b: CollectedSide = before
      ? collectSide(before, collectOptions)
      : { side: new Map(), inputs: new Map(), selected: 0 };

    let failed = reportIssues(after, "current side");
    if (before) failed += reportIssues(before, `original side (${other.label})`);

    if (a.selected === 0 && b.selected === 0 && (plan.name !== undefined || mode !== "all")) {
      await emit(notFoundMessage(plan), opts.outputFile);
      return failed ? EXIT_RENDER_FAILED : 0;
    }

    const stripAttrs = [
      ...(opts.defaultStripAttrs === false ? [] : DEFAULT_STRIP_ATTRS),
      ...opts.stripAttrs
        .flatMap((s) => s.split(","))
        .map((s) => s.trim())
        .filter(Boolean),
    ];
    const groups = compareSides(b.side, a.side, { stripAttrs });
    for (const g of groups) {
      if (g.status === "unchanged") continue;
      const causes = compareInputs(b.inputs.get(g.key), a.inputs.get(g.key));
      if (causes.length) g.causes = causes;
    }
    const counts: RenderCounts = opts.full
      ? {
          rendered: memoAfter.renders() + (memoBefore === memoAfter ? 0 : memoBefore.renders()),
          reused: 0,
          full: true,
        }
      : {
          rendered: memoAfter.renders(),
          reused: kustomizeReused + memoAfter.reused("helm") + skippedReleases,
          full: false,
        };
    failed += reportFailures(groups, { before: other.label, after: "working tree" });

    const shown = changedGroups(groups);
    const plain = shown.filter((g) => g.status !== "failed");
    if (opts.onlyImages) {
      const images = compareImages(b.side, a.side);
      const text =
        opts.output === "yaml"
          ? imageChangesYaml(images)
          : opts.output === "json"
            ? `${JSON.stringify(imageChangesData(images), null, 2)}\n`
            : opts.output === "markdown"
              ? imageChangesMarkdown(images)
              : imageChangesText(images);
      if (opts.quiet !== true) process.stderr.write(`${countsLine(counts)}\n`);
      await emit(text, opts.outputFile);
      if (failed) return EXIT_RENDER_FAILED;
      if (opts.exitCode && images.length > 0) return EXIT_DIFFERENCES;
      return 0;
    }
    let text = "";
    const quiet = opts.quiet === true;
    switch (opts.output) {
      case "yaml":
        text = diffYaml(plain, { context, limitBytes });
        break;
      case "json":
        text = diffJson(plain, { context, limitBytes });
        break;
      case "changes":
        text = changesText(groups, counts);
        break;
      case "changes-json":
        text = `${JSON.stringify(changesDocument(groups, counts), null, 2)}\n`;
        break;
      case "markdown":
        text = markdownComment(groups, { context, counts });
        break;
      case "summary":
        text = planText(groups, counts);
        break;
      default: {
        const external = process.env.DIFF;
        text = external
          ? await externalDiff(external, plain, limitBytes)
          : diffLines(plain, { context, limitBytes })
              .map((l) => `${l}\n`)
              .join("");
      }
    }
    const flux = ["diff", "object", "yaml", "json"].includes(opts.output);
    if (flux && opts.plan) text = planText(groups, counts) + text;
    else if (flux && !quiet) process.stderr.write(planText(groups, counts));
    else if (!quiet && !["changes", "changes-json", "markdown", "summary"].includes(opts.output))
      process.stderr.write(`${countsLine(counts)}\n`);
    await emit(text, opts.outputFile);

    if (failed) return EXIT_RENDER_FAILED;
    if (opts.exitCode && plain.some((g) => g.changes.length > 0)) return EXIT_DIFFERENCES;
    return 0;
  } finally {
    await other.cleanup();
  }
}

const EXAMPLES: Record<Mode, Example[]> = {
  ks: [
    {
      does: "what your uncommitted changes do to every Kustomization's objects",
      run: "flux-local diff ks --path clusters/prod",
    },
    {
      does: "one Kustomization, this branch against its merge-base with upstream",
      run: "flux-local diff ks apps --path clusters/prod --base auto",
    },
    {
      does: "against another checkout, as field-level changes",
      run: "flux-local diff ks --path clusters/prod --path-orig ../main/clusters/prod -o changes",
    },
  ],
  hr: [
    {
      does: "one HelmRelease's rendered objects against the main branch",
      run: "flux-local diff hr podinfo -n podinfo --path clusters/prod --branch-orig main",
    },
    {
      does: "every HelmRelease, ignoring one more noisy label",
      run: "flux-local diff hr -A --path clusters/prod --strip-attrs team",
    },
  ],
  all: [
    {
      does: "everything, HelmReleases included, as a pull-request comment",
      run: "flux-local diff all clusters/prod --enable-helm --base auto -o markdown",
    },
    {
      does: "the plan alone: what is added, changed, removed, and why",
      run: "flux-local diff all --path clusters/prod -o summary",
    },
  ],
};

const DIFF_NOTE =
  "`diff ks [NAME]` and `diff hr [NAME]` take the name of one object (the cluster folder is --path);\n" +
  "`diff all [PATH]` takes the cluster folder itself. The other side is HEAD unless --path-orig,\n" +
  "--branch-orig or --base says otherwise. Exit code 0 with or without differences (1 with\n" +
  "--exit-code), 2 bad usage, 3 a render failed on either side.";

export function diffCommand(setExit: (code: number) => void): Command {
  const diff = new Command("diff").description(
    "render both sides of a change (working tree vs HEAD, a revision or a directory) and show what differs",
  );
  addExamples(diff, [EXAMPLES.ks[0]!, EXAMPLES.hr[0]!, EXAMPLES.all[0]!], DIFF_NOTE);
  const sub = (names: string[], mode: Mode, description: string) => {
    for (const alias of names) {
      const cmd = new Command(alias).description(description);
      if (mode === "all") cmd.argument("[path]", "the cluster folder (same as --path)");
      else
        cmd.argument(
          "[name]",
          `only this ${mode === "ks" ? "Kustomization" : "HelmRelease"} (the folder is --path)`,
        );
      if (alias === names[0]) addExamples(cmd, EXAMPLES[mode], DIFF_NOTE);
      addDiffOptions(addSelectionOptions(addCommonOptions(cmd)), mode).action(
        async (arg: string | undefined, opts: DiffOptions) => {
          if (mode === "all" && arg) opts.path = arg;
          setExit(await runDiff(mode, mode === "all" ? undefined : arg, opts));
        },
      );
      diff.addCommand(cmd, alias === names[0] ? {} : { hidden: true });
    }
  };
  sub(["ks", "kustomizations", "kustomization"], "ks", "diff Kustomizations' objects");
  sub(
    ["hr", "helmreleases", "helmrelease"],
    "hr",
    "diff HelmReleases' rendered objects (needs helm)",
  );
  sub(["all"], "all", "diff everything (HelmReleases too with --enable-helm)");
  return diff;
}
