/**
 * The HelmRelease controller. For each HelmRelease: wait for the HelmReleases
 * it depends on and for its chart source, get the chart (shared cache for
 * repository charts, the source's folder for charts in git), compose the
 * values exactly as helm-controller does, render with the real `helm
 * template`, apply the post-renderers, wipe Secret values, record the objects
 * as its artifact, and add the Flux objects, ConfigMaps and Secrets it
 * rendered to the store (discovery goes on through charts too). A failure is
 * the status of that one HelmRelease; the run goes on.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { KubeObject } from "../../flux/objects.js";
import type { HelmRelease } from "../../flux/schema.js";
import { postRender } from "../../render/helm/post-render.js";
import { createHelmRunner, type HelmRunner } from "../../render/helm/runner.js";
import {
  helmEnvironment,
  helmTemplate,
  prepareHelmHome,
  type TemplateRequest,
} from "../../render/helm/template.js";
import { chartFiles, helmInputs, type RenderInputs } from "../../render/inputs.js";
import { jsonExact, renderCacheKey } from "../../render/kustomize/cache.js";
import { ProcessRunner } from "../../render/kustomize/runner.js";
import {
  composeValues,
  serializeValues,
  ValuesError,
  type Values,
} from "../../render/helm/values.js";
import { wipeSecrets } from "../../render/secrets.js";
import { ChartFetcher } from "../../artifacts/charts/charts.js";
import type { StoreEntry } from "../../store/store.js";
import { FluxLocalError, RenderError } from "../../util/errors.js";
import { startWork, type RunContext } from "../context.js";
import { awaitDependencies } from "../dependencies.js";
import { producedInCluster } from "../kustomization/controller.js";
import type { Outcome, Reconciler } from "../harness.js";
import { ChartLocator } from "./chart-locator.js";
import type { HelmRenderOptions } from "./options.js";
import { ChartPreparer, type PreparedChart } from "./prepare-chart.js";
import { resolveValuesFrom } from "./values-from.js";

const MAX_RELEASE_NAME = 53;

/** helm-controller's release name: `[targetNamespace-]name`, hashed down to 53 characters. */
export function releaseName(hr: HelmRelease): string {
  const name =
    hr.spec.releaseName ??
    (hr.spec.targetNamespace ? `${hr.spec.targetNamespace}-${hr.metadata.name}` : hr.metadata.name);
  if (name.length <= MAX_RELEASE_NAME) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 12);
  return `${name.slice(0, MAX_RELEASE_NAME - 13)}-${hash}`;
}

/** Whether the chart's crds/ folder is rendered: the user's choice, then the release's CRD policy. */
export function includeCrds(hr: HelmRelease, options: HelmRenderOptions): boolean {
  if (options.skipCrds) return false;
  if (options.isUpgrade) return (hr.spec.upgrade?.crds ?? "Skip") !== "Skip";
  const install = hr.spec.install;
  const policy = install?.crds ?? (install?.skipCRDs ? "Skip" : "Create");
  return policy !== "Skip";
}

export class HelmReleaseController implements Reconciler<"HelmRelease"> {
  readonly kinds = ["HelmRelease"] as const;
  readonly charts: ChartFetcher;
  private readonly locator: ChartLocator;
  private readonly preparer: ChartPreparer;
  private helm: Promise<HelmRunner> | undefined;

  constructor(
    private readonly ctx: RunContext,
    private readonly options: HelmRenderOptions,
  ) {
    this.charts = new ChartFetcher(ctx.artifacts);
    this.locator = new ChartLocator(ctx);
    this.preparer = new ChartPreparer(this.charts, options.skipInvalidPaths);
  }

  /** The run's helm (workers or processes), over a private, empty helm home. */
  private runner(): Promise<HelmRunner> {
    this.helm ??= (async () => {
      const home = path.join(this.ctx.options.scratchDir, "helm-home");
      await prepareHelmHome(home);
      return createHelmRunner(this.ctx.options.concurrency, helmEnvironment(home));
    })();
    return this.helm;
  }

  /** Stop the helm workers (at the end of the run). */
  async close(): Promise<void> {
    const helm = this.helm;
    this.helm = undefined;
    await (await helm?.catch(() => undefined))?.close();
  }

  async reconcile(hr: HelmRelease, entry: StoreEntry, generation: number): Promise<Outcome> {
    if (this.options.select && !this.options.select(entry)) {
      return {
        phase: "Ready",
        reason: "ReconciliationSucceeded",
        message: "not selected: not rendered",
      };
    }

    const namespace = entry.ref.namespace;
    const dependency = await awaitDependencies(this.ctx, entry, "HelmRelease", hr.spec.dependsOn, {
      repeatMessage: true,
    });
    if (dependency) return dependency;

    let located;
    try {
      located = await this.locator.locate(entry, hr);
    } catch (err) {
      // Unreadable --secret-file or registry config, a failing credential helper.
      if (err instanceof FluxLocalError) {
        return { phase: "Failed", reason: "ChartFailed", message: err.message };
      }
      throw err;
    }
    if ("phase" in located) return located;

    const notes: string[] = [];
    let sources;
    try {
      const resolved = await resolveValuesFrom(hr.spec.valuesFrom ?? [], namespace, {
        find: async (kind, name) =>
          (await this.ctx.manager.awaitPresence({ kind, namespace, name }, entry.key))?.object,
        producedInCluster: (name) => producedInCluster(this.ctx, namespace, name),
        allowMissingSecrets: this.ctx.options.allowMissingSecrets,
      });
      sources = resolved.sources;
      notes.push(...resolved.notes);
    } catch (err) {
      if (err instanceof ValuesError)
        return { phase: "Failed", reason: "ValuesFailed", message: err.message };
      throw err;
    }
    let values: Values;
    try {
      values = composeValues(sources, hr.spec.values ?? {});
    } catch (err) {
      if (err instanceof ValuesError)
        return { phase: "Failed", reason: "ValuesFailed", message: err.message };
      throw err;
    }

    const superseded = startWork(this.ctx, entry, generation, "rendering");
    if (superseded) return superseded;
    const scratch = await mkdtemp(path.join(this.ctx.options.scratchDir, "hr-"));
    try {
      const chart = await this.preparer.prepare(located, scratch);
      if ("phase" in chart) return chart;
      const result = await this.render(entry, hr, chart, values, scratch);
      if ("phase" in result) return result;
      return {
        phase: "Ready",
        reason: "ReconciliationSucceeded",
        message: [`chart ${chart.label}`, ...notes].join("; "),
        ...rendered(
          wipeSecrets(result.objects),
          hr.spec.targetNamespace ?? namespace,
          result.inputs,
        ),
      };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /** The chart folder to render: fetched or local, with valuesFiles and missing dependencies applied. */
  private async render(
    entry: StoreEntry,
    hr: HelmRelease,
    chart: PreparedChart,
    values: Values,
    scratch: string,
  ): Promise<{ objects: KubeObject[]; inputs: RenderInputs } | Outcome> {
    const action = this.options.isUpgrade ? hr.spec.upgrade : hr.spec.install;
    const valuesFile = path.join(scratch, "values.yaml");
    try {
      await writeFile(valuesFile, serializeValues(values));
    } catch (err) {
      if (err instanceof ValuesError)
        return { phase: "Failed", reason: "ValuesFailed", message: err.message };
      throw err;
    }
    let helm: HelmRunner;
    try {
      helm = await this.runner();
    } catch (err) {
      // FLUX_LOCAL_HELM_WORKER names no executable.
      if (err instanceof FluxLocalError)
        return { phase: "Failed", reason: "InstallFailed", message: err.message };
      throw err;
    }
    const request: TemplateRequest = {
      releaseName: releaseName(hr),
      namespace: hr.spec.targetNamespace ?? entry.ref.namespace,
      chartDir: chart.dir,
      valuesFile,
      includeCrds: includeCrds(hr, this.options),
      ...(this.options.kubeVersion ? { kubeVersion: this.options.kubeVersion } : {}),
      apiVersions: this.options.apiVersions,
      isUpgrade: this.options.isUpgrade,
      noHooks: this.options.noHooks || (action?.disableHooks ?? false),
      showOnly: this.options.showOnly,
      disableOpenApiValidation: action?.disableOpenAPIValidation ?? false,
      skipSchemaValidation: action?.disableSchemaValidation ?? false,
      enableDns: this.options.enableDns,
      ...(this.ctx.options.registryConfig
        ? { registryConfig: this.ctx.options.registryConfig }
        : {}),
    };
    const renderers = (hr.spec.postRenderers ?? []).flatMap((r) =>
      r.kustomize ? [r.kustomize] : [],
    );
    // The render inputs fingerprint: equal inputs, equal output (shared by a diff's two sides).
    const { chartDir: _chartDir, valuesFile: _valuesFile, ...flags } = request;
    const inputs = helmInputs(
      { chart: chart.label, values, flags, postRenderers: renderers },
      await chartFiles(chart.dir),
    );
    const renderOnce = () =>
      this.ctx.manager.queue.add(
        async () => {
          const output = await helmTemplate(request, {
            cwd: scratch,
            runner: helm,
            chartLabel: `${chart.meta.name}`,
            signal: this.ctx.options.signal,
          });
          return renderers.length > 0
            ? postRender(output, renderers, {
                scratchDir: scratch,
                signal: this.ctx.options.signal,
                runner: this.ctx.kustomize,
              })
            : output;
        },
        { throwOnTimeout: true },
      );
    // The render cache: helm's output by every input of the render (the chart's
    // files, the values, the flags) and the helm (and post-render kustomize)
    // that renders; not with --enable-dns, whose templates read the network.
    const cache = this.options.enableDns ? undefined : this.ctx.helmCache;
    const cachedRender = async (): Promise<KubeObject[]> => {
      if (!cache) return renderOnce();
      const builders = [await helm.identity()];
      if (renderers.length > 0)
        builders.push(await (this.ctx.kustomize ?? new ProcessRunner()).identity());
      const key = renderCacheKey(inputs.key, builders.join(" "));
      const hit = await cache.get(key);
      if (hit !== undefined) return JSON.parse(hit) as KubeObject[];
      const objects = await renderOnce();
      if (jsonExact(objects)) await cache.put(key, JSON.stringify(objects));
      return objects;
    };
    try {
      const memo = this.ctx.options.renderMemo;
      const objects = memo
        ? await memo.run(`helm:${inputs.key}`, cachedRender)
        : await cachedRender();
      return { objects, inputs };
    } catch (err) {
      if (err instanceof RenderError) {
        return {
          phase: "Failed",
          reason: this.options.isUpgrade ? "UpgradeFailed" : "InstallFailed",
          message: `${err.message} (chart ${chart.label})`,
        };
      }
      if (err instanceof FluxLocalError)
        return { phase: "Failed", reason: "InstallFailed", message: err.message };
      throw err;
    }
  }
}

/** The artifact and produced objects of a rendered release. */
function rendered(
  objects: KubeObject[],
  defaultNamespace: string,
  inputs?: RenderInputs,
): Pick<Outcome, "artifact" | "produced"> {
  return {
    artifact: { type: "render", objects, ...(inputs ? { inputs } : {}) },
    produced: { objects, defaultNamespace },
  };
}
