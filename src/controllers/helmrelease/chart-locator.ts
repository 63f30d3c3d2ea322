/**
 * Finding the chart of a HelmRelease, as helm-controller and source-controller
 * would: `spec.chartRef` (an OCIRepository, an ExternalArtifact, or a HelmChart) or
 * `spec.chart.spec` (a chart in a HelmRepository, HTTP or OCI, or a chart path
 * in a GitRepository or Bucket). Repository charts come from the shared chart
 * cache; charts in sources are read from the source's local artifact.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { refDisplay, refString, type ObjectRef } from "../../flux/objects.js";
import { isInside } from "../../flux/paths.js";
import {
  describeSchemaError,
  HelmChart,
  HelmRepository,
  type ChartTemplateSpec,
  type HelmRelease,
} from "../../flux/schema.js";
import type { ChartRequest } from "../../artifacts/charts/charts.js";
import type { HttpAuth } from "../../artifacts/http.js";
import { lookupDockerConfig, type RegistryCredentials } from "../../artifacts/oci/docker-config.js";
import { parseOciUrl } from "../../artifacts/oci/reference.js";

import type { StoreEntry } from "../../store/store.js";
import type { Status } from "../../store/status.js";
import type { RunContext } from "../context.js";
import { awaitSourceArtifact, dependencyFailure, type NotReadyOptions } from "../dependencies.js";

/** A chart found on disk, before it is prepared for rendering. */
export type LocatedChart =
  | {
      type: "repository";
      request: ChartRequest;
      /** How the source is named in messages. */
      source: string;
      valuesFiles: string[];
      ignoreMissingValuesFiles: boolean;
    }
  | {
      type: "local";
      /**
       * Chart folder or packaged chart file (absolute). For an OCIRepository
       * artifact, the artifact folder, which holds the chart somewhere.
       */
      path: string;
      /** The path is an OCIRepository artifact (chart inside, or a .tgz). */
      artifact: boolean;
      /** Root the chart and its values files must stay inside. */
      root: string;
      source: string;
      valuesFiles: string[];
      ignoreMissingValuesFiles: boolean;
    };

/** A chart source that is not Ready: its state and message, whatever the reason. */
const SOURCE_NOT_READY: NotReadyOptions = {
  reason: "SourceNotReady",
  classify: false,
  repeatMessage: true,
};

const failed = (reason: Status["reason"], message: string, rootCause?: string): Status => ({
  phase: "Failed",
  reason,
  message,
  ...(rootCause ? { rootCause } : {}),
});

function valuesFilesOf(spec: {
  valuesFiles?: string[] | undefined;
  valuesFile?: string | undefined;
}): string[] {
  // The deprecated single valuesFile is merged before the list.
  return [...(spec.valuesFile ? [spec.valuesFile] : []), ...(spec.valuesFiles ?? [])];
}

export class ChartLocator {
  /** Registry credentials by secretRef and registry: asked once per run (helpers are programs). */
  private readonly registryAuth = new Map<string, Promise<RegistryCredentials | undefined>>();

  constructor(private readonly ctx: RunContext) {}

  /** Basic auth of an HTTP HelmRepository: its secretRef, given with --secret-file. */
  private async httpAuth(
    namespace: string,
    secretRef: string | undefined,
  ): Promise<HttpAuth | undefined> {
    if (!secretRef) return undefined;
    const secret = (await this.ctx.artifacts.vault()).get(namespace, secretRef);
    if (!secret) return undefined;
    const username = secret.values.get("username");
    const password = secret.values.get("password");
    return username !== undefined || password !== undefined
      ? { username: username ?? "", password: password ?? "" }
      : undefined;
  }

  /**
   * Registry credentials of an OCI HelmRepository: its secretRef (a
   * dockerconfigjson or username/password Secret given with --secret-file),
   * else the user's docker config, else none.
   */
  private registryCredentials(
    namespace: string,
    secretRef: string | undefined,
    url: string,
  ): Promise<RegistryCredentials | undefined> {
    const loc = parseOciUrl(url);
    if (!loc.ok) return Promise.resolve(undefined);
    const registry = loc.value.registry;
    const key = JSON.stringify([secretRef ? namespace : "", secretRef ?? "", registry]);
    let found = this.registryAuth.get(key);
    if (!found) {
      found = this.lookupRegistryCredentials(namespace, secretRef, registry);
      this.registryAuth.set(key, found);
    }
    return found;
  }

  private async lookupRegistryCredentials(
    namespace: string,
    secretRef: string | undefined,
    registry: string,
  ): Promise<RegistryCredentials | undefined> {
    if (secretRef) {
      const vault = await this.ctx.artifacts.vault();
      const config = vault.dockerConfig(namespace, secretRef);
      if (config) {
        const found = lookupDockerConfig(config, registry);
        if (found.kind === "static") return found.credentials;
      }
      const secret = vault.get(namespace, secretRef);
      const username = secret?.values.get("username");
      if (username !== undefined)
        return { username, password: secret?.values.get("password") ?? "" };
    }
    return this.ctx.artifacts.userRegistry.credentials(registry);
  }

  async locate(entry: StoreEntry, hr: HelmRelease): Promise<LocatedChart | Status> {
    const namespace = entry.ref.namespace;
    const { chartRef, chart } = hr.spec;
    if (chartRef) {
      const ref: ObjectRef = {
        kind: chartRef.kind,
        namespace: chartRef.namespace ?? namespace,
        name: chartRef.name,
      };
      // An ExternalArtifact (an ArtifactGenerator's, or --sources) holds a chart as an
      // OCIRepository artifact does.
      if (ref.kind === "OCIRepository" || ref.kind === "ExternalArtifact") {
        return this.ociRepository(entry, ref);
      }
      if (ref.kind === "HelmChart") return this.helmChart(entry, ref);
      return failed(
        "InvalidObject",
        `spec.chartRef.kind ${ref.kind} is not supported (OCIRepository, ExternalArtifact or HelmChart)`,
      );
    }
    if (!chart) return failed("InvalidObject", "either spec.chart or spec.chartRef must be set");
    return this.template(entry, chart.spec, namespace);
  }

  /** A chart template (`spec.chart.spec` or a HelmChart's spec) in `namespace`. */
  private async template(
    entry: StoreEntry,
    spec: ChartTemplateSpec,
    namespace: string,
  ): Promise<LocatedChart | Status> {
    const ref: ObjectRef = {
      kind: spec.sourceRef.kind,
      namespace: spec.sourceRef.namespace ?? namespace,
      name: spec.sourceRef.name,
    };
    const valuesFiles = valuesFilesOf(spec);
    const ignoreMissingValuesFiles = spec.ignoreMissingValuesFiles ?? false;
    if (ref.kind === "HelmRepository") {
      const repo = await this.readySource(entry, ref);
      if ("phase" in repo) return repo;
      const parsed = HelmRepository.safeParse(repo.object);
      if (!parsed.success) {
        return failed(
          "InvalidObject",
          `invalid ${refDisplay(ref)}: ${describeSchemaError(parsed.error)}`,
          refString(ref),
        );
      }
      const repoSpec = parsed.data.spec;
      const version = spec.version && spec.version !== "" ? spec.version : undefined;
      const secretRef = repoSpec.secretRef?.name;
      let request: ChartRequest;
      if (repoSpec.type === "oci") {
        const url = `${repoSpec.url.replace(/\/+$/, "")}/${spec.chart}`;
        const credentials = await this.registryCredentials(ref.namespace, secretRef, url);
        request = {
          type: "oci",
          url,
          ...(version ? { version } : {}),
          insecure: repoSpec.insecure ?? false,
          ...(credentials ? { credentials } : {}),
        };
      } else {
        const auth = await this.httpAuth(ref.namespace, secretRef);
        request = {
          type: "http",
          repoUrl: repoSpec.url,
          chart: spec.chart,
          ...(version ? { version } : {}),
          ...(auth ? { auth } : {}),
          passCredentials: repoSpec.passCredentials ?? false,
        };
      }
      return {
        type: "repository",
        request,
        source: refDisplay(ref),
        valuesFiles,
        ignoreMissingValuesFiles,
      };
    }
    if (ref.kind === "GitRepository" || ref.kind === "Bucket") {
      // With --sources mappings and bootstrap aliasing, as for Kustomizations.
      const artifact = await awaitSourceArtifact(
        this.ctx,
        entry,
        ref,
        refDisplay(ref),
        SOURCE_NOT_READY,
      );
      if ("phase" in artifact) return artifact;
      const chartPath = path.join(artifact.path, spec.chart);
      if (!isInside(artifact.path, chartPath)) {
        return failed(
          "PathNotFound",
          `chart path ${spec.chart} leaves the root of ${refDisplay(ref)}`,
        );
      }
      return {
        type: "local",
        path: chartPath,
        artifact: false,
        root: artifact.path,
        source: refDisplay(ref),
        valuesFiles,
        ignoreMissingValuesFiles,
      };
    }
    return failed(
      "InvalidObject",
      `chart sourceRef kind ${ref.kind} is not supported (HelmRepository, GitRepository or Bucket)`,
    );
  }

  private async helmChart(entry: StoreEntry, ref: ObjectRef): Promise<LocatedChart | Status> {
    const chart = await this.readySource(entry, ref);
    if ("phase" in chart) return chart;
    const parsed = HelmChart.safeParse(chart.object);
    if (!parsed.success) {
      return failed(
        "InvalidObject",
        `invalid ${refDisplay(ref)}: ${describeSchemaError(parsed.error)}`,
        refString(ref),
      );
    }
    // A HelmChart's source is always in its own namespace.
    const spec = {
      ...parsed.data.spec,
      sourceRef: { ...parsed.data.spec.sourceRef, namespace: ref.namespace },
    };
    return this.template(entry, spec, ref.namespace);
  }

  /**
   * The chart in an OCIRepository's or ExternalArtifact's artifact (fetched or
   * generated by the source controllers, or --sources).
   */
  private async ociRepository(entry: StoreEntry, ref: ObjectRef): Promise<LocatedChart | Status> {
    const source = await this.readySource(entry, ref);
    if ("phase" in source) return source;
    if (source.artifact?.type !== "source") {
      return failed("SourceNotReady", `${refDisplay(ref)} has no artifact`, refString(ref));
    }
    return {
      type: "local",
      path: source.artifact.path,
      artifact: true,
      root: source.artifact.path,
      source: refDisplay(ref),
      valuesFiles: [],
      ignoreMissingValuesFiles: false,
    };
  }

  /** A source object that exists and is Ready. */
  private async readySource(entry: StoreEntry, ref: ObjectRef): Promise<StoreEntry | Status> {
    const key = refString(ref);
    const present = await this.ctx.manager.awaitPresence(ref, entry.key);
    if (!present) return failed("SourceNotFound", `${refDisplay(ref)} not found`, key);
    const status = await this.ctx.manager.awaitReady(ref, entry.key);
    if (status.phase !== "Ready")
      return dependencyFailure(refDisplay(ref), key, status, entry.key, SOURCE_NOT_READY);
    return this.ctx.store.get(key) ?? present;
  }
}

export async function pathKind(p: string): Promise<"file" | "directory" | undefined> {
  try {
    const st = await stat(p);
    return st.isDirectory() ? "directory" : st.isFile() ? "file" : undefined;
  } catch {
    return undefined;
  }
}
