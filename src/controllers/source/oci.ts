/**
 * OCIRepository fetching: the distribution protocol through RegistryClient,
 * into the source cache (one entry per repository, manifest digest and layer
 * selection). Credentials: the `.dockerconfigjson` Secret that spec.secretRef
 * names when given with --secret-file, else the user's docker config
 * (--registry-config, $DOCKER_CONFIG/config.json, ~/.docker/config.json) and
 * its credential helpers, else anonymous.
 */
import { createHash } from "node:crypto";
import { deadline } from "../../sources/git/http.js";
import { RegistryClient } from "../../sources/oci/client.js";
import {
  defaultDockerConfigPath,
  loadDockerConfig,
  lookupDockerConfig,
  runCredentialHelper,
  type RegistryCredentials,
} from "../../sources/oci/docker-config.js";
import { pullOci, resolveOci } from "../../sources/oci/fetch.js";
import {
  describeOciPlan,
  isOciImmutable,
  layerOperation,
  ociRevision,
  parseOciUrl,
  planOciRef,
  type OciLocation,
} from "../../sources/oci/reference.js";
import type { DockerConfig } from "../../sources/oci/schema.js";
import type { StoreEntry } from "../../store/store.js";
import { logger } from "../../util/log.js";
import { CACHE_NAMESPACES } from "./cache.js";
import { parseDuration } from "./duration.js";
import { cachedFetch, type FetchContext, type Outcome, type SourceFetcher } from "./fetching.js";
import { failureMessage } from "./git.js";
import { DEFAULT_SOURCE_TIMEOUT_MS, OCIRepositorySpec } from "./spec.js";

export class OciFetcher implements SourceFetcher {
  readonly kind = "OCIRepository";
  private userConfig: Promise<DockerConfig | undefined> | undefined;

  constructor(private readonly fc: FetchContext) {}

  /** The user's docker config, read once per run. */
  private dockerConfig(): Promise<DockerConfig | undefined> {
    const explicit = this.fc.run.options.registryConfig;
    this.userConfig ??= loadDockerConfig(
      explicit ?? defaultDockerConfigPath(),
      explicit !== undefined,
    );
    return this.userConfig;
  }

  private async credentials(
    entry: StoreEntry,
    spec: OCIRepositorySpec,
    loc: OciLocation,
  ): Promise<RegistryCredentials | undefined> {
    let config: DockerConfig | undefined;
    if (spec.secretRef)
      config = (await this.fc.vault()).dockerConfig(entry.ref.namespace, spec.secretRef.name);
    const fromSecret = config
      ? lookupDockerConfig(config, loc.registry)
      : { kind: "none" as const };
    const source =
      fromSecret.kind !== "none"
        ? fromSecret
        : lookupDockerConfig((await this.dockerConfig()) ?? {}, loc.registry);
    if (source.kind === "static") return source.credentials;
    if (source.kind === "helper")
      return runCredentialHelper(source.helper, loc.registry, this.fc.run.options.signal);
    return undefined;
  }

  async fetch(entry: StoreEntry, generation: number): Promise<Outcome> {
    const parsed = OCIRepositorySpec.safeParse(entry.object.spec);
    if (!parsed.success) {
      return {
        phase: "Failed",
        reason: "InvalidObject",
        message: `invalid OCIRepository spec: ${parsed.error.issues[0]?.message ?? "bad"}`,
      };
    }
    const spec = parsed.data;
    const loc = parseOciUrl(spec.url);
    if (!loc.ok) return { phase: "Failed", reason: "InvalidObject", message: loc.error };
    const operation = layerOperation(spec.layerSelector);
    if (!operation.ok)
      return { phase: "Failed", reason: "InvalidObject", message: operation.error };
    const timeoutMs = spec.timeout ? parseDuration(spec.timeout) : DEFAULT_SOURCE_TIMEOUT_MS;
    if (timeoutMs === undefined)
      return {
        phase: "Failed",
        reason: "InvalidObject",
        message: `spec.timeout ${spec.timeout} is not a duration`,
      };
    if (spec.provider && spec.provider !== "generic") {
      logger.debug(
        { source: entry.key, provider: spec.provider },
        "cloud provider auth not supported; using docker config",
      );
    }
    if (entry.generation !== generation)
      return { phase: "Pending", reason: "Progressing", message: "superseded" };
    this.fc.run.store.setStatus(entry.ref, {
      phase: "Reconciling",
      reason: "Progressing",
      message: "fetching",
    });
    const { registry, repository } = loc.value;
    const plan = planOciRef(spec.ref);
    const selector = spec.layerSelector ?? {};
    const ignoreSuffix =
      spec.ignore && operation.value === "extract"
        ? `#ignore=${createHash("sha256").update(spec.ignore).digest("hex").slice(0, 16)}`
        : "";
    const started = performance.now();
    try {
      const result = await this.fc.run.manager.queue.add(
        async () => {
          const signal = deadline(timeoutMs, this.fc.run.options.signal);
          let client: RegistryClient | undefined;
          const getClient = async () => {
            client ??= new RegistryClient({
              registry,
              insecure: spec.insecure === true,
              signal,
              timeoutMs,
              ...(await this.credentials(entry, spec, loc.value).then((c) =>
                c ? { credentials: c } : {},
              )),
            });
            return client;
          };
          return cachedFetch(this.fc, {
            namespace: CACHE_NAMESPACES.oci,
            recordKey: `oci ${registry}/${repository} ${describeOciPlan(plan)}`,
            immutable: isOciImmutable(plan),
            ...(plan.kind === "digest" && /^sha256:[0-9a-f]{64}$/.test(plan.digest)
              ? { known: { id: plan.digest, revision: ociRevision(undefined, plan.digest) } }
              : {}),
            describe: `${describeOciPlan(plan)} of oci://${registry}/${repository}`,
            resolve: async () => {
              const r = await resolveOci(await getClient(), loc.value, plan);
              return { id: r.digest, revision: r.revision };
            },
            entryKey: (digest) =>
              `${registry}/${repository}@${digest}|${selector.mediaType ?? "*"}|${operation.value}${ignoreSuffix}`,
            fill: async (dir, record) => {
              await pullOci(await getClient(), loc.value, record.id, dir, {
                selector,
                operation: operation.value,
                ...(spec.ignore ? { specIgnore: spec.ignore } : {}),
              });
            },
          });
        },
        { throwOnTimeout: true },
      );
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
          path: result.path,
          local: false,
          url: spec.url,
        },
      };
    } catch (err) {
      return { phase: "Failed", reason: "ArtifactFailed", message: failureMessage(err, timeoutMs) };
    }
  }
}
