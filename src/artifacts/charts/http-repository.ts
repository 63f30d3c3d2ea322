/**
 * A Helm HTTP chart repository (`HelmRepository` of type `default`): its
 * `index.yaml`, version resolution over it, and the archive download (with
 * the index digest verified). Credentials are sent to the repository's own
 * host only, unless `passCredentials` is set, as Flux does.
 */
import { createHash } from "node:crypto";
import { parse } from "yaml";
import { authorizationHeader, type HttpAuth } from "../http.js";
import { ChartError } from "./errors.js";
import { displayUrl, httpGet, readBody, statusError } from "./http.js";
import { ConstraintError } from "../../util/semver.js";
import { resolveVersion } from "./version.js";

/** Biggest index accepted (public indexes reach tens of megabytes). */
const MAX_INDEX_BYTES = 256 * 1024 * 1024;
/** Biggest packaged chart accepted. */
export const MAX_ARCHIVE_BYTES = 50 * 1024 * 1024;

export interface IndexEntry {
  name: string;
  version: string;
  urls: string[];
  digest?: string;
  created?: string;
}

export type RepositoryIndex = Map<string, IndexEntry[]>;

export interface HttpRepository {
  url: string;
  /** Credentials of the HelmRepository's secretRef. */
  auth?: HttpAuth;
  passCredentials?: boolean;
  signal?: AbortSignal;
}

/** Where `index.yaml` lives for a repository URL. */
export function indexUrl(repoUrl: string): string {
  const u = new URL(repoUrl);
  u.pathname = `${u.pathname.replace(/\/+$/, "")}/index.yaml`;
  return u.toString();
}

/** A chart URL from the index, resolved against the repository URL (as helm does). */
export function resolveChartUrl(repoUrl: string, ref: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return ref;
  const base = new URL(repoUrl);
  base.pathname = `${base.pathname.replace(/\/+$/, "")}/`;
  const query = base.search;
  const resolved = new URL(ref, base);
  resolved.search = query;
  return resolved.toString();
}

/** Parse an index document (YAML or JSON); every scalar is kept as written. */
export function parseIndex(text: string, where: string): RepositoryIndex {
  let doc: unknown;
  try {
    // Failsafe schema: versions such as 1.10 stay strings.
    doc = parse(text, { schema: "failsafe", maxAliasCount: 10_000, uniqueKeys: false });
  } catch (err) {
    throw new ChartError(
      `${where}: index is not valid YAML: ${(err as Error).message.split("\n")[0]}`,
    );
  }
  const entries = (doc as { entries?: unknown } | null)?.entries;
  if (!entries || typeof entries !== "object" || Array.isArray(entries)) {
    throw new ChartError(`${where}: index has no entries`);
  }
  const index: RepositoryIndex = new Map();
  for (const [name, list] of Object.entries(entries as Record<string, unknown>)) {
    if (!Array.isArray(list)) continue;
    const versions: IndexEntry[] = [];
    for (const raw of list as unknown[]) {
      const item = (raw ?? {}) as Record<string, unknown>;
      if (typeof item.version !== "string") continue;
      const urls = Array.isArray(item.urls)
        ? (item.urls as unknown[]).filter((u): u is string => typeof u === "string")
        : [];
      versions.push({
        name,
        version: item.version,
        urls,
        ...(typeof item.digest === "string" ? { digest: item.digest } : {}),
        ...(typeof item.created === "string" ? { created: item.created } : {}),
      });
    }
    index.set(name, versions);
  }
  return index;
}

function authHeaders(repo: HttpRepository, url: string): Record<string, string> {
  const authorization = authorizationHeader(repo.auth);
  if (!authorization) return {};
  // Credentials go to the repository's own host only, unless passCredentials.
  if (!repo.passCredentials && new URL(url).host !== new URL(repo.url).host) return {};
  return { authorization };
}

function refusedHint(repo: HttpRepository, status: number): string {
  if (status !== 401 && status !== 403) return "";
  return repo.auth
    ? "the repository refused the credentials"
    : "the repository needs credentials: set spec.secretRef on the HelmRepository and give that Secret, decrypted, with --secret-file";
}

export async function fetchIndex(repo: HttpRepository): Promise<RepositoryIndex> {
  const url = indexUrl(repo.url);
  const response = await httpGet(url, {
    headers: { accept: "application/yaml, application/json, */*", ...authHeaders(repo, url) },
    signal: repo.signal,
    maxBytes: MAX_INDEX_BYTES,
  });
  if (!response.ok) throw await statusError(response, url, refusedHint(repo, response.status));
  const body = await readBody(response, url, MAX_INDEX_BYTES);
  return parseIndex(body.toString("utf8"), displayUrl(url));
}

/** The index entry Flux would pick for `chart` at `version` (constraint or exact). */
export function pickChartVersion(
  index: RepositoryIndex,
  chart: string,
  version: string | undefined,
  where: string,
): IndexEntry {
  const versions = index.get(chart);
  if (!versions || versions.length === 0) {
    throw new ChartError(`chart ${chart} not found in ${where}`);
  }
  let found: IndexEntry | undefined;
  try {
    found = resolveVersion(versions, version);
  } catch (err) {
    if (err instanceof ConstraintError) {
      throw new ChartError(
        `chart ${chart}: invalid version constraint ${JSON.stringify(version)}: ${err.message}`,
      );
    }
    throw err;
  }
  if (!found) {
    const available = versions
      .slice(0, 5)
      .map((v) => v.version)
      .join(", ");
    throw new ChartError(
      `chart ${chart} has no version matching ${JSON.stringify(version ?? "*")} in ${where} (available: ${available}${versions.length > 5 ? ", ..." : ""})`,
    );
  }
  return found;
}

/** Download a chart archive and check it against the index digest. */
export async function downloadChart(repo: HttpRepository, entry: IndexEntry): Promise<Buffer> {
  const ref = entry.urls[0];
  if (!ref)
    throw new ChartError(`chart ${entry.name} ${entry.version} has no download URL in the index`);
  const url = resolveChartUrl(repo.url, ref);
  const response = await httpGet(url, {
    headers: {
      accept: "application/gzip, application/octet-stream, */*",
      ...authHeaders(repo, url),
    },
    signal: repo.signal,
    maxBytes: MAX_ARCHIVE_BYTES,
  });
  if (!response.ok) throw await statusError(response, url, refusedHint(repo, response.status));
  const archive = await readBody(response, url, MAX_ARCHIVE_BYTES);
  if (entry.digest) {
    const actual = createHash("sha256").update(archive).digest("hex");
    if (actual !== entry.digest.replace(/^sha256:/, "").toLowerCase()) {
      throw new ChartError(
        `chart ${entry.name} ${entry.version} from ${displayUrl(url)} does not match the index digest`,
      );
    }
  }
  return archive;
}
