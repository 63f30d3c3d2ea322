/**
 * A run seen as a test suite: one test case per Kustomization and HelmRelease
 * (PASSED, FAILED or SKIPPED, with the message, the root cause, where the object
 * was defined and how long it took), plus one failed case per problem found
 * while reading the repository. Shared by `flux-local test`, JUnit and JSON.
 */
import path from "node:path";
import type { RenderResult } from "../run.js";
import type { StoreEntry } from "../store/store.js";
import { failureOf, location } from "./failures.js";

export type TestOutcome = "passed" | "failed" | "skipped";

/** Kinds a test run reports on, in the order it prints them. */
export const TESTED_KINDS = ["Kustomization", "HelmRelease", "ResourceSet"] as const;
export type TestedKind = (typeof TESTED_KINDS)[number];

/** The pseudo kind of problems that belong to a file, not to an object. */
export const REPOSITORY_KIND = "Repository";

export interface TestCase {
  /** `Kustomization`, `HelmRelease`, or `Repository` for reading problems. */
  kind: string;
  /** `namespace/name`, or `file:line` for reading problems. */
  name: string;
  /** Store key (`Kind/namespace/name`), when the case is an object. */
  object?: string;
  outcome: TestOutcome;
  phase?: string;
  reason: string;
  message: string;
  rootCause?: { object: string; reason: string; message: string; location?: string };
  /** `file:line`, `produced by Kind/ns/name`, or both. */
  location?: string;
  file?: string;
  line?: number;
  producer?: string;
  startedAt?: number;
  finishedAt?: number;
  durationMs?: number;
}

/** A warning of the run (an API version Flux removed): it fails nothing. */
export interface TestWarning {
  /** `file:line`, when known. */
  location?: string;
  file?: string;
  line?: number;
  object?: string;
  reason: string;
  message: string;
}

export interface TestRun {
  cases: TestCase[];
  warnings: TestWarning[];
  passed: number;
  failed: number;
  skipped: number;
  durationMs: number;
}

export interface CollectOptions {
  /** Working directory that locations are shown relative to. */
  cwd: string;
  /** Whether HelmReleases were rendered in this run (explains why they were not). */
  helmEnabled: boolean;
}

/** How a reconciled object's final status reads as a test outcome. */
export function outcomeOf(
  entry: StoreEntry,
  options: CollectOptions,
): Omit<TestCase, "kind" | "name"> {
  const { status } = entry;
  const timing = {
    ...(status.startedAt !== undefined ? { startedAt: status.startedAt } : {}),
    ...(status.finishedAt !== undefined ? { finishedAt: status.finishedAt } : {}),
    ...(status.startedAt !== undefined && status.finishedAt !== undefined
      ? { durationMs: Math.max(0, status.finishedAt - status.startedAt) }
      : {}),
  };
  const where = location(entry, options.cwd);
  const base = {
    object: entry.key,
    phase: status.phase,
    ...where,
    ...(entry.origin.producer ? { producer: entry.origin.producer } : {}),
    ...timing,
  };
  switch (status.phase) {
    case "Ready":
      return { ...base, outcome: "passed", reason: status.reason, message: status.message };
    case "Suspended":
    case "Skipped":
      return { ...base, outcome: "skipped", reason: status.reason, message: status.message };
    case "Failed":
      return { ...base, outcome: "failed", reason: status.reason, message: status.message };
    case "Pending":
    case "Reconciling":
      // Nothing reconciled it: HelmReleases when helm rendering is off.
      if (entry.ref.kind === "HelmRelease" && !options.helmEnabled) {
        return {
          ...base,
          outcome: "skipped",
          reason: "Skipped",
          message: "not rendered: HelmRelease rendering is off (use --enable-helm)",
        };
      }
      return {
        ...base,
        outcome: "failed",
        reason: status.reason,
        message: `${entry.ref.kind} was never reconciled${status.message ? ` (${status.message})` : ""}`,
      };
  }
}

function caseOf(result: RenderResult, entry: StoreEntry, options: CollectOptions): TestCase {
  const outcome = outcomeOf(entry, options);
  const testCase: TestCase = {
    kind: entry.ref.kind,
    name: `${entry.ref.namespace}/${entry.ref.name}`,
    ...outcome,
  };
  if (outcome.outcome === "failed") {
    const failure = failureOf(result, entry, options.cwd);
    if (failure.rootCause) {
      const root = result.store.get(failure.rootCause.object);
      const rootWhere = root ? location(root, options.cwd).location : undefined;
      testCase.rootCause = {
        ...failure.rootCause,
        ...(rootWhere ? { location: rootWhere } : {}),
      };
    }
  }
  return testCase;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The test cases of a run: reading problems first (they fail the run whatever
 * was selected), then the selected entries by kind, namespace and name.
 */
export function collectTestRun(
  result: RenderResult,
  entries: readonly StoreEntry[],
  options: CollectOptions & { durationMs: number },
): TestRun {
  const cases: TestCase[] = [];
  const warnings: TestWarning[] = [];
  for (const issue of result.issues) {
    if (issue.severity !== "error") {
      const file = issue.file ? relative(issue.file, options.cwd) : undefined;
      warnings.push({
        ...(file ? { file, location: issue.line ? `${file}:${issue.line}` : file } : {}),
        ...(issue.line ? { line: issue.line } : {}),
        ...(issue.object ? { object: issue.object } : {}),
        reason: issue.reason,
        message: issue.message,
      });
      continue;
    }
    const file = issue.file ? relative(issue.file, options.cwd) : undefined;
    const where = file ? (issue.line ? `${file}:${issue.line}` : file) : undefined;
    cases.push({
      kind: REPOSITORY_KIND,
      name: where ?? issue.object ?? "repository",
      ...(issue.object ? { object: issue.object } : {}),
      outcome: "failed",
      reason: issue.reason,
      message: issue.message,
      ...(where ? { location: where } : {}),
      ...(file ? { file } : {}),
      ...(issue.line ? { line: issue.line } : {}),
    });
  }
  const kindRank = (kind: string) => {
    const i = (TESTED_KINDS as readonly string[]).indexOf(kind);
    return i < 0 ? TESTED_KINDS.length : i;
  };
  const sorted = [...new Map(entries.map((e) => [e.key, e])).values()].sort(
    (a, b) =>
      kindRank(a.ref.kind) - kindRank(b.ref.kind) ||
      compareText(a.ref.kind, b.ref.kind) ||
      compareText(a.ref.namespace, b.ref.namespace) ||
      compareText(a.ref.name, b.ref.name),
  );
  for (const entry of sorted) {
    cases.push(caseOf(result, entry, options));
    // An object's own warnings (a Secret that exists only in the cluster).
    const where = location(entry, options.cwd);
    for (const message of entry.status.warnings ?? []) {
      warnings.push({
        ...where,
        object: entry.key,
        reason: "SecretNotInRepository",
        message: `${entry.ref.kind} ${entry.ref.namespace}/${entry.ref.name}: ${message}`,
      });
    }
  }
  const count = (o: TestOutcome) => cases.filter((c) => c.outcome === o).length;
  return {
    cases,
    warnings,
    passed: count("passed"),
    failed: count("failed"),
    skipped: count("skipped"),
    durationMs: options.durationMs,
  };
}

function relative(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel;
}

/** `3 passed, 1 failed, 0 skipped in 1.24 s` (`, 2 warnings` before `in` when there are any) */
export function summaryLine(
  run: Pick<TestRun, "passed" | "failed" | "skipped" | "durationMs"> & {
    warnings?: readonly unknown[];
  },
) {
  const n = run.warnings?.length ?? 0;
  const warnings = n > 0 ? `, ${plural(n, "warning")}` : "";
  return `${run.passed} passed, ${run.failed} failed, ${run.skipped} skipped${warnings} in ${formatSeconds(run.durationMs)}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s < 10 ? s.toFixed(2) : s < 100 ? s.toFixed(1) : Math.round(s).toString()} s`;
}
