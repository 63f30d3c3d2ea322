/**
 * Running `helm template` as helm-controller renders a release: the values in
 * a file, the release name and namespace, CRDs, hooks and validation switches
 * from the HelmRelease and the command line. Helm runs in a scratch folder
 * with its own empty home, so the user's helm configuration, repositories and
 * plugins never leak in (except `--registry-config` when given).
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { parseYamlDocuments } from "../../discovery/yaml.js";
import type { KubeObject } from "../../flux/objects.js";
import { RenderError } from "../../util/errors.js";
import { HelmFailure, withoutHelmNotices, type HelmRunner } from "./runner.js";

export interface TemplateRequest {
  releaseName: string;
  namespace: string;
  /** Chart folder (holds Chart.yaml). */
  chartDir: string;
  valuesFile: string;
  includeCrds: boolean;
  kubeVersion?: string;
  apiVersions?: readonly string[];
  isUpgrade?: boolean;
  noHooks?: boolean;
  showOnly?: readonly string[];
  disableOpenApiValidation?: boolean;
  skipSchemaValidation?: boolean;
  enableDns?: boolean;
  registryConfig?: string;
}

/** The arguments after `helm` (pure; tests assert them). */
export function templateArgs(request: TemplateRequest): string[] {
  const args = [
    "template",
    request.releaseName,
    request.chartDir,
    "--namespace",
    request.namespace,
    "--values",
    request.valuesFile,
    "--skip-tests",
  ];
  if (request.includeCrds) args.push("--include-crds");
  if (request.kubeVersion) args.push("--kube-version", request.kubeVersion);
  for (const api of request.apiVersions ?? []) args.push("--api-versions", api);
  if (request.isUpgrade) args.push("--is-upgrade");
  if (request.noHooks) args.push("--no-hooks");
  for (const template of request.showOnly ?? []) args.push("--show-only", template);
  if (request.disableOpenApiValidation) args.push("--disable-openapi-validation");
  if (request.skipSchemaValidation) args.push("--skip-schema-validation");
  if (request.enableDns) args.push("--enable-dns");
  if (request.registryConfig) args.push("--registry-config", request.registryConfig);
  return args;
}

/** Environment that points every helm path at `home` (a private, empty folder). */
export function helmEnvironment(home: string): Record<string, string> {
  return {
    HELM_CACHE_HOME: path.join(home, "cache"),
    HELM_CONFIG_HOME: path.join(home, "config"),
    HELM_DATA_HOME: path.join(home, "data"),
    HELM_PLUGINS: path.join(home, "plugins"),
    HELM_REGISTRY_CONFIG: path.join(home, "config", "registry.json"),
    HELM_REPOSITORY_CONFIG: path.join(home, "config", "repositories.yaml"),
    HELM_REPOSITORY_CACHE: path.join(home, "cache", "repository"),
    HELM_CONTENT_CACHE: path.join(home, "cache", "content"),
    HELM_DEBUG: "false",
    HELM_NAMESPACE: "",
    HELM_KUBECONTEXT: "",
    HELM_KUBEAPISERVER: "",
    HELM_KUBETOKEN: "",
    HELM_KUBEASUSER: "",
    HELM_KUBEASGROUPS: "",
    HELM_KUBECAFILE: "",
    HELM_KUBEINSECURE_SKIP_TLS_VERIFY: "false",
    HELM_KUBETLS_SERVER_NAME: "",
    KUBECONFIG: path.join(home, "kubeconfig"),
  };
}

export async function prepareHelmHome(home: string): Promise<void> {
  for (const dir of ["cache", "config", "data", "plugins"]) {
    await mkdir(path.join(home, dir), { recursive: true });
  }
}

/** Helm's error without its `Error:` prefix, with scratch paths replaced by `chartLabel`. */
export function cleanHelmMessage(stderr: string, chartDir: string, chartLabel: string): string {
  return withoutHelmNotices(stderr)
    .split("\n")
    .map((line) => line.replace(/^Error: /, ""))
    .join("\n")
    .split(chartDir)
    .join(chartLabel)
    .trim();
}

export interface TemplateRun {
  /** Scratch folder to run in. */
  cwd: string;
  /** Who runs helm: the run's helm worker pool, or a process per render (runner.ts). */
  runner: HelmRunner;
  /** How the chart is named in messages. */
  chartLabel: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export async function helmTemplate(
  request: TemplateRequest,
  context: TemplateRun,
): Promise<KubeObject[]> {
  let stdout: string;
  try {
    stdout = await context.runner.template(templateArgs(request), {
      cwd: context.cwd,
      signal: context.signal,
      timeoutMs: context.timeoutMs,
    });
  } catch (err) {
    if (err instanceof HelmFailure) {
      const detail = cleanHelmMessage(err.stderr, request.chartDir, context.chartLabel);
      throw new RenderError(`helm template failed: ${detail || err.message}`, { cause: err });
    }
    throw err;
  }
  const parsed = parseYamlDocuments(stdout);
  const bad = parsed.errors[0];
  if (bad)
    throw new RenderError(`helm template produced invalid YAML (line ${bad.line}): ${bad.message}`);
  return parsed.documents.map((d) => d.object);
}
