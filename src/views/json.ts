/**
 * The machine-readable result of a run: the test cases with their outcome,
 * and every object of the store with its status, reason, message, root cause,
 * where it was defined (file, line, producer) and its timings.
 */
import path from "node:path";
import type { RenderResult } from "../run.js";
import type { StoreEntry } from "../store/store.js";
import type { TestCase, TestRun } from "./test-results.js";

export const JSON_REPORT_VERSION = 1;

export interface JsonObject {
  key: string;
  kind: string;
  namespace: string;
  name: string;
  phase: string;
  reason: string;
  message: string;
  rootCause?: string;
  file?: string;
  line?: number;
  producer?: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
}

export interface JsonReport {
  version: number;
  startedAt?: string;
  durationMs: number;
  summary: { passed: number; failed: number; skipped: number; total: number };
  tests: Array<
    Omit<TestCase, "startedAt" | "finishedAt"> & { startedAt?: string; finishedAt?: string }
  >;
  objects: JsonObject[];
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function relative(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel;
}

/** Drop undefined fields so the JSON has no nulls standing for "unknown". */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function objectOf(entry: StoreEntry, cwd: string): JsonObject {
  const { status, origin } = entry;
  return compact({
    key: entry.key,
    kind: entry.ref.kind,
    namespace: entry.ref.namespace,
    name: entry.ref.name,
    phase: status.phase,
    reason: status.reason,
    message: status.message,
    rootCause: status.rootCause,
    file: origin.file ? relative(origin.file, cwd) : undefined,
    line: origin.line,
    producer: origin.producer,
    startedAt: iso(status.startedAt),
    finishedAt: iso(status.finishedAt),
    durationMs:
      status.startedAt !== undefined && status.finishedAt !== undefined
        ? Math.max(0, status.finishedAt - status.startedAt)
        : undefined,
  });
}

export function toJsonReport(
  result: RenderResult,
  run: TestRun,
  options: { cwd: string; startedAt?: Date },
): JsonReport {
  return {
    version: JSON_REPORT_VERSION,
    ...(options.startedAt ? { startedAt: options.startedAt.toISOString() } : {}),
    durationMs: Math.round(run.durationMs),
    summary: {
      passed: run.passed,
      failed: run.failed,
      skipped: run.skipped,
      total: run.cases.length,
    },
    tests: run.cases.map((c) =>
      compact({
        kind: c.kind,
        name: c.name,
        outcome: c.outcome,
        object: c.object,
        phase: c.phase,
        reason: c.reason,
        message: c.message,
        rootCause: c.rootCause,
        location: c.location,
        file: c.file,
        line: c.line,
        producer: c.producer,
        startedAt: iso(c.startedAt),
        finishedAt: iso(c.finishedAt),
        durationMs: c.durationMs,
      }),
    ),
    objects: result.store.list().map((entry) => objectOf(entry, options.cwd)),
  };
}

export function formatJsonReport(report: JsonReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
