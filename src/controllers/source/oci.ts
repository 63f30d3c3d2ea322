/**
 * OCIRepository fetching: the distribution protocol through RegistryClient,
 * into the source cache (one entry per repository, manifest digest and layer
 * selection). Credentials: the `.dockerconfigjson` Secret that spec.secretRef
 * names when given with --secret-file, else the user's docker config
 * (--registry-config, $DOCKER_CONFIG/config.json, ~/.docker/config.json) and
 * its credential helpers, else anonymous.
 */
import { createHash } from "node:crypto";
import { OCIRepositorySpec } from "../../flux/schema.js";
import { deadline } from "../../artifacts/http.js";
import { RegistryClient } from "../../artifacts/oci/client.js";
import {
  credentialsFrom,
  lookupDockerConfig,
  type RegistryCredentials,
} from "../../artifacts/oci/docker-config.js";
import { pullOci, resolveOci } from "../../artifacts/oci/fetch.js";
import {
  describeOciPlan,
  isOciImmutable,
  layerOperation,
  ociRevision,
  parseOciUrl,
  planOciRef,
  type OciLocation,
} from "../../artifacts/oci/reference.js";
import type { DockerConfig } from "../../artifacts/oci/schema.js";
import type { StoreEntry } from "../../store/store.js";
import { logger } from "../../util/log.js";
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

export class OciFetcher implements SourceFetcher {
  readonly kind = "OCIRepository";

  constructor(private readonly ctx: RunContext) {}

  private async credentials(
    entry: StoreEntry,
    spec: OCIRepositorySpec,
    loc: OciLocation,
  ): Promise<RegistryCredentials | undefined> {
    let config: DockerConfig | undefined;
    if (spec.secretRef)
      config = (await this.ctx.artifacts.vault()).dockerConfig(
        entry.ref.namespace,
        spec.secretRef.name,
      );
    const fromSecret = config
      ? lookupDockerConfig(config, loc.registry)
      : { kind: "none" as const };
    if (fromSecret.kind === "none")
      return this.ctx.artifacts.userRegistry.credentials(loc.registry);
    return credentialsFrom(fromSecret, loc.registry, this.ctx.options.signal);
  }

  async fetch(entry: StoreEntry, generation: number): Promise<SourceOutcome> {
    const parsed = OCIRepositorySpec.safeParse(entry.object.spec);
    if (!parsed.success) return invalidSpec("OCIRepository", parsed.error);
    const spec = parsed.data;
    const loc = parseOciUrl(spec.url);
    if (!loc.ok) return { phase: "Failed", reason: "InvalidObject", message: loc.error };
    const operation = layerOperation(spec.layerSelector);
    if (!operation.ok)
      return { phase: "Failed", reason: "InvalidObject", message: operation.error };
    const timeout = fetchTimeout(spec.timeout);
    if ("phase" in timeout) return timeout;
    const { timeoutMs } = timeout;
    if (spec.provider && spec.provider !== "generic") {
      logger.debug(
        { source: entry.key, provider: spec.provider },
        "cloud provider auth not supported; using docker config",
      );
    }
    const superseded = startWork(this.ctx, entry, generation, "fetching");
    if (superseded) return superseded;
    const { registry, repository } = loc.value;
    const plan = planOciRef(spec.ref);
    const selector = spec.layerSelector ?? {};
    const ignoreSuffix =
      spec.ignore && operation.value === "extract"
        ? `#ignore=${createHash("sha256").update(spec.ignore).digest("hex").slice(0, 16)}`
        : "";
    const started = performance.now();
    try {
      const result = await this.ctx.manager.queue.add(
        async () => {
          const signal = deadline(timeoutMs, this.ctx.options.signal);
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
          return cachedFetch(this.ctx.artifacts, {
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
      return fetched(entry, result, started, { path: result.path, url: spec.url });
    } catch (err) {
      return fetchFailed(err, timeoutMs);
    }
  }
}
