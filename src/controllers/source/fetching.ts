/**
 * What the source fetchers share: the run's cache, credentials and options,
 * and the one cache policy every remote source follows:
 *  - immutable references (commit, tag, digest) resolved before are served
 *    from the cache without touching the network;
 *  - moving references (branches, semver, `latest`) are resolved again each
 *    run, and fetched only when they point somewhere new;
 *  - with `--offline`, only the cache is used (moving references at their
 *    last resolved revision), and a miss is an error that says what to do.
 */
import type { z } from "zod";
import { describeNetworkError } from "../../sources/git/http.js";
import type { SourceArtifact, StoreEntry } from "../../store/store.js";
import type { Status } from "../../store/status.js";
import { FluxLocalError } from "../../util/errors.js";
import { logger } from "../../util/log.js";
import type { RunContext } from "../context.js";
import type { SourceCache, ResolutionRecord } from "./cache.js";
import type { SecretVault } from "./credentials.js";
import { parseDuration } from "./duration.js";

export type Outcome = Status & { artifact?: SourceArtifact };

/** A fetch that cannot be done offline; its message says how to fill the cache. */
export class OfflineMissError extends FluxLocalError {}

/** A backend that turns one kind of source object into an artifact. */
export interface SourceFetcher {
  readonly kind: string;
  fetch(entry: StoreEntry, generation: number): Promise<Outcome>;
}

export interface FetchContext {
  run: RunContext;
  cache: SourceCache;
  vault: () => Promise<SecretVault>;
}

export interface CachedRequest {
  namespace: string;
  /** Key of the resolution record: source URL and reference. */
  recordKey: string;
  /** The reference always resolves to the same content. */
  immutable: boolean;
  /** Already known without asking the server (a commit or digest in the spec). */
  known?: Omit<ResolutionRecord, "resolvedAt">;
  /** What the reference is, for messages (`branch main of https://...`). */
  describe: string;
  /** Ask the server what the reference points to now. */
  resolve: () => Promise<Omit<ResolutionRecord, "resolvedAt">>;
  /** Cache entry key for a resolved id (commit or digest). */
  entryKey: (id: string) => string;
  /** Write the content of a resolved reference into an empty directory. */
  fill: (dir: string, record: Omit<ResolutionRecord, "resolvedAt">) => Promise<void>;
}

export interface CachedResult {
  path: string;
  revision: string;
  /** The content came from the cache. */
  hit: boolean;
  /** The reference was resolved from a record, with no network request at all. */
  offline: boolean;
}

export async function cachedFetch(fc: FetchContext, req: CachedRequest): Promise<CachedResult> {
  const offline = fc.run.options.offline;
  let record: Omit<ResolutionRecord, "resolvedAt"> | undefined = req.known;
  if (!record && (offline || req.immutable)) record = await fc.cache.readRecord(req.recordKey);
  if (record) {
    const existing = await fc.cache.dirs.get(req.namespace, req.entryKey(record.id));
    if (existing) return { path: existing, revision: record.revision, hit: true, offline: true };
  }
  if (offline) {
    throw new OfflineMissError(
      record
        ? `${req.describe} (revision ${record.revision}) is not in the cache and --offline is set; run once without --offline to fetch it`
        : `${req.describe} was never fetched into the cache and --offline is set; run once without --offline to fetch it`,
    );
  }
  if (!record) record = await req.resolve();
  const resolved = record;
  const result = await fc.cache.dirs.ensure(req.namespace, req.entryKey(resolved.id), (dir) =>
    req.fill(dir, resolved),
  );
  await fc.cache.writeRecord(req.recordKey, resolved);
  return { path: result.path, revision: resolved.revision, hit: result.hit, offline: false };
}

/** Flux's default `spec.timeout` for Git and OCI sources. */
export const DEFAULT_SOURCE_TIMEOUT_MS = 60_000;

/** The failure of a spec that does not parse. */
export function invalidSpec(kind: string, error: z.ZodError): Outcome {
  return {
    phase: "Failed",
    reason: "InvalidObject",
    message: `invalid ${kind} spec: ${error.issues[0]?.message ?? "bad"}`,
  };
}

/** `spec.timeout` in milliseconds (Flux's default when unset), or the failure of a bad duration. */
export function fetchTimeout(timeout: string | undefined): { timeoutMs: number } | Outcome {
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
): Outcome {
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
export function fetchFailed(err: unknown, timeoutMs: number): Outcome {
  const message =
    err instanceof FluxLocalError ? err.message : describeNetworkError(err, timeoutMs);
  return { phase: "Failed", reason: "ArtifactFailed", message };
}
