/**
 * Options shared by the commands, named as in flux-local so existing scripts
 * keep working.
 */
import { parseSize } from "./run-cache/bound.js";
import { Option, type Command } from "commander";
import { statSync } from "node:fs";
import type { SourceMapping, WantedObject } from "../controllers/context.js";
import type { HelmRenderOptions } from "../controllers/helmrelease/options.js";
import type { RenderRequest } from "../run.js";
import {
  DEFAULT_NAMESPACE,
  parseLabelSelector,
  type LabelRequirement,
  type Selection,
} from "../views/select.js";
import { UsageError } from "../util/errors.js";
import { overrideLimit } from "../util/limits.js";

export interface CommonOptions {
  kustomizeBuildFlags?: string;
  path: string;
  sources: string[];
  rsetInputs?: string[];
  skipInvalidKustomizationPaths?: boolean;
  strictSubstitute?: boolean;
  allowMissingSecrets?: boolean;
  concurrency?: string;
  cacheDir?: string;
  offline?: boolean;
  verifyCache?: boolean;
  /** Commander's `--no-cache`: false when given. */
  cache?: boolean;
  secretFile?: string[];
  registryConfig?: string;
  verbose?: boolean;
  quiet?: boolean;
  logFormat?: "json" | "pretty";
  toolTimeout?: string;
  toolMemory?: string;
  cacheMaxSize?: string;
}

export interface SelectionOptions {
  namespace: string;
  allNamespaces?: boolean;
  all?: boolean;
  labelSelector: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function addCommonOptions(cmd: Command): Command {
  return cmd
    .option("--path <dir>", "directory of the Flux repository to read", ".")
    .option(
      "--sources <name=path>",
      "restrict the run to Kustomizations built from these sources (name, namespace/name or Kind/namespace/name), each optionally mapped to a local directory (=PATH); repeatable or comma separated",
      collect,
      [],
    )
    .option(
      "--rset-inputs <name=file>",
      "input sets (a YAML list) for a ResourceSet (name or namespace/name), as `flux-operator build rset --inputs-from`; repeatable",
      collect,
      [],
    )
    .option(
      "--skip-invalid-kustomization-paths",
      "skip Kustomizations whose spec.path does not exist",
    )
    .option("--strict-substitute", "fail on variables that are not set and have no default")
    .option(
      "--allow-missing-secrets",
      "tolerate Secrets referenced for substitution or values that are not in the repository",
    )
    .option("--concurrency <n>", "how many builds run at once (default: the CPU count)")
    .option(
      "--cache-dir <dir>",
      "cache of fetched sources and charts, shared across runs (default: $FLUX_LOCAL_CACHE_DIR or ~/.cache/flux-local)",
    )
    .option(
      "--offline",
      "use only the cache for remote sources: no network; a source never fetched is an error",
    )
    .option(
      "--secret-file <file>",
      "a plain (decrypted) Secret manifest with credentials for sources whose spec.secretRef names it; repeatable",
      collect,
      [],
    )
    .option(
      "--registry-config <file>",
      "docker config file with registry credentials (default: $DOCKER_CONFIG/config.json or ~/.docker/config.json)",
    )
    .option(
      "--verify-cache",
      "hash every cached file before use (by default only files whose size or time changed)",
    )
    .option(
      "--tool-timeout <seconds>",
      "stop an external command (kustomize, helm) that runs longer (default 300, or $FLUX_LOCAL_TOOL_TIMEOUT)",
    )
    .option(
      "--tool-memory <MiB>",
      "memory bound of an external command, on Linux (default 2048, or $FLUX_LOCAL_TOOL_MEMORY_MB)",
    )
    .option(
      "--no-cache",
      "neither read nor write the run and render caches (sources keep their cache)",
    )
    .option(
      "--cache-max-size <size>",
      "after the run, remove the least recently used cache entries until the cache fits (default 1G, or $FLUX_LOCAL_CACHE_MAX_SIZE; 0: never)",
    )
    .option("-v, --verbose", "log each external command and its duration")
    .option("-q, --quiet", "no live progress display on a terminal")
    .addOption(
      new Option("--log-format <format>", "log format on stderr")
        .choices(["pretty", "json"])
        .default("pretty"),
    );
}

/**
 * flux-local flags that mean nothing different here, accepted so that a CI job
 * switching binaries never dies on "unknown option" (README: "flux-local's flags").
 * Added only where the command does not define the flag itself.
 */
export function addFluxLocalFlags(cmd: Command): Command {
  const has = (flag: string) => cmd.options.some((o) => o.long === flag);
  const add = (flags: string, description: string) => {
    const long = flags.split(/[ ,]+/).find((f) => f.startsWith("--"))!;
    if (!has(long)) cmd.addOption(new Option(flags, description).hideHelp());
  };
  add(
    "--no-skip-invalid-kustomization-paths",
    "fail Kustomizations whose spec.path is missing (default)",
  );
  add("--no-all-namespaces", "only the namespace of -n (default)");
  add("--kustomize-build-flags <flags>", "flux-local's extra kustomize flags (see README)");
  add("--enable-oci", "no-op: OCI sources are always on");
  add("--no-enable-oci", "no-op: OCI sources are always on");
  add("--skip-crds", "flux-local selector flag; no-op here");
  add("--no-skip-crds", "flux-local selector flag; no-op here");
  add("--skip-secrets", "flux-local selector flag; no-op here");
  add("--no-skip-secrets", "flux-local selector flag; no-op here");
  add("--skip-kinds <kinds>", "flux-local selector flag; no-op here");
  return cmd;
}

/** What `--kustomize-build-flags` asks for, said on stderr: builds run as Flux runs them. */
export function kustomizeBuildFlagNotes(flags: string | undefined): string[] {
  const words = (flags ?? "").match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
  const notes: string[] = [];
  for (const raw of words) {
    const flag = raw.replace(/^["']|["']$/g, "");
    if (flag === "--enable-helm") {
      notes.push(
        "--kustomize-build-flags --enable-helm is ignored: Flux's kustomize-controller refuses helmCharts in a kustomization, so builds run without it as in Flux (a kustomization with helmCharts fails); HelmReleases render with flux-local's own --enable-helm",
      );
    } else if (/^--load[-_]restrictor(=|$)|^LoadRestrictions/.test(flag)) {
      notes.push(
        `--kustomize-build-flags ${flag} is ignored: load restrictions are always off, as in Flux`,
      );
    } else if (flag.startsWith("-")) {
      notes.push(
        `--kustomize-build-flags ${flag} is ignored: builds run with Flux's kustomize options`,
      );
    }
  }
  return notes;
}

export function addSelectionOptions(cmd: Command): Command {
  return cmd
    .option("-n, --namespace <ns>", "namespace of the objects", DEFAULT_NAMESPACE)
    .option("-A, --all-namespaces", "objects of every namespace")
    .addOption(new Option("--all").hideHelp())
    .option(
      "-l, --label-selector <selector>",
      "only objects whose labels match (kubectl's: key=value, key!=value, key in (a,b), key notin (a,b), key, !key); repeatable",
      collect,
      [],
    );
}

/**
 * `--sources`: `NAME=PATH` mappings (`NAME`, `NAMESPACE/NAME` or
 * `Kind/NAMESPACE/NAME`), and flux-local's bare `NAME` / `NAMESPACE/NAME`: a
 * source the run is restricted to, without a path.
 */
export function parseSources(values: readonly string[]): SourceMapping[] {
  return parseMappings(values, "--sources", true);
}

/** `--rset-inputs NAME=FILE`: every entry needs its file. */
export function parseInputMappings(
  values: readonly string[],
): Array<{ selector: string; path: string }> {
  return parseMappings(values, "--rset-inputs", false).map((m) => ({
    selector: m.selector,
    path: m.path ?? "",
  }));
}

function parseMappings(
  values: readonly string[],
  flag: string,
  bareNames: boolean,
): SourceMapping[] {
  const out: SourceMapping[] = [];
  const expected = bareNames
    ? "expected NAME, NAME=PATH or Kind/NAMESPACE/NAME=PATH"
    : "expected NAME=PATH";
  for (const value of values) {
    for (const part of value.split(",")) {
      const item = part.trim();
      // An empty mapping (flux-local accepted `--sources ''`) maps nothing.
      if (item === "" || item === "''" || item === '""') continue;
      const eq = item.indexOf("=");
      // A bare NAME or NAMESPACE/NAME (flux-local): a source the run is restricted to.
      if (eq < 0 && bareNames) {
        out.push({ selector: item });
        continue;
      }
      if (eq <= 0 || eq === item.length - 1) throw new UsageError(`${flag} ${item}: ${expected}`);
      out.push({ selector: item.slice(0, eq), path: item.slice(eq + 1) });
    }
  }
  return out;
}

/** --tool-timeout and --tool-memory bound every external command of the run. */
function applyToolLimits(opts: CommonOptions): void {
  for (const [flag, raw, env] of [
    ["--tool-timeout", opts.toolTimeout, "FLUX_LOCAL_TOOL_TIMEOUT"],
    ["--tool-memory", opts.toolMemory, "FLUX_LOCAL_TOOL_MEMORY_MB"],
  ] as const) {
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0)
      throw new UsageError(`${flag} ${raw}: expected a positive number`);
    overrideLimit(env, value);
  }
}

export function renderRequest(opts: CommonOptions, pathOverride?: string): RenderRequest {
  const concurrency = opts.concurrency ? Number(opts.concurrency) : undefined;
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
    throw new UsageError(`--concurrency ${opts.concurrency}: expected a positive whole number`);
  }
  applyToolLimits(opts);
  // Applied after the run (src/cli/entry.ts); a bad value is a usage error before it.
  if (opts.cacheMaxSize !== undefined) parseSize(opts.cacheMaxSize, "--cache-max-size");
  return {
    path: pathOverride ?? opts.path,
    sources: parseSources(opts.sources),
    rsetInputs: parseInputMappings(opts.rsetInputs ?? []),
    strictSubstitute: opts.strictSubstitute ?? false,
    skipInvalidKustomizationPaths: opts.skipInvalidKustomizationPaths ?? false,
    allowMissingSecrets: opts.allowMissingSecrets ?? false,
    ...(concurrency ? { concurrency } : {}),
    ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
    offline: opts.offline ?? false,
    verifyCache: opts.verifyCache ?? false,
    noCache: opts.cache === false,
    secretFiles: opts.secretFile ?? [],
    ...(opts.registryConfig ? { registryConfig: opts.registryConfig } : {}),
  };
}

export function selectionOf(opts: SelectionOptions, name?: string): Selection {
  let labels: LabelRequirement[];
  try {
    labels = parseLabelSelector(opts.labelSelector);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return {
    ...(name ? { name } : {}),
    namespace: opts.namespace,
    allNamespaces: opts.allNamespaces === true || opts.all === true,
    labels,
  };
}

/**
 * The one object a command names: the run builds only the Kustomizations
 * needed to discover and build it (in its namespace, or any with `-A`).
 */
export function wantedObject(
  kind: WantedObject["kind"],
  name: string,
  opts: SelectionOptions,
): WantedObject {
  const { allNamespaces, namespace } = selectionOf(opts, name);
  return { kind, name, ...(allNamespaces ? {} : { namespace }) };
}

/** flux-local's helm flags (`build hr`, `build all --enable-helm`, `test --enable-helm`). */
export interface HelmOptions {
  kubeVersion?: string;
  apiVersions: string[];
  isUpgrade?: boolean;
  hooks?: boolean;
  showOnly: string[];
  enableDns?: boolean;
  skipInvalidHelmReleasePaths?: boolean;
  skipCrds?: boolean;
}

export function addHelmOptions(cmd: Command): Command {
  return cmd
    .option("--kube-version <version>", "Kubernetes version for Capabilities.KubeVersion")
    .option(
      "-a, --api-versions <versions>",
      "Kubernetes API versions for Capabilities.APIVersions; repeatable or comma separated",
      collect,
      [],
    )
    .option("--is-upgrade", "render as an upgrade (.Release.IsUpgrade, the upgrade CRD policy)")
    .option("--no-hooks", "leave chart hooks out")
    .option(
      "-s, --show-only <template>",
      "only the objects of this chart template (e.g. templates/service.yaml); repeatable",
      collect,
      [],
    )
    .option("--enable-dns", "let chart templates resolve DNS names")
    .option(
      "--skip-invalid-helm-release-paths",
      "skip HelmReleases whose chart path does not exist in their source (default)",
      true,
    )
    .option(
      "--no-skip-invalid-helm-release-paths",
      "fail HelmReleases whose chart path does not exist in their source",
    );
}

/** The render request, with HelmReleases rendered by helm when `--enable-helm` is given. */
export function renderRequestWithHelm(
  opts: CommonOptions & HelmOptions & { enableHelm?: boolean },
  pathOverride?: string,
): RenderRequest {
  const request = renderRequest(opts, pathOverride);
  return opts.enableHelm ? { ...request, helm: helmRenderOptions(opts) } : request;
}

/** The render options for helm from the flags. */
export function helmRenderOptions(opts: HelmOptions): HelmRenderOptions {
  return {
    ...(opts.kubeVersion ? { kubeVersion: opts.kubeVersion } : {}),
    apiVersions: opts.apiVersions
      .flatMap((v) => v.split(","))
      .map((v) => v.trim())
      .filter(Boolean),
    isUpgrade: opts.isUpgrade === true,
    noHooks: opts.hooks === false,
    showOnly: opts.showOnly,
    enableDns: opts.enableDns === true,
    skipCrds: opts.skipCrds === true,
    skipInvalidPaths: opts.skipInvalidHelmReleasePaths !== false,
  };
}

function isFolder(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A positional NAME that cannot be an object's name (it has a "/"): a usage
 * error before anything runs, with "did you mean --path NAME?" when it is a folder.
 */
export function checkNameArgument(command: string, kind: string, name: string | undefined): void {
  if (name === undefined || !name.includes("/")) return;
  const hint = isFolder(name) ? `; it is a folder: did you mean --path ${name}?` : "";
  throw new UsageError(`${command} ${name}: not a ${kind} name (names have no "/")${hint}`);
}

/**
 * After a run where NAME matched nothing: when NAME is also a folder, the user
 * most likely meant `--path NAME` (a usage error); otherwise nothing to add.
 */
export function checkNameNotFolder(command: string, kind: string, name: string | undefined): void {
  if (name === undefined || !isFolder(name)) return;
  throw new UsageError(
    `${command} ${name}: no ${kind} is named ${name}, and ${name} is a folder: did you mean --path ${name}?`,
  );
}
