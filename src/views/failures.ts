/**
 * Every failure of a run, with where the object was defined and the root cause
 * when it failed because something it depends on failed.
 */
import path from "node:path";
import type { RenderResult } from "../run.js";
import type { StoreEntry } from "../store/store.js";
import { printable, printableLines, redactUrls } from "../util/printable.js";

export interface Failure {
  object?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  /** `file:line`, or `produced by Kind/ns/name`. */
  location?: string;
  file?: string;
  line?: number;
  reason: string;
  message: string;
  rootCause?: { object: string; reason: string; message: string };
}

export function location(
  entry: StoreEntry,
  cwd: string,
): { location?: string; file?: string; line?: number } {
  const { file, line, producer } = entry.origin;
  const rel = file ? relative(file, cwd) : undefined;
  const where = rel ? (line ? `${rel}:${line}` : rel) : undefined;
  const by = producer ? `produced by ${producer}` : undefined;
  const text = [where, by].filter(Boolean).join(", ");
  return {
    ...(text ? { location: text } : {}),
    ...(rel ? { file: rel } : {}),
    ...(line ? { line } : {}),
  };
}

function relative(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel;
}

/** Follow rootCause links to the first failure in the chain. */
export function rootCauseOf(result: RenderResult, entry: StoreEntry): StoreEntry | undefined {
  const seen = new Set<string>([entry.key]);
  let current = entry;
  while (current.status.rootCause && !seen.has(current.status.rootCause)) {
    const next = result.store.get(current.status.rootCause);
    if (!next) break;
    seen.add(next.key);
    current = next;
  }
  return current === entry ? undefined : current;
}

export function failureOf(result: RenderResult, entry: StoreEntry, cwd: string): Failure {
  const root = rootCauseOf(result, entry);
  return {
    object: entry.key,
    kind: entry.ref.kind,
    namespace: entry.ref.namespace,
    name: entry.ref.name,
    ...location(entry, cwd),
    reason: entry.status.reason,
    message: redactUrls(entry.status.message),
    ...(root
      ? {
          rootCause: {
            object: root.key,
            reason: root.status.reason,
            message: redactUrls(root.status.message),
          },
        }
      : {}),
  };
}

/**
 * Failures among `entries` (the objects a command selected; by default every
 * object of the run) plus every issue found while reading the repository.
 * Files are shown relative to `cwd` (by default the working directory).
 */
export function collectFailures(
  result: RenderResult,
  entries: readonly StoreEntry[] = result.store.list(),
  cwd: string = process.cwd(),
): Failure[] {
  const failures: Failure[] = [];
  for (const issue of result.issues) {
    if (issue.severity !== "error") continue;
    const rel = issue.file ? relative(issue.file, cwd) : undefined;
    failures.push({
      ...(issue.object ? { object: issue.object } : {}),
      ...(rel ? { file: rel, location: issue.line ? `${rel}:${issue.line}` : rel } : {}),
      ...(issue.line ? { line: issue.line } : {}),
      reason: issue.reason,
      message: redactUrls(issue.message),
    });
  }
  for (const entry of entries) {
    if (entry.status.phase === "Failed") failures.push(failureOf(result, entry, cwd));
  }
  return failures;
}

export function formatFailures(failures: readonly Failure[]): string {
  if (failures.length === 0) return "";
  const lines = [`${failures.length} failure${failures.length === 1 ? "" : "s"}:`];
  for (const f of failures) {
    const what = printable(
      f.kind ? `${f.kind} ${f.namespace}/${f.name}` : (f.object ?? "repository"),
    );
    const where = f.location ? ` (${printable(f.location)})` : "";
    lines.push(`- ${what}${where}: ${f.reason}: ${printableLines(f.message, "    ")}`);
    if (f.rootCause) {
      lines.push(
        `    root cause: ${printable(f.rootCause.object)}: ${f.rootCause.reason}: ${printableLines(f.rootCause.message, "      ")}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

/** A warning of an object that rendered (a Secret that exists only in the cluster). */
export interface Warning {
  object: string;
  location?: string;
  message: string;
}

/** The warnings of `entries`, in their order. */
export function collectWarnings(
  entries: readonly StoreEntry[],
  cwd: string = process.cwd(),
): Warning[] {
  const seen = new Set<string>();
  const out: Warning[] = [];
  for (const entry of entries) {
    if (seen.has(entry.key)) continue;
    seen.add(entry.key);
    const where = location(entry, cwd).location;
    for (const message of entry.status.warnings ?? []) {
      out.push({
        object: `${entry.ref.kind} ${entry.ref.namespace}/${entry.ref.name}`,
        ...(where ? { location: where } : {}),
        message,
      });
    }
  }
  return out;
}

export function formatWarnings(warnings: readonly Warning[]): string {
  if (warnings.length === 0) return "";
  const lines = [`${warnings.length} warning${warnings.length === 1 ? "" : "s"}:`];
  for (const w of warnings) {
    lines.push(`- ${w.object}${w.location ? ` (${w.location})` : ""}: ${w.message}`);
  }
  return lines.join("\n") + "\n";
}
