/**
 * Preparing the chart folder a release renders: fetched from a repository
 * (through the chart cache) or found in a source (a chart folder, a packaged
 * chart, an OCIRepository artifact), with `valuesFiles` merged in and the
 * dependencies a chart folder lacks built on the fly, as source-controller
 * builds them. Failures come back as the release's status.
 */
import { createReadStream } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import {
  chartRoot,
  extractChartArchive,
  readChartMetadata,
  type ChartFetcher,
  type ChartMetadata,
} from "../../artifacts/charts/charts.js";
import { ChartError } from "../../artifacts/charts/errors.js";
import { isInside } from "../../flux/paths.js";
import {
  checkChartTree,
  mergeValuesFiles,
  overlayChart,
  vendoredCharts,
} from "../../render/helm/chart-dir.js";
import { ValuesError } from "../../render/helm/values.js";
import type { Status } from "../../store/status.js";
import { FluxLocalError } from "../../util/errors.js";
import type { Outcome } from "../harness.js";
import { pathKind, type LocatedChart } from "./chart-locator.js";

export interface PreparedChart {
  /** Folder helm renders. */
  dir: string;
  meta: ChartMetadata;
  /** `name version (source)`, for messages. */
  label: string;
}

export class ChartPreparer {
  constructor(
    private readonly charts: ChartFetcher,
    private readonly skipInvalidPaths: boolean,
  ) {}

  async prepare(located: LocatedChart, scratch: string): Promise<PreparedChart | Outcome> {
    const failed = (message: string, reason: Status["reason"] = "ChartFailed"): Outcome => ({
      phase: "Failed",
      reason,
      message,
    });
    try {
      const found = await this.chartFolder(located, scratch);
      if ("phase" in found) return found;
      let { dir } = found;
      const meta = await readChartMetadata(dir);
      const values = located.valuesFiles.length
        ? await mergeValuesFiles(
            located.valuesFiles,
            found.valuesRoot,
            located.ignoreMissingValuesFiles,
          )
        : undefined;
      // Packaged charts carry their dependencies; a chart folder may need them built.
      const dependencies = found.folder
        ? await this.dependencies(dir, meta, found.valuesRoot)
        : new Map<string, string>();
      if (values || dependencies.size > 0) {
        dir = await overlayChart(dir, path.join(scratch, "chart"), {
          ...(values ? { values } : {}),
          dependencies,
        });
      }
      return { dir, meta, label: `${meta.name} ${meta.version} from ${located.source}` };
    } catch (err) {
      if (err instanceof ValuesError) return failed(err.message, "ValuesFailed");
      // Fetch, archive, offline-cache and path errors: expected, named by source.
      if (err instanceof FluxLocalError) return failed(`${located.source}: ${err.message}`);
      throw err;
    }
  }

  /**
   * Where the chart is: the cache entry of a repository chart, or in a
   * source (a chart folder, a packaged chart, an OCIRepository artifact), with
   * the folder its values files are relative to.
   */
  private async chartFolder(
    located: LocatedChart,
    scratch: string,
  ): Promise<{ dir: string; valuesRoot: string; folder: boolean } | Outcome> {
    if (located.type === "repository") {
      const fetched = await this.charts.fetch(located.request);
      return { dir: fetched.dir, valuesRoot: fetched.dir, folder: false };
    }
    const kind = await pathKind(located.path);
    if (kind === undefined) {
      const shown = path.relative(located.root, located.path) || ".";
      if (this.skipInvalidPaths) {
        return {
          phase: "Skipped",
          reason: "PathNotFound",
          message: `chart path ${shown} not found in ${located.source} (skipped)`,
        };
      }
      return {
        phase: "Failed",
        reason: "PathNotFound",
        message: `chart path ${shown} not found in ${located.source}; use --skip-invalid-helm-release-paths to skip`,
      };
    }
    const valuesRoot = located.root;
    if (kind === "file")
      return { dir: await this.extract(located.path, scratch), valuesRoot, folder: false };
    if (located.artifact) {
      return { dir: await this.chartInArtifact(located.path, scratch), valuesRoot, folder: false };
    }
    await checkChartTree(located.path, located.root);
    return { dir: located.path, valuesRoot, folder: true };
  }

  /** A packaged chart file (in a source) extracted into the scratch folder. */
  private async extract(file: string, scratch: string): Promise<string> {
    const dest = path.join(scratch, "archive");
    await mkdir(dest);
    return extractChartArchive(createReadStream(file), dest);
  }

  /**
   * The chart of an OCIRepository artifact: the artifact itself, its one
   * folder (an extracted chart layer), or its one .tgz (a copied layer).
   */
  private async chartInArtifact(dir: string, scratch: string): Promise<string> {
    if ((await pathKind(path.join(dir, "Chart.yaml"))) === "file") return dir;
    const entries = await readdir(dir, { withFileTypes: true });
    const archives = entries.filter((e) => e.isFile() && e.name.endsWith(".tgz"));
    if (entries.length === 1 && archives[0])
      return this.extract(path.join(dir, archives[0].name), scratch);
    try {
      return await chartRoot(dir);
    } catch {
      throw new ChartError(
        "the artifact holds no Helm chart (no Chart.yaml, one chart folder or one .tgz)",
      );
    }
  }

  /**
   * Dependencies of a chart folder that are not in its charts/ folder, as
   * source-controller builds them: `file://` paths inside the source, and
   * charts from HTTP or OCI repositories (through the chart cache).
   */
  private async dependencies(
    dir: string,
    meta: ChartMetadata,
    root: string,
  ): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (meta.dependencies.length === 0) return found;
    const vendored = await vendoredCharts(dir);
    for (const dep of meta.dependencies) {
      if (vendored.has(dep.name) || found.has(dep.name)) continue;
      const repo = dep.repository ?? "";
      if (repo.startsWith("file://")) {
        const target = path.resolve(dir, repo.slice("file://".length));
        if (!isInside(root, target)) {
          throw new ChartError(`dependency ${dep.name}: ${repo} leaves the source`);
        }
        if ((await pathKind(path.join(target, "Chart.yaml"))) !== "file") {
          throw new ChartError(`dependency ${dep.name}: no chart at ${repo}`);
        }
        await checkChartTree(target, root);
        found.set(dep.name, target);
      } else if (/^https?:\/\//.test(repo)) {
        const fetched = await this.charts.fetch({
          type: "http",
          repoUrl: repo,
          chart: dep.name,
          ...(dep.version ? { version: dep.version } : {}),
        });
        found.set(dep.name, fetched.dir);
      } else if (repo.startsWith("oci://")) {
        const fetched = await this.charts.fetch({
          type: "oci",
          url: `${repo.replace(/\/+$/, "")}/${dep.name}`,
          ...(dep.version ? { version: dep.version } : {}),
        });
        found.set(dep.name, fetched.dir);
      } else if (repo !== "") {
        throw new ChartError(
          `dependency ${dep.name}: repository ${repo} is a local helm alias, which flux-local cannot resolve (use its URL or vendor the chart in charts/)`,
        );
      }
    }
    return found;
  }
}
