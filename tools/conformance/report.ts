/**
 * The runner's report: one line per case, details of failures, and a closing
 * line `N passed, N failed, N skipped` (DELIBERATE counts as passed).
 */
import type { CaseResult } from "./run-case.js";

export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  deliberate: number;
}

export function caseLine(result: CaseResult): string {
  return `${result.status}  ${result.name}  ${result.reason}`.trimEnd();
}

export function countResults(results: readonly CaseResult[]): Counts {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0, deliberate: 0 };
  for (const r of results) {
    if (r.status === "PASS") counts.passed++;
    else if (r.status === "DELIBERATE") {
      counts.passed++;
      counts.deliberate++;
    } else if (r.status === "FAIL") counts.failed++;
    else counts.skipped++;
  }
  return counts;
}

function detailBlock(result: CaseResult, verbose: boolean): string[] {
  const lines = [`--- ${result.status}  ${result.name}`];
  if (result.argv) lines.push(`    command: flux-local ${result.argv.join(" ")}`);
  if (verbose && result.cwd) lines.push(`    cwd: ${result.cwd}`);
  if (verbose && result.durationMs !== undefined) lines.push(`    took: ${result.durationMs} ms`);
  if (result.reason) lines.push(`    ${result.reason}`);
  if (result.deliberate) lines.push(`    deliberate: ${result.deliberate}`);
  for (const detail of result.details) lines.push(`    ${detail}`);
  return lines;
}

/**
 * Details printed below the table: every failure; with `verbose`, also the
 * deliberate differences and the command of every case that ran.
 */
export function detailsSection(results: readonly CaseResult[], verbose: boolean): string[] {
  const shown = results.filter(
    (r) => r.status === "FAIL" || (verbose && (r.status === "DELIBERATE" || r.argv)),
  );
  if (shown.length === 0) return [];
  return ["", ...shown.flatMap((r) => [...detailBlock(r, verbose), ""])];
}

export function summaryLines(results: readonly CaseResult[]): string[] {
  const counts = countResults(results);
  return [
    `(${counts.deliberate} deliberate)`,
    `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
  ];
}
