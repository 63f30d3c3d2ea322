/**
 * `flux-local test [ks|hr|rset|ag|all] [NAME]` (or `flux-local test PATH`, as the Python
 * flux-local accepted): render the repository and report every Kustomization
 * and HelmRelease as a test, PASSED, FAILED or SKIPPED, with the failure message
 * (and its root cause) under each failure and a closing count. `--junit FILE`
 * and `--json FILE` write machine-readable results for CI.
 */
import { Command, Option } from "commander";
import type { Failure } from "../../views/failures.js";
import { formatJsonReport, toJsonReport } from "../../views/json.js";
import { formatAnnotation, isGitHubActions, workspacePath } from "../../views/github.js";
import { toJUnit } from "../../views/junit.js";
import {
  collectTestRun,
  formatSeconds,
  summaryLine,
  type TestCase,
  type TestRun,
} from "../../views/test-results.js";
import { failedKustomizations, matches, type Selection } from "../../views/select.js";
import type { RenderResult } from "../../run.js";
import type { StoreEntry } from "../../store/store.js";
import { errorMessage, FluxLocalError, UsageError } from "../../util/errors.js";
import { checkOutputFile, emit, writeAtomically } from "../format/output.js";
import { styleFor, type Style } from "../format/style.js";
import {
  addCommonOptions,
  addHelmOptions,
  addSelectionOptions,
  renderRequestWithHelm,
  selectionOf,
  type CommonOptions,
  type HelmOptions,
  type SelectionOptions,
} from "../options.js";
import { annotationRoot, EXIT_FAILED, EXIT_OK, reportToGitHub, startRun } from "../run.js";
import { printable, printableLines, redactUrls } from "../../util/printable.js";
import { addExamples } from "../help.js";

type TestOptions = CommonOptions &
  SelectionOptions &
  HelmOptions & { enableHelm?: boolean; junit?: string; json?: string };

/** What `test` reports on, by the word given on the command line. */
const WHAT: Record<string, readonly string[]> = {
  ks: ["Kustomization"],
  kustomization: ["Kustomization"],
  kustomizations: ["Kustomization"],
  hr: ["HelmRelease"],
  helmrelease: ["HelmRelease"],
  helmreleases: ["HelmRelease"],
  rset: ["ResourceSet"],
  resourceset: ["ResourceSet"],
  resourcesets: ["ResourceSet"],
  ag: ["ArtifactGenerator"],
  artifactgenerator: ["ArtifactGenerator"],
  artifactgenerators: ["ArtifactGenerator"],
  all: ["Kustomization", "HelmRelease", "ResourceSet", "ArtifactGenerator"],
};

export interface TestTarget {
  kinds: readonly string[];
  name?: string;
  /** A path given in the Python flux-local's form `test PATH`. */
  path?: string;
}

/**
 * `[ks|hr|rset|ag|all] [NAME]`, or a lone PATH (the Python flux-local's `test PATH`):
 * a first word that is not a kind is a path.
 */
export function parseTestTarget(what: string | undefined, second: string | undefined): TestTarget {
  if (what === undefined) return { kinds: WHAT.all ?? [] };
  const kinds = WHAT[what.toLowerCase()];
  if (kinds) return { kinds, ...(second ? { name: second } : {}) };
  if (second !== undefined) {
    throw new UsageError(
      `test ${what} ${second}: expected "test [ks|hr|rset|ag|all] [NAME]" or "test PATH" (the first word is not ks, hr, rset, ag or all)`,
    );
  }
  return { kinds: WHAT.all ?? [], path: what };
}

/** The entries a test run reports on (see `test --help`). */
export function testedEntries(
  result: RenderResult,
  target: TestTarget,
  selection: Selection,
): StoreEntry[] {
  const selected = target.kinds.flatMap((kind) =>
    result.store.list(kind).filter((e) => matches(e, selection)),
  );
  if (target.kinds.includes("Kustomization")) return selected;
  // HelmReleases only: a Kustomization that failed hides the releases it would
  // have produced, so it fails the test run too (never a green run with holes).
  return [...selected, ...failedKustomizations(result)];
}

const LABEL: Record<TestCase["outcome"], string> = {
  passed: "PASSED ",
  failed: "FAILED ",
  skipped: "SKIPPED",
};

function indent(text: string, prefix: string): string {
  return text
    .split("\n")
    .map((line) => `${prefix}${line}`)
    .join("\n");
}

/** The human report: one line per case, the failure under each failure, the closing count. */
export function formatTestRun(run: TestRun, style: Style): string {
  const out: string[] = [];
  for (const c of run.cases) {
    const tone = c.outcome === "passed" ? "ready" : c.outcome === "failed" ? "failed" : "suspended";
    const what = printable(c.kind === "Repository" ? `file ${c.name}` : `${c.kind} ${c.name}`);
    const time =
      c.durationMs !== undefined && c.outcome !== "skipped"
        ? ` ${style.dim(`(${formatSeconds(c.durationMs)})`)}`
        : "";
    let line = `${style.icon(tone)}${style.paint(tone, LABEL[c.outcome])} ${what}${time}`;
    if (c.outcome === "skipped" && c.message) line += style.dim(`: ${printable(c.message)}`);
    out.push(line);
    if (c.outcome !== "failed") continue;
    const pad = "    ";
    if (c.location && c.kind !== "Repository") out.push(`${pad}at ${printable(c.location)}`);
    out.push(indent(`${c.reason}: ${printableLines(redactUrls(c.message), "")}`, pad));
    if (c.rootCause) {
      const where = c.rootCause.location ? ` (${c.rootCause.location})` : "";
      out.push(
        indent(
          `root cause: ${printable(c.rootCause.object)}${printable(where)}: ${c.rootCause.reason}: ${printableLines(redactUrls(c.rootCause.message), "")}`,
          pad,
        ),
      );
    }
  }
  if (run.cases.length > 0) out.push("");
  for (const w of run.warnings) {
    out.push(
      `${style.icon("suspended")}${style.paint("suspended", "WARNING")} ${w.location ? `${w.location}: ` : ""}${w.message}`,
    );
  }
  if (run.warnings.length > 0) out.push("");
  const tone = run.failed > 0 ? "failed" : "ready";
  out.push(style.bold(style.paint(tone, summaryLine(run))));
  return out.join("\n") + "\n";
}

function asFailures(run: TestRun): Failure[] {
  return run.cases
    .filter((c) => c.outcome === "failed")
    .map((c) => {
      const [kind, namespace, name] = c.kind === "Repository" ? [] : [c.kind, ...c.name.split("/")];
      return {
        ...(c.object ? { object: c.object } : {}),
        ...(kind ? { kind, namespace: namespace ?? "", name: name ?? "" } : {}),
        ...(c.location ? { location: c.location } : {}),
        ...(c.file ? { file: c.file } : {}),
        ...(c.line ? { line: c.line } : {}),
        reason: c.reason,
        message: redactUrls(c.message),
        ...(c.rootCause
          ? {
              rootCause: {
                object: c.rootCause.object,
                reason: c.rootCause.reason,
                message: redactUrls(c.rootCause.message),
              },
            }
          : {}),
      };
    });
}

/** Write a report file atomically; a file that cannot be written fails the command, named. */
async function writeReport(flag: string, file: string, content: string): Promise<void> {
  try {
    await writeAtomically(file, content);
  } catch (err) {
    throw new FluxLocalError(`${flag} ${file}: cannot write the file: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

export function testCommand(setExit: (code: number) => void): Command {
  const cmd = new Command("test")
    .description(
      "render everything and report each Kustomization, HelmRelease and ResourceSet as a test (PASSED, FAILED, SKIPPED)",
    )
    .argument(
      "[what]",
      "ks, hr, rset, ag (ArtifactGenerators) or all (default all); or the PATH to test, as in flux-local",
    )
    .argument("[name]", "only objects with this name")
    .option("--enable-helm", "render HelmReleases with helm too (otherwise they are SKIPPED)")
    .addOption(new Option("--no-enable-helm", "skip HelmReleases (default)").hideHelp())
    .addOption(
      new Option(
        "--verbosity <n>",
        "flux-local's pytest verbosity; no-op (every case is listed)",
      ).hideHelp(),
    )
    .option("--junit <file>", "also write the results as JUnit XML to this file")
    .option(
      "--json <file>",
      "also write every object's status, reason, message, source file and timings as JSON",
    );
  addExamples(
    cmd,
    [
      {
        does: "every Kustomization of a cluster folder",
        run: "flux-local test --path clusters/prod",
      },
      {
        does: "HelmReleases too, with a JUnit report for CI",
        run: "flux-local test all --enable-helm --path clusters/prod --junit report.xml",
      },
      {
        does: "one HelmRelease, by name",
        run: "flux-local test hr podinfo -n podinfo --enable-helm --path clusters/prod",
      },
    ],
    "`test [ks|hr|rset|all] [NAME]` tests one kind (or one object by name) of the folder at --path;\n" +
      "`test PATH` (flux-local's form) tests everything under PATH. Without -n, every namespace is\n" +
      "tested. Reading problems (YAML that does not parse, duplicate objects) fail the run. Exit code\n" +
      "1 when anything failed.",
  );
  addHelmOptions(addSelectionOptions(addCommonOptions(cmd))).action(
    async (what: string | undefined, second: string | undefined, opts: TestOptions) => {
      const target = parseTestTarget(what, second);
      if (target.path !== undefined && cmd.getOptionValueSource("path") === "cli") {
        throw new UsageError(`test ${target.path}: give the path either as --path or as PATH`);
      }
      if (opts.junit) await checkOutputFile("--junit", opts.junit);
      if (opts.json) await checkOutputFile("--json", opts.json);
      const cwd = process.cwd();
      const startedAt = new Date();
      const started = performance.now();
      const helmEnabled = opts.enableHelm === true;
      const result = await startRun(opts, renderRequestWithHelm(opts, target.path));
      const selection = selectionOf(opts, target.name);
      // Every namespace unless -n was given (flux-local's test covered the whole cluster).
      if (cmd.getOptionValueSource("namespace") !== "cli") selection.allNamespaces = true;
      const entries = testedEntries(result, target, selection);
      const run = collectTestRun(result, entries, {
        cwd,
        helmEnabled,
        durationMs: performance.now() - started,
      });

      await emit(formatTestRun(run, styleFor(process.stdout)));
      if (opts.junit) {
        await writeReport("--junit", opts.junit, toJUnit(run, { timestamp: startedAt }));
      }
      if (opts.json) {
        const report = toJsonReport(result, run, { cwd, startedAt });
        await writeReport("--json", opts.json, formatJsonReport(report));
      }
      const root = annotationRoot(result);
      reportToGitHub(asFailures(run), `flux-local test: ${summaryLine(run)}`, root);
      if (isGitHubActions()) {
        for (const w of run.warnings) {
          const file = w.file ? workspacePath(w.file, cwd, root) : undefined;
          const annotation = formatAnnotation({
            level: "warning",
            message: w.message,
            title: `flux-local: ${w.reason}`,
            ...(file ? { file } : {}),
            ...(w.line ? { line: w.line } : {}),
          });
          process.stderr.write(`${annotation}\n`);
        }
      }
      if (target.name && entries.length === 0) {
        process.stderr.write(
          `flux-local: nothing to test: no ${target.kinds.join(" or ")} named ${target.name}${selection.allNamespaces ? "" : ` in namespace ${selection.namespace}`}\n`,
        );
        setExit(EXIT_FAILED);
        return;
      }
      setExit(run.failed > 0 ? EXIT_FAILED : EXIT_OK);
    },
  );
  return cmd;
}
