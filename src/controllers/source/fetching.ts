/**
 * What the source fetchers share: the outcome of a fetch as a status, and the
 * helpers that turn a spec, a timeout and a fetch result into one. The cache
 * policy itself lives below, in artifacts/cache/policy.ts.
 */
import type { z } from "zod";
import { describeNetworkError } from "../../artifacts/http.js";
import type { SourceArtifact, StoreEntry } from "../../store/store.js";
import type { Status } from "../../store/status.js";
import { FluxLocalError } from "../../util/errors.js";
import { logger } from "../../util/log.js";
import type { CachedResult } from "../../artifacts/cache/policy.js";
import { parseDuration } from "../../flux/duration.js";

export type SourceOutcome = Status & { artifact?: SourceArtifact };

/** A backend that turns one kind of source object into an artifact. */
export interface SourceFetcher {
  readonly kind: string;
  fetch(entry: StoreEntry, generation: number): Promise<SourceOutcome>;
}

/** Flux's default `spec.timeout` for Git and OCI sources. */
export const DEFAULT_SOURCE_TIMEOUT_MS = 60_000;

/** The failure of a spec that does not parse. */
export function invalidSpec(kind: string, error: z.ZodError): SourceOutcome {
  return {
    phase: "Failed",
    reason: "InvalidObject",
    message: `invalid ${kind} spec: ${error.issues[0]?.message ?? "bad"}`,
  };
}

/** `spec.timeout` in milliseconds (Flux's default when unset), or the failure of a bad duration. */
export function fetchTimeout(timeout: string | undefined): { timeoutMs: number } | SourceOutcome {
  const timeoutMs = timeout ? parseDuration(timeout) : DEFAULT_SOURCE_TIMEOUT_MS;
  if (timeoutMs === undefined) {
    return {
      phase: "Failed",
      reason: "InvalidObject",
      message: `spec.timeout ${timeout} is not a duration`,
    };
  }
  return { timeoutMs };
}

/** The Ready outcome of a fetch that started at `started` (performance.now()). */
export function fetched(
  entry: StoreEntry,
  result: Pick<CachedResult, "revision" | "hit">,
  started: number,
  artifact: { path: string; url: string },
): SourceOutcome {
  const durationMs = Math.round(performance.now() - started);
  logger.debug(
    { source: entry.key, revision: result.revision, hit: result.hit, durationMs },
    "source ready",
  );
  return {
    phase: "Ready",
    reason: "ReconciliationSucceeded",
    message: result.hit ? "from the cache" : `fetched in ${durationMs} ms`,
    artifact: {
      type: "source",
      revision: result.revision,
      path: artifact.path,
      local: false,
      url: artifact.url,
    },
  };
}

/** The failure of a fetch: our errors as they are, others described without secrets. */
export function fetchFailed(err: unknown, timeoutMs: number): SourceOutcome {
  const message =
    err instanceof FluxLocalError ? err.message : describeNetworkError(err, timeoutMs);
  return { phase: "Failed", reason: "ArtifactFailed", message };
}
