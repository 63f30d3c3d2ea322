/**
 * `npm run conformance`: run flux-local's recorded CLI cases against our CLI.
 *
 *   npm run conformance -- [--filter SUBSTRING]... [--verbose] [--jobs N]
 *                                 [--timeout SECONDS] [--keep]
 *
 * Data: `../shared/conformance/flux-local` beside the project, or the directory
 * in FLUX_LOCAL_CONFORMANCE_DIR. Exit codes: 0 no failure, 1 some case failed,
 * 2 data or build missing, or bad usage.
 */
import { rmSync } from "node:fs";
import { access, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import PQueue from "p-queue";
import { caseName, loadCases, matchesFilter, type ConformanceCase } from "./cases.js";
import { DELIBERATE } from "./deliberate.js";
import { caseLine, countResults, detailsSection, summaryLines } from "./report.js";
import { runCase, type CaseResult } from "./run-case.js";
import { Workspace } from "./workspace.js";

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const DEFAULT_DATA_DIR = path.resolve(PROJECT_ROOT, "..", "shared", "conformance", "flux-local");

const USAGE = `usage: npm run conformance -- [options]

Runs flux-local's recorded CLI cases against bin/flux-local.js (build it first).

options:
  --filter <substring>  only cases whose name (test[id]), node id or argv contains it; repeatable
  --verbose             details of every case, not only of failures
  --jobs <n>            cases run at once (default: ${defaultJobs()})
  --timeout <seconds>   per case (default: 300)
  --keep                keep the temporary checkout and print where it is
  -h, --help            this text

environment:
  FLUX_LOCAL_CONFORMANCE_DIR  the flux-local/ data directory (default: ${DEFAULT_DATA_DIR})
`;

function defaultJobs(): number {
  return Math.max(1, Math.min(4, Math.floor(os.availableParallelism() / 2)));
}

function write(line = ""): void {
  process.stdout.write(`${line}\n`);
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

function runnerError(c: ConformanceCase, err: unknown): CaseResult {
  return {
    name: caseName(c),
    status: "FAIL",
    reason: `runner error: ${err instanceof Error ? err.message : String(err)}`,
    details: [],
  };
}

export async function main(args: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        filter: { type: "string", multiple: true, default: [] },
        verbose: { type: "boolean", short: "v", default: false },
        jobs: { type: "string" },
        timeout: { type: "string", default: "300" },
        keep: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`conformance: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    write(USAGE.trimEnd());
    return 0;
  }
  const jobs = values.jobs === undefined ? defaultJobs() : Number(values.jobs);
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isInteger(jobs) || jobs < 1 || !(timeoutSeconds > 0)) {
    process.stderr.write(
      `conformance: --jobs needs a positive whole number, --timeout a positive number\n`,
    );
    return 2;
  }

  const dataDir = path.resolve(process.env.FLUX_LOCAL_CONFORMANCE_DIR || DEFAULT_DATA_DIR);
  const isDir = await stat(dataDir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir || !(await exists(path.join(dataDir, "cases.json")))) {
    process.stderr.write(
      `conformance: no conformance data at ${dataDir} (expected a flux-local/ directory with cases.json).\n` +
        `Put shared/conformance/flux-local beside the project, or set FLUX_LOCAL_CONFORMANCE_DIR.\n`,
    );
    return 2;
  }
  const cli = path.join(PROJECT_ROOT, "bin", "flux-local.js");
  if (!(await exists(path.join(PROJECT_ROOT, "dist", "cli", "main.js")))) {
    process.stderr.write(
      `conformance: ${PROJECT_ROOT}/dist is missing: run \`npm run build\` first.\n`,
    );
    return 2;
  }

  const allCases = await loadCases(dataDir);
  const cases = allCases.filter((c) => matchesFilter(c, values.filter));
  const allNames = new Set(allCases.map(caseName));
  const stale = DELIBERATE.filter((d) => !allNames.has(caseName(d)));

  if (cases.length === 0) {
    process.stderr.write(
      `conformance: no case matches ${values.filter.map((f) => JSON.stringify(f)).join(", ")}\n`,
    );
    return 2;
  }

  let workspace: Workspace;
  try {
    workspace = await Workspace.create(dataDir);
  } catch (err) {
    process.stderr.write(
      `conformance: cannot prepare the temporary checkout: ${(err as Error).message}\n`,
    );
    return 2;
  }
  // Interrupted: remove the temp checkout before exiting.
  const onSignal = (signal: NodeJS.Signals) => {
    if (!values.keep) rmSync(workspace.root, { recursive: true, force: true });
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  const results: CaseResult[] = [];
  try {
    const ctx = { workspace, dataDir, cli, timeoutMs: timeoutSeconds * 1000 };
    const queue = new PQueue({ concurrency: jobs });
    const pending = cases.map((c) =>
      queue.add(() => runCase(c, ctx).catch((err: unknown) => runnerError(c, err)), {
        throwOnTimeout: true,
      }),
    );
    // Lines in the order of cases.json, each printed as soon as it and all before it are done.
    for (const promise of pending) {
      const result = await promise;
      results.push(result);
      write(caseLine(result));
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (values.keep) write(`kept the temporary checkout: ${workspace.repo}`);
    else await workspace.dispose();
  }

  for (const line of detailsSection(results, values.verbose)) write(line);
  for (const d of stale) {
    write(`note: deliberate entry ${d.test}[${d.id}] names no case in cases.json`);
  }
  for (const line of summaryLines(results)) write(line);
  return countResults(results).failed > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
