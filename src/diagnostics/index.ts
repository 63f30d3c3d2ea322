/**
 * `diagnostics`: a fast check of a repository without rendering anything.
 * Reads the files once, then runs the pure checks over them.
 */
import path from "node:path";
import { checkDependsOnCycles } from "./cycles.js";
import { checkDeprecatedApis } from "./deprecated.js";
import { checkDocuments, checkSchemas } from "./documents.js";
import { checkDuplicates } from "./duplicates.js";
import { checkExpressions } from "./expressions.js";
import { compareFindings, objectsOf, type Finding, type Repository } from "./model.js";
import { readRepository } from "./read.js";
import { checkReferences } from "./references.js";

export type { Finding, Repository } from "./model.js";

/** Every check over an in-memory repository, findings sorted by file and line. */
export function diagnose(repo: Repository, show?: (file: string) => string): Finding[] {
  const objects = objectsOf(repo);
  return [
    ...checkDocuments(repo),
    ...checkSchemas(objects),
    ...checkDuplicates(repo, show),
    ...checkReferences(repo, objects),
    ...checkDependsOnCycles(objects),
    ...checkDeprecatedApis(objects),
    ...checkExpressions(objects),
  ].sort(compareFindings);
}

export interface DiagnosticsResult {
  findings: Finding[];
  errors: number;
  warnings: number;
  /** How many files were read. */
  files: number;
  repo: Repository;
}

/**
 * Check the repository at `start` (absolute); `root` is the checkout it
 * belongs to (its git root, else `start`).
 */
export async function runDiagnostics(
  root: string,
  start: string,
  show: (file: string) => string = (file) => path.relative(root, file),
): Promise<DiagnosticsResult> {
  const { repo } = await readRepository(root, start);
  const findings = diagnose(repo, show);
  return {
    findings,
    errors: findings.filter((f) => f.severity === "error").length,
    warnings: findings.filter((f) => f.severity === "warning").length,
    files: repo.files.size,
    repo,
  };
}
