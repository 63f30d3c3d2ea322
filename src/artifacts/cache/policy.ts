/**
 * The one cache policy every remote artifact follows:
 *  - immutable references (commit, tag, digest) resolved before are served
 *    from the cache without touching the network;
 *  - moving references (branches, semver, `latest`) are resolved again each
 *    run, and fetched only when they point somewhere new;
 *  - with `--offline`, only the cache is used (moving references at their
 *    last resolved revision), and a miss is an error that says what to do.
 */
import { FluxLocalError } from "../../util/errors.js";
import type { ArtifactContext } from "../context.js";
import type { ResolutionRecord } from "./source-cache.js";
import { notReplayable, pinnedFetch } from "../../util/run-record.js";

/** A fetch that cannot be done offline; its message says how to fill the cache. */
export class OfflineMissError extends FluxLocalError {}

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

export async function cachedFetch(ac: ArtifactContext, req: CachedRequest): Promise<CachedResult> {
  // A moving reference may point elsewhere next time: a run that used one is never replayed.
  if (!req.immutable && !req.known) notReplayable(`${req.describe} may move`);
  let record: Omit<ResolutionRecord, "resolvedAt"> | undefined = req.known;
  if (!record && (ac.offline || req.immutable)) record = await ac.cache.readRecord(req.recordKey);
  if (record) {
    const existing = await ac.cache.dirs.get(req.namespace, req.entryKey(record.id));
    if (existing) return { path: existing, revision: record.revision, hit: true, offline: true };
  }
  if (ac.offline) {
    throw new OfflineMissError(
      record
        ? `${req.describe} (revision ${record.revision}) is not in the cache and --offline is set; run once without --offline to fetch it`
        : `${req.describe} was never fetched into the cache and --offline is set; run once without --offline to fetch it`,
    );
  }
  const fetch = async (): Promise<CachedResult> => {
    record ??= await req.resolve();
    const resolved = record;
    const result = await ac.cache.dirs.ensure(req.namespace, req.entryKey(resolved.id), (dir) =>
      req.fill(dir, resolved),
    );
    await ac.cache.writeRecord(req.recordKey, resolved);
    return { path: result.path, revision: resolved.revision, hit: result.hit, offline: false };
  };
  // A pinned reference fetched now is what a later run would serve from the
  // cache: a run that fetched one may be kept (a moving one is not, above).
  return req.immutable || req.known ? pinnedFetch(req.describe, fetch) : fetch();
}
