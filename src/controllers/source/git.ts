/**
 * GitRepository fetching: HTTP(S) URLs through isomorphic-git into the source
 * cache (one entry per URL and commit, and `spec.ignore`), then `spec.include`
 * composed on top. SSH URLs are refused with a message that says what to do:
 * flux-local speaks Git over HTTP(S) only.
 */
import { createHash } from "node:crypto";
import { cp, mkdtemp } from "node:fs/promises";
import path from "node:path";
import { refDisplay, refString, type ObjectRef } from "../../flux/objects.js";
import { GitRepositorySpec } from "../../flux/schema.js";
import { isInside } from "../../flux/paths.js";
import { checkoutCommit, isHttpUrl, type GitRemote } from "../../artifacts/git/fetch.js";
import { deadline, redactUrl, splitUrlCredentials, type HttpAuth } from "../../artifacts/http.js";
import {
  describePlan,
  isImmutable,
  planRef,
  resolveRef,
  revisionOf,
} from "../../artifacts/git/refs.js";
import { listRemoteRefs } from "../../artifacts/git/fetch.js";
import type { SourceArtifact, StoreEntry } from "../../store/store.js";
import { FetchError } from "../../artifacts/http.js";
import { startWork } from "../context.js";
import { CACHE_NAMESPACES } from "../../artifacts/cache/source-cache.js";
import {
  fetched,
  fetchFailed,
  fetchTimeout,
  invalidSpec,
  type SourceOutcome,
  type SourceFetcher,
} from "./fetching.js";
import { cachedFetch } from "../../artifacts/cache/policy.js";
import type { RunContext } from "../context.js";

export const SSH_UNSUPPORTED =
  "SSH URLs are not supported: flux-local fetches Git over HTTP(S) only (isomorphic-git). Use the repository's https:// URL with a token Secret given by --secret-file, or clone it yourself and map it with --sources NAME=PATH";

export function isSshUrl(url: string): boolean {
  return /^ssh:\/\//i.test(url) || /^[\w.-]+@[\w.-]+:/.test(url);
}

interface Include {
  artifact: SourceArtifact;
  name: string;
  fromPath: string;
  toPath: string;
}

export class GitFetcher implements SourceFetcher {
  readonly kind = "GitRepository";

  constructor(private readonly ctx: RunContext) {}

  async fetch(entry: StoreEntry, generation: number): Promise<SourceOutcome> {
    const parsed = GitRepositorySpec.safeParse(entry.object.spec);
    if (!parsed.success) return invalidSpec("GitRepository", parsed.error);
    const spec = parsed.data;
    if (isSshUrl(spec.url))
      return {
        phase: "Failed",
        reason: "ArtifactFailed",
        message: `${spec.url}: ${SSH_UNSUPPORTED}`,
      };
    if (!isHttpUrl(spec.url)) {
      return {
        phase: "Failed",
        reason: "ArtifactFailed",
        message: `${redactUrl(spec.url)}: only http(s):// Git URLs can be fetched; map the source with --sources ${entry.ref.name}=PATH`,
      };
    }
    const timeout = fetchTimeout(spec.timeout);
    if ("phase" in timeout) return timeout;
    const { timeoutMs } = timeout;

    // Included repositories first, waited for without holding a queue slot.
    const includes: Include[] = [];
    for (const inc of spec.include ?? []) {
      const ref: ObjectRef = {
        kind: "GitRepository",
        namespace: entry.ref.namespace,
        name: inc.repository.name,
      };
      const status = await this.ctx.manager.awaitReady(ref, entry.key);
      const dep = this.ctx.store.get(ref);
      if (status.phase !== "Ready" || dep?.artifact?.type !== "source") {
        if (status.reason === "DependencyNotFound") {
          return {
            phase: "Failed",
            reason: "DependencyNotFound",
            message: `included ${refDisplay(ref)} not found`,
            rootCause: refString(ref),
          };
        }
        if (status.reason === "DependencyCycle")
          return { phase: "Failed", reason: "DependencyCycle", message: status.message };
        return {
          phase: "Failed",
          reason: "DependencyNotReady",
          message: `included ${refDisplay(ref)} is ${status.phase.toLowerCase()}${status.message ? `: ${status.message}` : ""}`,
          rootCause: status.rootCause ?? refString(ref),
        };
      }
      includes.push({
        artifact: dep.artifact,
        name: inc.repository.name,
        fromPath: inc.fromPath ?? "",
        toPath: inc.toPath ?? inc.repository.name,
      });
    }

    const superseded = startWork(this.ctx, entry, generation, "fetching");
    if (superseded) return superseded;
    const started = performance.now();
    try {
      const vault = await this.ctx.artifacts.vault();
      const { url, auth: urlAuth } = splitUrlCredentials(spec.url);
      const secretAuth = spec.secretRef
        ? vault.gitAuth(entry.ref.namespace, spec.secretRef.name)
        : undefined;
      const auth: HttpAuth | undefined = secretAuth ?? urlAuth;
      const authSource = secretAuth
        ? `spec.secretRef ${spec.secretRef?.name ?? ""} (given with --secret-file)`
        : urlAuth
          ? "the URL's userinfo"
          : undefined;
      const result = await this.ctx.manager.queue.add(
        () => this.fetchCommit(url, spec, auth, timeoutMs, authSource),
        { throwOnTimeout: true },
      );
      let artifactPath = result.path;
      if (includes.length > 0) artifactPath = await this.compose(result.path, result.key, includes);
      return fetched(entry, result, started, { path: artifactPath, url: redactUrl(spec.url) });
    } catch (err) {
      return fetchFailed(err, timeoutMs);
    }
  }

  private async fetchCommit(
    url: string,
    spec: GitRepositorySpec,
    auth: HttpAuth | undefined,
    timeoutMs: number,
    authSource?: string,
  ) {
    const remote: GitRemote = {
      url,
      ...(auth ? { auth } : {}),
      ...(authSource ? { authSource } : {}),
      signal: deadline(timeoutMs, this.ctx.options.signal),
      timeoutMs,
    };
    const plan = planRef(spec.ref);
    const ignoreSuffix = spec.ignore ? `#ignore=${sha256(spec.ignore).slice(0, 16)}` : "";
    const entryKey = (commit: string) => `${url}@${commit}${ignoreSuffix}`;
    const known =
      plan.kind === "commit" && !plan.branch && /^[0-9a-f]{40}$/.test(plan.commit.toLowerCase())
        ? {
            id: plan.commit.toLowerCase(),
            revision: revisionOf(undefined, plan.commit.toLowerCase()),
            shallow: false,
          }
        : undefined;
    const result = await cachedFetch(this.ctx.artifacts, {
      namespace: CACHE_NAMESPACES.git,
      recordKey: `git ${url} ${describePlan(plan)}`,
      immutable: isImmutable(plan),
      ...(known ? { known } : {}),
      describe: `${describePlan(plan)} of ${redactUrl(url)}`,
      resolve: async () => {
        const refs = await listRemoteRefs(remote);
        const resolved = resolveRef(plan, refs);
        if (!resolved.ok) throw new FetchError(`${resolved.error} in ${redactUrl(url)}`);
        const v = resolved.value;
        return {
          id: v.commit,
          revision: v.revision,
          shallow: v.shallow,
          ...(v.fetchRef ? { fetchRef: v.fetchRef } : {}),
        };
      },
      entryKey,
      fill: async (dir, record) => {
        await checkoutCommit(
          remote,
          {
            commit: record.id,
            revision: record.revision,
            shallow: record.shallow ?? false,
            ...(record.fetchRef ? { fetchRef: record.fetchRef } : {}),
          },
          dir,
          spec.ignore ? { specIgnore: spec.ignore } : {},
        );
      },
    });
    return { ...result, key: result.path };
  }

  /**
   * The artifact with `spec.include` applied: each included artifact's
   * `fromPath` copied to `toPath`. Cached when every part is immutable; in
   * the run's scratch directory when an include is the local checkout.
   */
  private async compose(base: string, baseKey: string, includes: Include[]): Promise<string> {
    const fill = async (dir: string) => {
      await cp(base, dir, { recursive: true });
      for (const inc of includes) {
        const from = path.join(inc.artifact.path, inc.fromPath);
        const to = path.join(dir, inc.toPath);
        if (!isInside(inc.artifact.path, from))
          throw new FetchError(`include ${inc.name}: fromPath ${inc.fromPath} leaves the source`);
        if (!isInside(dir, to))
          throw new FetchError(`include ${inc.name}: toPath ${inc.toPath} leaves the source`);
        try {
          await cp(from, to, { recursive: true, filter: (src) => path.basename(src) !== ".git" });
        } catch (err) {
          throw new FetchError(
            `include ${inc.name}: cannot copy ${inc.fromPath || "./"} to ${inc.toPath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
          );
        }
      }
    };
    if (includes.some((i) => i.artifact.local)) {
      const dir = await mkdtemp(path.join(this.ctx.options.scratchDir, "include-"));
      await fill(dir);
      return dir;
    }
    const key = JSON.stringify({
      base: baseKey,
      includes: includes.map((i) => [
        i.artifact.url ?? i.name,
        i.artifact.revision,
        i.artifact.path,
        i.fromPath,
        i.toPath,
      ]),
    });
    return (await this.ctx.artifacts.cache.dirs.ensure(CACHE_NAMESPACES.gitInclude, key, fill))
      .path;
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
