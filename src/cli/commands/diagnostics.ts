/**
 * `flux-local diagnostics [--path DIR]`: check the repository without rendering
 * (no kustomize, no helm). Errors on stdout as flux-local printed them
 * (`[DIAGNOSTICS FAIL]: ...`, or `[DIAGNOSTICS OK]` when there are none);
 * warnings (deprecated APIs, references that may resolve outside the
 * repository) on stderr, so stdout stays what flux-local's users matched.
 */
import path from "node:path";
import { Command } from "commander";
import { runDiagnostics, type Finding } from "../../diagnostics/index.js";
import { clusterFolder, findRepoRoot } from "../../run.js";
import {
  formatAnnotation,
  isGitHubActions,
  markdownCell,
  workspacePath,
  type Annotation,
} from "../../views/github.js";
import { formatSeconds } from "../../views/test-results.js";
import { emit } from "../format/output.js";
import { styleFor, type Style } from "../format/style.js";
import { EXIT_FAILED, EXIT_OK } from "../settings.js";
import { appendFileSync } from "node:fs";
import { printable, printableLines, redactUrls } from "../../util/printable.js";
import { addExamples } from "../help.js";

interface DiagnosticsOptions {
  path: string;
  quiet?: boolean;
}

/** One finding as a line: flux-local's wording, with the line where we know it. */
export function formatFinding(f: Finding, shown: string, style: Style): string {
  const where = f.legacy || f.line === undefined ? shown : `${shown}:${f.line}`;
  const tag =
    f.severity === "error"
      ? style.paint("failed", "[DIAGNOSTICS FAIL]")
      : style.paint("suspended", "[DIAGNOSTICS WARN]");
  return `${tag}: \`${printable(where)}\` ${printableLines(redactUrls(f.message), "")}`;
}

function githubOutput(findings: readonly Finding[], show: (file: string) => string): void {
  const env = process.env;
  if (!isGitHubActions(env)) return;
  const cwd = process.cwd();
  for (const f of findings) {
    const a: Annotation = {
      level: f.severity === "error" ? "error" : "warning",
      title: `flux-local diagnostics: ${f.check}`,
      message: redactUrls(f.message),
      file: workspacePath(show(f.file), cwd, env.GITHUB_WORKSPACE),
      ...(f.line ? { line: f.line } : {}),
    };
    process.stderr.write(`${formatAnnotation(a)}\n`);
  }
  const summaryFile = env.GITHUB_STEP_SUMMARY;
  if (!summaryFile) return;
  const errors = findings.filter((f) => f.severity === "error").length;
  const lines = [
    `### flux-local diagnostics: ${errors} error${errors === 1 ? "" : "s"}, ${findings.length - errors} warning${findings.length - errors === 1 ? "" : "s"}`,
    "",
  ];
  if (findings.length > 0) {
    lines.push("| Severity | Location | Check | Message |", "| --- | --- | --- | --- |");
    for (const f of findings) {
      const where = `${show(f.file)}${f.line ? `:${f.line}` : ""}`;
      lines.push(
        `| ${f.severity} | \`${where.replace(/`/g, "'").replace(/\|/g, "\\|")}\` | ${f.check} | ${markdownCell(f.message)} |`,
      );
    }
    lines.push("");
  }
  try {
    appendFileSync(summaryFile, lines.join("\n") + "\n");
  } catch {
    // The summary is a courtesy; the annotations and the exit code carry the result.
  }
}

export function diagnosticsCommand(setExit: (code: number) => void): Command {
  const cmd = new Command("diagnostics")
    .description(
      "check the repository without rendering: YAML that does not parse, documents that are not objects, " +
        "duplicate objects, references to sources or objects that do not exist, dependsOn cycles, deprecated Flux APIs",
    )
    .argument("[path]", "same as --path")
    .option("--path <dir>", "directory to check", ".")
    .option("-q, --quiet", "no summary line on stderr");
  addExamples(
    cmd,
    [
      {
        does: "check a cluster folder without rendering it",
        run: "flux-local diagnostics clusters/prod",
      },
      {
        does: "the whole repository, without the summary line",
        run: "flux-local diagnostics --path . -q",
      },
    ],
    "Errors go to stdout ([DIAGNOSTICS FAIL]: ...), or [DIAGNOSTICS OK] when there is none; warnings\n" +
      "([DIAGNOSTICS WARN]: ...) and the summary go to stderr. Exit code 1 when there is an error.",
  );
  cmd.action(async (pathArg: string | undefined, opts: DiagnosticsOptions) => {
    const started = performance.now();
    const given = pathArg ?? opts.path;
    const cwd = process.cwd();
    const start = await clusterFolder(cwd, given);
    const root = (await findRepoRoot(start)) ?? start;
    // Paths as the user gave them (flux-local printed `--path` joined with the file).
    const show = (file: string) => {
      const underStart = path.relative(start, file);
      if (!underStart.startsWith("..") && !path.isAbsolute(underStart)) {
        return path.join(given, underStart);
      }
      const rel = path.relative(cwd, file);
      return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel;
    };
    const result = await runDiagnostics(root, start, show);

    const out = styleFor(process.stdout);
    const err = styleFor(process.stderr);
    const errors = result.findings.filter((f) => f.severity === "error");
    const warnings = result.findings.filter((f) => f.severity === "warning");
    const stdout = errors.map((f) => formatFinding(f, show(f.file), out));
    if (errors.length === 0) stdout.push(out.paint("ready", "[DIAGNOSTICS OK]"));
    await emit(stdout.join("\n") + "\n");
    for (const f of warnings) process.stderr.write(`${formatFinding(f, show(f.file), err)}\n`);
    githubOutput(result.findings, show);
    if (!opts.quiet) {
      process.stderr.write(
        err.dim(
          `diagnostics: ${result.errors} error${result.errors === 1 ? "" : "s"}, ${result.warnings} warning${result.warnings === 1 ? "" : "s"} in ${result.files} file${result.files === 1 ? "" : "s"} (${formatSeconds(performance.now() - started)})`,
        ) + "\n",
      );
    }
    setExit(errors.length > 0 ? EXIT_FAILED : EXIT_OK);
  });
  return cmd;
}
