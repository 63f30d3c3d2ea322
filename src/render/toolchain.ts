/**
 * What flux-local finds of the tools it runs, where, and at which version: for
 * `flux-local --version` and `flux-local doctor`. Each tool is looked up the
 * way rendering looks it up (environment variable, .tools/bin, PATH), so what
 * is reported is what a render would run.
 */
import { execa } from "execa";
import path from "node:path";
import { findTool, INSTALL_HINTS, isExecutable, onPath } from "../exec/tools.js";
import { packageRoot } from "../util/package-info.js";
import { errorMessage } from "../util/errors.js";
import { findHelmWorker } from "./helm/runner.js";
import { findWorker } from "./kustomize/runner.js";

export interface ToolStatus {
  name: string;
  /** What flux-local uses it for. */
  purpose: string;
  /** Without it nothing renders (doctor exits 1). */
  required: boolean;
  path?: string;
  /** How it was found: an environment variable, ".tools/bin" or "PATH". */
  via?: string;
  version?: string;
  /** Why it is missing or unusable. */
  problem?: string;
  /** How to install it; empty when nothing is to be done. */
  install: string;
}

const VERSION_TIMEOUT_MS = 15_000;

/** A lookup failure, said briefly (the install command is printed apart). */
function problemOf(err: unknown, searched: string): string {
  const message = errorMessage(err);
  return message.includes("not found on PATH") ? `not found (searched ${searched})` : message;
}

/** The first line a command prints, or undefined when it fails. */
async function firstLine(file: string, args: readonly string[]): Promise<string | undefined> {
  const result = await execa(file, args, {
    reject: false,
    timeout: VERSION_TIMEOUT_MS,
    stdin: "ignore",
  });
  if (result.exitCode !== 0) return undefined;
  const line = String(result.stdout).split("\n")[0]?.trim();
  // "git version 2.39.5", "client: 0.59.0": the version alone.
  return line?.replace(/^(git version|client:)\s*/, "") || undefined;
}

/** A worker prints `{"ready":true,"kustomize":"vX"}` (or `"helm"`) on start and exits when stdin closes. */
async function workerVersion(file: string, tool: string): Promise<string | undefined> {
  const result = await execa(file, [], {
    reject: false,
    timeout: VERSION_TIMEOUT_MS,
    input: "",
  });
  const line = String(result.stdout).split("\n")[0] ?? "";
  try {
    const ready = JSON.parse(line) as Record<string, unknown>;
    return typeof ready[tool] === "string" ? ready[tool] : undefined;
  } catch {
    return undefined;
  }
}

async function kustomizeStatus(): Promise<ToolStatus> {
  const base = {
    name: "kustomize",
    purpose: "builds Kustomizations",
    required: true,
    install: INSTALL_HINTS.kustomize ?? "",
  };
  try {
    const tool = await findTool("kustomize");
    const version =
      tool.prefix.length > 0
        ? await firstLine(tool.file, ["version", "--client"])
        : await firstLine(tool.file, ["version"]);
    return { ...base, path: tool.file, via: tool.via, version, install: "" };
  } catch (err) {
    return {
      ...base,
      problem: problemOf(err, "FLUX_LOCAL_KUSTOMIZE, .tools/bin, PATH, kubectl on PATH"),
    };
  }
}

async function helmStatus(): Promise<ToolStatus> {
  const base = {
    name: "helm",
    purpose: "renders HelmReleases (build hr, --enable-helm)",
    required: false,
    install: INSTALL_HINTS.helm ?? "",
  };
  try {
    const tool = await findTool("helm");
    const version = await firstLine(tool.file, ["version", "--short"]);
    return { ...base, path: tool.file, via: tool.via, version, install: "" };
  } catch (err) {
    return { ...base, problem: problemOf(err, "FLUX_LOCAL_HELM, .tools/bin, PATH") };
  }
}

/** A worker of `tool` (kustomize, helm): found by `find`, switched by `setting`. */
async function workerStatus(
  tool: "kustomize" | "helm",
  find: () => Promise<string | undefined>,
  setting: string,
  toolSetting: string,
  call: string,
): Promise<ToolStatus> {
  const base = {
    name: `${tool} worker`,
    purpose: `one long-lived ${tool} per ${call} slot (faster); optional`,
    required: false,
    install: `optional: in a flux-local checkout \`npm run setup\` builds it (needs Go); or set ${setting} to its path`,
  };
  const fallback = `one ${tool} process per ${call}`;
  try {
    const file = await find();
    if (!file) {
      if (["0", "false", "off"].includes(process.env[setting] ?? ""))
        return { ...base, problem: `switched off by ${setting} (${fallback})`, install: "" };
      if (process.env[toolSetting]) {
        return {
          ...base,
          problem: `not used: ${toolSetting} picks another ${tool} (${fallback})`,
          install: "",
        };
      }
      return { ...base, problem: `not found (${fallback})` };
    }
    const via = process.env[setting] ? setting : ".tools/bin";
    return { ...base, path: file, via, version: await workerVersion(file, tool), install: "" };
  } catch (err) {
    return { ...base, problem: errorMessage(err) };
  }
}

/** A tool found in .tools/bin (a checkout) or on PATH. */
async function plainStatus(
  name: string,
  purpose: string,
  versionArgs: readonly string[],
): Promise<ToolStatus> {
  const base = { name, purpose, required: false, install: INSTALL_HINTS[name] ?? "" };
  const local = path.join(packageRoot, ".tools", "bin", name);
  let file: string | undefined;
  let via: string | undefined;
  if (await isExecutable(local)) {
    file = local;
    via = ".tools/bin";
  } else {
    file = await onPath(name);
    via = file ? "PATH" : undefined;
  }
  if (!file) return { ...base, problem: "not found on PATH" };
  return { ...base, path: file, via, version: await firstLine(file, versionArgs), install: "" };
}

/** Every tool flux-local looks for, in the order doctor prints them. */
export async function inspectTools(
  which: { optional?: boolean } = { optional: true },
): Promise<ToolStatus[]> {
  const core = await Promise.all([
    kustomizeStatus(),
    helmStatus(),
    workerStatus(
      "kustomize",
      findWorker,
      "FLUX_LOCAL_KUSTOMIZE_WORKER",
      "FLUX_LOCAL_KUSTOMIZE",
      "build",
    ),
    workerStatus("helm", findHelmWorker, "FLUX_LOCAL_HELM_WORKER", "FLUX_LOCAL_HELM", "render"),
  ]);
  if (which.optional === false) return core;
  const extra = await Promise.all([
    plainStatus("flux-operator", "renders ResourceSets; optional", ["version", "--client"]),
    plainStatus("git", "diff against a revision, git sources; optional", ["--version"]),
  ]);
  return [...core, ...extra];
}

/** One line per tool: `name version (path, via)` or `name: not found`. */
export function formatToolLine(status: ToolStatus): string {
  if (!status.path) return `${status.name}: ${status.problem ?? "not found"}`;
  const where = status.via ? `${status.path}, from ${status.via}` : status.path;
  return `${status.name} ${status.version ?? "(version unknown)"} (${where})`;
}

/** The doctor report: each tool, then how to install what is missing. */
export function formatDoctorReport(statuses: readonly ToolStatus[]): string {
  const lines: string[] = [];
  for (const s of statuses) {
    const mark = s.path ? "ok     " : s.required ? "MISSING" : "absent ";
    lines.push(`${mark} ${formatToolLine(s)}`);
    lines.push(`        ${s.purpose}`);
  }
  const todo = statuses.filter((s) => !s.path && s.install);
  if (todo.length > 0) {
    lines.push("", "To install:");
    for (const s of todo) lines.push(`  ${s.name}${s.required ? " (required)" : ""}: ${s.install}`);
  }
  return lines.join("\n") + "\n";
}

/** Doctor's exit code: 1 when a required tool is missing. */
export function doctorExitCode(statuses: readonly ToolStatus[]): number {
  return statuses.some((s) => s.required && !s.path) ? 1 : 0;
}
