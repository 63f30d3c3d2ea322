/**
 * Running a render for a command and finishing it: the failure summary on
 * stderr, and the exit code (only the CLI maps errors to exit codes).
 */
import { findTool } from "../exec/tools.js";
import { appendFileSync } from "node:fs";
import path from "node:path";
import { suggestFluxPaths } from "../discovery/suggest.js";
import { render, type RenderRequest, type RenderResult } from "../run.js";
import { failedKustomizations } from "../views/select.js";
import {
  collectFailures,
  collectWarnings,
  formatFailures,
  formatWarnings,
  type Failure,
} from "../views/failures.js";
import {
  failureAnnotation,
  failureRow,
  formatAnnotation,
  isGitHubActions,
  stepSummary,
  workspacePath,
} from "../views/github.js";
import type { StoreEntry } from "../store/store.js";
import { configureLogging, logger } from "../util/log.js";
import { styleFor } from "./format/style.js";
import { emit } from "./format/output.js";
import { kustomizeBuildFlagNotes, renderRequest, type CommonOptions } from "./options.js";
import { UsageError } from "../util/errors.js";
import { EXIT_FAILED, EXIT_OK, logLevelRequested } from "./settings.js";
import { ProgressDisplay, shouldShowProgress } from "./progress.js";
import { notReplayable, runRecorder } from "../util/run-record.js";

export { EXIT_FAILED, EXIT_OK, EXIT_USAGE, setLogLevel } from "./settings.js";

export async function startRun(opts: CommonOptions, request: RenderRequest): Promise<RenderResult> {
  for (const note of kustomizeBuildFlagNotes(opts.kustomizeBuildFlags)) {
    process.stderr.write(`note: ${note}\n`);
  }
  await configureLogging({
    level: opts.verbose ? "debug" : (logLevelRequested() ?? "warn"),
    format: opts.logFormat ?? "pretty",
  });
  // Tools first: a missing kustomize (or helm, when HelmReleases are rendered)
  // is one clear message with the install command, not a failure per object.
  await findTool("kustomize");
  if (request.helm) await findTool("helm");
  // With --verbose (debug), src/exec/run.ts logs every command it runs: argv,
  // duration and exit code, once ("command finished").

  // A live display on a terminal while the run works; erased before anything is printed.
  const progress = shouldShowProgress(opts)
    ? new ProgressDisplay(
        runRecorder()?.unrecordedStderr() ?? process.stderr,
        styleFor(process.stderr),
      )
    : undefined;
  const result = await renderWith(request, progress);
  await refuseNothingFound(result, request.path);
  return result;
}

async function renderWith(
  request: RenderRequest,
  progress: ProgressDisplay | undefined,
): Promise<RenderResult> {
  if (!progress) return render(request);
  try {
    return await render({
      ...request,
      onStore: (store) => {
        request.onStore?.(store);
        progress.observe(store);
        progress.start();
      },
    });
  } finally {
    progress.stop();
  }
}

/**
 * A `--path` without a single Flux object (no Kustomization, source,
 * HelmRelease, ...) is almost always the wrong folder: a usage error naming
 * what was searched and, when the checkout has one, the likely `--path`.
 * Never when reading the files failed (those failures are the answer).
 */
async function refuseNothingFound(result: RenderResult, given: string): Promise<void> {
  if (result.scanned.fluxObjects > 0) return;
  if (result.issues.some((i) => i.severity === "error")) return;
  const { path: target, repoRoot, inGitCheckout } = result.options;
  const files = result.scanned.files;
  const searched = `${files} YAML file${files === 1 ? "" : "s"} under ${target}`;
  const suggestions = await suggestFluxPaths(inGitCheckout ? repoRoot : process.cwd(), target);
  const show = (p: string) => path.relative(process.cwd(), p) || ".";
  const hint =
    suggestions.length > 0
      ? `did you mean ${suggestions.map((s) => `--path ${show(s)}`).join(" or ")}?`
      : "point --path at the folder with the cluster's Flux Kustomizations (the one holding flux-system/gotk-sync.yaml, or the Kustomization that builds the apps)";
  throw new UsageError(`--path ${given}: no Flux objects found (searched ${searched}); ${hint}`);
}

/** Print the failures among `entries` (and repository issues); return the exit code. */
export function finish(
  result: RenderResult,
  entries: readonly StoreEntry[],
  options: { warnings?: boolean; warningsOf?: readonly StoreEntry[] } = {},
): number {
  // Warnings of what was built (listings only list, and stay quiet).
  if (options.warnings !== false) {
    const of = options.warningsOf ?? entries;
    const warnings = formatWarnings(collectWarnings(of, process.cwd()));
    if (warnings) process.stderr.write(warnings);
  }
  const failures: Failure[] = collectFailures(result, entries, process.cwd());
  const text = formatFailures(failures);
  if (text) process.stderr.write(text);
  if (failures.length > 0) {
    reportToGitHub(
      failures,
      `flux-local: ${failures.length} failure${failures.length === 1 ? "" : "s"}`,
      annotationRoot(result),
    );
  }
  return failures.length > 0 ? EXIT_FAILED : EXIT_OK;
}

/**
 * Render, print what `list` makes of the result, and report failures: the
 * listed objects', plus every failed Kustomization (whatever its namespace),
 * because what it would have produced is missing from the listing.
 */
export async function runListing(
  opts: CommonOptions,
  setExit: (code: number) => void,
  list: (result: RenderResult) => { text: string; listed: readonly StoreEntry[] },
  request: RenderRequest = renderRequest(opts),
): Promise<void> {
  const result = await startRun(opts, request);
  const { text, listed } = list(result);
  await emit(text, (opts as { outputFile?: string }).outputFile);
  setExit(
    finish(result, [...listed, ...failedKustomizations(result, listed)], { warnings: false }),
  );
}

/**
 * What annotation paths are relative to: `GITHUB_WORKSPACE`, else the root of
 * the git checkout (GitHub wants repository-relative paths, whatever `--path`
 * or the working directory).
 */
export function annotationRoot(
  result: RenderResult,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  if (env.GITHUB_WORKSPACE) return env.GITHUB_WORKSPACE;
  return result.options.inGitCheckout ? result.options.repoRoot : undefined;
}

/**
 * Under GitHub Actions: an `::error` annotation per failure (on stderr, which
 * the runner reads as well; stdout may carry YAML) at the file and line the
 * object was defined in, and a Markdown table appended to $GITHUB_STEP_SUMMARY.
 */
export function reportToGitHub(
  failures: readonly Failure[],
  heading: string,
  root: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): void {
  if (!isGitHubActions(env)) return;
  const cwd = process.cwd();
  const toPath = (file: string) => workspacePath(file, cwd, root);
  for (const f of failures) {
    process.stderr.write(`${formatAnnotation(failureAnnotation(f, toPath))}\n`);
  }
  const summaryFile = env.GITHUB_STEP_SUMMARY;
  if (!summaryFile) return;
  notReplayable("appended to the GitHub step summary");
  try {
    appendFileSync(summaryFile, stepSummary(heading, failures.map(failureRow)));
  } catch (err) {
    logger.warn({ err, file: summaryFile }, "could not write the step summary");
  }
}
