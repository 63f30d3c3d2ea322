/**
 * Getting packaged charts from HTTP repositories and OCI registries into the
 * shared on-disk cache, under the sources' cache policy (see
 * controllers/source/fetching.ts): a chart is identified by (repository URL
 * or OCI reference, exact version), the version is resolved first (Flux's
 * rules, version.ts), and the chart is fetched at most once per run however
 * many releases use it (concurrent requests share one fill) and kept across
 * runs. A pinned version already in the cache needs no network at all; a
 * range is resolved again each run (from the last resolution with
 * `--offline`). Indexes and tag lists are read once per run. Archives are
 * extracted safely (links, devices, `..` and absolute paths refused, size
 * bounded) and must hold one chart folder.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { parse } from "yaml";
import { cachedFetch } from "../cache/policy.js";
import type { ArtifactContext } from "../context.js";
import { ArchiveError, extractTarGz } from "../archive.js";
import { deadline, type HttpAuth } from "../http.js";
import { RegistryClient } from "../oci/client.js";
import type { RegistryCredentials } from "../oci/docker-config.js";
import { parseOciUrl } from "../oci/reference.js";
import { ImageManifest } from "../oci/schema.js";
import { ChartError } from "./errors.js";
import { displayUrl } from "./http.js";
import {
  downloadChart,
  fetchIndex,
  pickChartVersion,
  type HttpRepository,
  type RepositoryIndex,
} from "./http-repository.js";
import { ConstraintError } from "../../util/semver.js";
import { isExactVersion, resolveVersion } from "./version.js";

export const CHART_CACHE_NAMESPACE = "charts";
/** Helm's own limit for an extracted chart. */
export const MAX_CHART_BYTES = 100 * 1024 * 1024;
const MAX_CHART_ENTRIES = 20_000;
/** How long one chart may take to resolve and download. */
export const CHART_TIMEOUT_MS = 5 * 60_000;

export const HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
const LEGACY_CHART_LAYER = "application/tar+gzip";

/** Helm stores the `+` of a version as `_` in an OCI tag. */
export const versionToTag = (version: string) => version.replace(/\+/g, "_");
export const tagToVersion = (tag: string) => tag.replace(/_/g, "+");

/** Where a chart comes from. */
export type ChartRequest =
  | {
      /** A chart in an HTTP repository (HelmRepository of type default). */
      type: "http";
      repoUrl: string;
      chart: string;
      /** A constraint or an exact version; none means the latest stable one. */
      version?: string;
      auth?: HttpAuth;
      passCredentials?: boolean;
    }
  | {
      /** A chart in an OCI registry (`<HelmRepository url>/<chart>`), versions as tags. */
      type: "oci";
      url: string;
      version?: string;
      insecure?: boolean;
      credentials?: RegistryCredentials;
    };

export interface FetchedChart {
  /** Chart root (holds Chart.yaml). Read-only: it is the shared cache. */
  dir: string;
  /** The exact version fetched. */
  version: string;
  /** The content came from the on-disk cache. */
  cached: boolean;
}

export interface ChartMetadata {
  name: string;
  version: string;
  dependencies: Array<{ name: string; version?: string; repository?: string }>;
}

export async function readChartMetadata(dir: string): Promise<ChartMetadata> {
  let text: string;
  try {
    text = await readFile(path.join(dir, "Chart.yaml"), "utf8");
  } catch {
    throw new ChartError("the chart has no Chart.yaml");
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ChartError(`Chart.yaml is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  const meta = (doc ?? {}) as { name?: unknown; version?: unknown; dependencies?: unknown };
  if (typeof meta.name !== "string" || meta.name === "") {
    throw new ChartError("Chart.yaml has no name");
  }
  const dependencies = Array.isArray(meta.dependencies)
    ? (meta.dependencies as Array<Record<string, unknown>>)
        .filter((d) => d && typeof d.name === "string")
        .map((d) => ({
          name: d.name as string,
          ...(typeof d.version === "string" ? { version: d.version } : {}),
          ...(typeof d.repository === "string" ? { repository: d.repository } : {}),
        }))
    : [];
  const version =
    typeof meta.version === "string" || typeof meta.version === "number"
      ? String(meta.version)
      : "";
  return { name: meta.name, version, dependencies };
}

/** The chart folder of an extracted archive: its one top folder, holding Chart.yaml. */
export async function chartRoot(dir: string): Promise<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  const first = entries[0];
  if (entries.length !== 1 || !first?.isDirectory()) {
    throw new ChartError(
      `the archive is not a packaged chart: it must hold exactly one folder (found ${entries.length} entries at its top)`,
    );
  }
  const root = path.join(dir, first.name);
  try {
    if (!(await stat(path.join(root, "Chart.yaml"))).isFile()) throw new Error();
  } catch {
    throw new ChartError(`the archive is not a packaged chart: no ${first.name}/Chart.yaml`);
  }
  return root;
}

/** Extract a chart archive into `dest` (empty) and check it is one chart. */
export async function extractChartArchive(archive: Readable, dest: string): Promise<string> {
  try {
    await extractTarGz(archive, dest, { maxBytes: MAX_CHART_BYTES, maxEntries: MAX_CHART_ENTRIES });
  } catch (err) {
    if (err instanceof ArchiveError || err instanceof ChartError) throw err;
    throw new ArchiveError(`cannot extract the archive: ${(err as Error).message}`, { cause: err });
  }
  return chartRoot(dest);
}

export class ChartFetcher {
  /** Chart archives downloaded by this fetcher (cache misses). */
  downloads = 0;
  private readonly indexes = new Map<string, Promise<RepositoryIndex>>();
  private readonly tagLists = new Map<string, Promise<string[]>>();
  private readonly clients = new Map<string, RegistryClient>();

  constructor(private readonly ac: ArtifactContext) {}

  async fetch(request: ChartRequest): Promise<FetchedChart> {
    const signal = deadline(CHART_TIMEOUT_MS, this.ac.signal);
    return request.type === "http"
      ? this.fetchHttp(request, signal)
      : this.fetchOci(request, signal);
  }

  private index(repo: HttpRepository): Promise<RepositoryIndex> {
    let index = this.indexes.get(repo.url);
    if (!index) {
      index = fetchIndex(repo);
      this.indexes.set(repo.url, index);
    }
    return index;
  }

  private async fetchHttp(
    request: Extract<ChartRequest, { type: "http" }>,
    signal: AbortSignal,
  ): Promise<FetchedChart> {
    const repoUrl = request.repoUrl.replace(/\/+$/, "");
    const where = displayUrl(repoUrl);
    const repo: HttpRepository = {
      url: repoUrl,
      ...(request.auth ? { auth: request.auth } : {}),
      passCredentials: request.passCredentials ?? false,
      signal,
    };
    const exact = isExactVersion(request.version);
    const wanted = request.version ?? "*";
    const result = await cachedFetch(this.ac, {
      namespace: CHART_CACHE_NAMESPACE,
      recordKey: `helm ${repoUrl} ${request.chart} ${wanted}`,
      immutable: exact,
      ...(exact ? { known: { id: wanted, revision: wanted } } : {}),
      describe: `chart ${request.chart} version ${wanted} of ${where}`,
      resolve: async () => {
        const entry = pickChartVersion(
          await this.index(repo),
          request.chart,
          request.version,
          where,
        );
        return { id: entry.version, revision: entry.version };
      },
      entryKey: (version) => `${repoUrl} ${request.chart} ${version}`,
      fill: async (dir, record) => {
        const entry = pickChartVersion(await this.index(repo), request.chart, record.id, where);
        const archive = await downloadChart(repo, entry);
        this.downloads++;
        await extractChartArchive(Readable.from(archive), dir);
      },
    });
    return { dir: await chartRoot(result.path), version: result.revision, cached: result.hit };
  }

  private client(
    registry: string,
    insecure: boolean,
    credentials: RegistryCredentials | undefined,
    signal: AbortSignal,
  ): RegistryClient {
    // One client per registry and credentials, so tokens are asked for once per run.
    const id = JSON.stringify([registry, insecure, credentials ?? null]);
    let client = this.clients.get(id);
    if (!client) {
      client = new RegistryClient({
        registry,
        insecure,
        signal,
        timeoutMs: CHART_TIMEOUT_MS,
        ...(credentials ? { credentials } : {}),
      });
      this.clients.set(id, client);
    }
    return client;
  }

  private async fetchOci(
    request: Extract<ChartRequest, { type: "oci" }>,
    signal: AbortSignal,
  ): Promise<FetchedChart> {
    const loc = parseOciUrl(request.url);
    if (!loc.ok) throw new ChartError(loc.error);
    const { registry, repository } = loc.value;
    const id = `oci://${registry}/${repository}`;
    const client = this.client(registry, request.insecure ?? false, request.credentials, signal);
    const exact = isExactVersion(request.version);
    const wanted = request.version ?? "*";
    const result = await cachedFetch(this.ac, {
      namespace: CHART_CACHE_NAMESPACE,
      recordKey: `helm ${id} ${wanted}`,
      immutable: exact,
      ...(exact ? { known: { id: wanted, revision: wanted } } : {}),
      describe: `chart ${id} version ${wanted}`,
      resolve: async () => {
        let tags = this.tagLists.get(id);
        if (!tags) {
          tags = client.listTags(repository);
          this.tagLists.set(id, tags);
        }
        const candidates = (await tags).map((tag) => ({ version: tagToVersion(tag) }));
        let found;
        try {
          found = resolveVersion(candidates, request.version);
        } catch (err) {
          if (err instanceof ConstraintError) {
            throw new ChartError(
              `${id}: invalid version constraint ${JSON.stringify(wanted)}: ${err.message}`,
            );
          }
          throw err;
        }
        if (!found) {
          throw new ChartError(
            `${id}: no tag matches version ${JSON.stringify(wanted)} (${candidates.length} tags)`,
          );
        }
        return { id: found.version, revision: found.version };
      },
      entryKey: (version) => `${id} ${version}`,
      fill: async (dir, record) => {
        const response = await client.getManifest(repository, versionToTag(record.id));
        let json: unknown;
        try {
          json = JSON.parse(response.body.toString("utf8"));
        } catch {
          json = undefined;
        }
        const manifest = ImageManifest.safeParse(json);
        if (!manifest.success)
          throw new ChartError(`${id}:${record.id} is not a Helm chart (not an image manifest)`);
        const layers = manifest.data.layers;
        const layer =
          layers.find((l) => l.mediaType === HELM_CHART_LAYER) ??
          layers.find((l) => l.mediaType === LEGACY_CHART_LAYER);
        if (!layer) throw new ChartError(`${id}:${record.id} is not a Helm chart (no chart layer)`);
        const blob = await client.openBlob(repository, layer);
        this.downloads++;
        await extractChartArchive(blob, dir);
      },
    });
    return { dir: await chartRoot(result.path), version: result.revision, cached: result.hit };
  }
}
