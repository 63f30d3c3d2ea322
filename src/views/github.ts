/**
 * GitHub Actions output: workflow-command annotations (`::error file=..,line=..::msg`)
 * that GitHub shows on the pull request next to the line, and a Markdown step
 * summary. Pure functions; the CLI decides where they are written.
 */
import path from "node:path";
import type { Failure } from "./failures.js";
import type { Env } from "../util/env.js";

export type AnnotationLevel = "error" | "warning" | "notice";

export interface Annotation {
  level: AnnotationLevel;
  message: string;
  file?: string;
  line?: number;
  title?: string;
}

export function isGitHubActions(env: Env = process.env): boolean {
  return env.GITHUB_ACTIONS === "true";
}

/** Escape the data (message) of a workflow command: `%`, CR and LF. */
export function escapeData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** Escape a property value of a workflow command: as data, plus `:` and `,`. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/** One workflow-command line (without the trailing newline). */
export function formatAnnotation(a: Annotation): string {
  const props = [
    ...(a.file ? [`file=${escapeProperty(a.file)}`] : []),
    ...(a.file && a.line ? [`line=${a.line}`] : []),
    ...(a.title ? [`title=${escapeProperty(a.title)}`] : []),
  ];
  return `::${a.level}${props.length ? ` ${props.join(",")}` : ""}::${escapeData(a.message)}`;
}

/**
 * A path as GitHub wants it in annotations: relative to the repository root
 * (`GITHUB_WORKSPACE`). `file` is relative to `cwd` or absolute.
 */
export function workspacePath(file: string, cwd: string, workspace: string | undefined): string {
  if (!workspace) return file;
  const rel = path.relative(workspace, path.resolve(cwd, file));
  return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel.split(path.sep).join("/");
}

export function describeObject(f: Pick<Failure, "kind" | "namespace" | "name" | "object">): string {
  return f.kind ? `${f.kind} ${f.namespace}/${f.name}` : (f.object ?? "repository");
}

export function failureAnnotation(
  f: Failure,
  toPath: (file: string) => string = (file) => file,
): Annotation {
  const lines = [`${f.reason}: ${f.message}`];
  if (f.rootCause) {
    lines.push(`root cause: ${f.rootCause.object}: ${f.rootCause.reason}: ${f.rootCause.message}`);
  }
  return {
    level: "error",
    title: `${describeObject(f)}: ${f.reason}`,
    message: lines.join("\n"),
    ...(f.file ? { file: toPath(f.file) } : {}),
    ...(f.file && f.line ? { line: f.line } : {}),
  };
}

const CELL_LIMIT = 600;

/** Text safe inside a Markdown table cell (no HTML, no pipes, one line). */
export function markdownCell(text: string): string {
  const clipped = text.length > CELL_LIMIT ? `${text.slice(0, CELL_LIMIT)}…` : text;
  return clipped
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\|/g, "\\|")
    .replace(/`/g, "\\`")
    .replace(/\r?\n/g, "<br>");
}

export interface SummaryRow {
  object: string;
  location?: string;
  reason: string;
  message: string;
  rootCause?: string;
}

export function failureRow(f: Failure): SummaryRow {
  return {
    object: describeObject(f),
    ...(f.location ? { location: f.location } : {}),
    reason: f.reason,
    message: f.message,
    ...(f.rootCause
      ? { rootCause: `${f.rootCause.object}: ${f.rootCause.reason}: ${f.rootCause.message}` }
      : {}),
  };
}

/** A Markdown section for `$GITHUB_STEP_SUMMARY`: a heading and a table of failures. */
export function stepSummary(heading: string, rows: readonly SummaryRow[]): string {
  const out = [`### ${markdownCell(heading)}`, ""];
  if (rows.length === 0) {
    out.push("No failures.", "");
    return out.join("\n") + "\n";
  }
  out.push("| Object | Location | Reason | Message | Root cause |");
  out.push("| --- | --- | --- | --- | --- |");
  for (const r of rows) {
    out.push(
      `| ${markdownCell(r.object)} | ${r.location ? `\`${r.location.replace(/`/g, "'").replace(/\|/g, "\\|")}\`` : ""} | ${markdownCell(r.reason)} | ${markdownCell(r.message)} | ${r.rootCause ? markdownCell(r.rootCause) : ""} |`,
    );
  }
  out.push("");
  return out.join("\n") + "\n";
}
