/**
 * Object status: a phase plus a reason from one closed set (Flux's names where
 * Flux has one) and a message. Expected failures are status, not exceptions.
 */

export const Phases = [
  "Pending",
  "Reconciling",
  "Ready",
  "Failed",
  "Suspended",
  "Skipped",
] as const;
export type Phase = (typeof Phases)[number];

export const Reasons = [
  "Progressing",
  "ReconciliationSucceeded",
  "ArtifactFailed",
  "BuildFailed",
  "DependencyNotReady",
  "DependencyNotFound",
  "DependencyCycle",
  "SourceNotFound",
  "SourceNotReady",
  "PathNotFound",
  "InvalidObject",
  "DuplicateObject",
  "ParseFailed",
  "SubstitutionFailed",
  "InstallFailed",
  "UpgradeFailed",
  "ChartFailed",
  "ValuesFailed",
  "Suspended",
  "Skipped",
  /** A source nothing in this run uses: not fetched. */
  "NotNeeded",
  /** A Kustomization whose source is not among those `--sources` restricts the run to. */
  "NotInSources",
] as const;
export type Reason = (typeof Reasons)[number];

export interface Status {
  phase: Phase;
  reason: Reason;
  message: string;
  /** What went right but deserves a look (a Secret that exists only in the cluster). */
  warnings?: string[];
  /** `Kind/namespace/name` of the object whose failure caused this one. */
  rootCause?: string;
  startedAt?: number;
  finishedAt?: number;
}

export function isTerminal(phase: Phase): boolean {
  return phase === "Ready" || phase === "Failed" || phase === "Suspended" || phase === "Skipped";
}

export const PENDING: Status = { phase: "Pending", reason: "Progressing", message: "" };
