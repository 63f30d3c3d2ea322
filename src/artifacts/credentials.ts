/**
 * Credentials for fetching sources. Secret values in the repository are never
 * used (they are usually SOPS-encrypted, and every Secret is wiped to
 * placeholders); the user gives the Secrets that sources' `spec.secretRef`
 * name as plain manifests with `--secret-file` (for example the output of
 * `sops -d`). Their values live only in this vault: they are never stored in
 * the object store, printed, or logged.
 */
import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";
import type { HttpAuth } from "./http.js";
import {
  credentialsFrom,
  defaultDockerConfigPath,
  loadDockerConfig,
  lookupDockerConfig,
  parseDockerConfig,
  type DockerConfigError,
  type RegistryCredentials,
} from "./oci/docker-config.js";
import type { DockerConfig } from "./oci/schema.js";
import { UsageError } from "../util/errors.js";

interface VaultSecret {
  namespace?: string;
  name: string;
  type?: string;
  values: Map<string, string>;
  file: string;
}

export class SecretVault {
  private constructor(private readonly secrets: readonly VaultSecret[]) {}

  static empty(): SecretVault {
    return new SecretVault([]);
  }

  /** Read plain Secret manifests; a file that cannot be read or holds no Secret is a usage error. */
  static async load(files: readonly string[]): Promise<SecretVault> {
    const secrets: VaultSecret[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (err) {
        throw new UsageError(
          `--secret-file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? "error"})`,
        );
      }
      const found = parseSecrets(text, file);
      if (found.length === 0) throw new UsageError(`--secret-file ${file}: no Secret in it`);
      secrets.push(...found);
    }
    return new SecretVault(secrets);
  }

  /** Whether a Secret is known; one without a namespace matches every namespace. */
  get(namespace: string, name: string): VaultSecret | undefined {
    return (
      this.secrets.find((s) => s.name === name && s.namespace === namespace) ??
      this.secrets.find((s) => s.name === name && s.namespace === undefined)
    );
  }

  /** Git credentials (`username`/`password` or `bearerToken`) of a Secret. */
  gitAuth(namespace: string, name: string): HttpAuth | undefined {
    const secret = this.get(namespace, name);
    if (!secret) return undefined;
    const v = secret.values;
    if (v.get("bearerToken")) return { bearerToken: v.get("bearerToken") ?? "" };
    if (v.has("username") || v.has("password")) {
      return { username: v.get("username") ?? "", password: v.get("password") ?? "" };
    }
    return undefined;
  }

  /** The docker config of a `kubernetes.io/dockerconfigjson` Secret. */
  dockerConfig(namespace: string, name: string): DockerConfig | undefined {
    const secret = this.get(namespace, name);
    const text = secret?.values.get(".dockerconfigjson") ?? secret?.values.get(".dockercfg");
    if (!secret || text === undefined) return undefined;
    try {
      const config = parseDockerConfig(text, `Secret ${name} (${secret.file})`);
      // `.dockercfg` (legacy) is the `auths` map itself.
      return secret.values.has(".dockerconfigjson")
        ? config
        : { auths: config as DockerConfig["auths"] };
    } catch (err) {
      throw new UsageError((err as DockerConfigError).message);
    }
  }
}

function parseSecrets(text: string, file: string): VaultSecret[] {
  const out: VaultSecret[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new UsageError(`--secret-file ${file}: not valid YAML`);
    let js: unknown;
    try {
      js = doc.toJS();
    } catch {
      throw new UsageError(`--secret-file ${file}: too many YAML aliases or too deep`);
    }
    const obj = js as {
      kind?: unknown;
      metadata?: { name?: unknown; namespace?: unknown };
      type?: unknown;
      data?: Record<string, unknown>;
      stringData?: Record<string, unknown>;
      sops?: unknown;
    } | null;
    if (!obj || obj.kind !== "Secret") continue;
    if (obj.sops)
      throw new UsageError(
        `--secret-file ${file}: the Secret is SOPS-encrypted; decrypt it first (sops -d)`,
      );
    if (typeof obj.metadata?.name !== "string")
      throw new UsageError(`--secret-file ${file}: a Secret has no metadata.name`);
    const values = new Map<string, string>();
    for (const [key, value] of Object.entries(obj.data ?? {})) {
      if (typeof value === "string") values.set(key, Buffer.from(value, "base64").toString("utf8"));
    }
    for (const [key, value] of Object.entries(obj.stringData ?? {})) {
      if (typeof value === "string") values.set(key, value);
    }
    out.push({
      name: obj.metadata.name,
      ...(typeof obj.metadata.namespace === "string" ? { namespace: obj.metadata.namespace } : {}),
      ...(typeof obj.type === "string" ? { type: obj.type } : {}),
      values,
      file,
    });
  }
  return out;
}

/**
 * The user's docker config (`--registry-config`, else $DOCKER_CONFIG/config.json
 * or ~/.docker/config.json), read at most once, for registries that no
 * `spec.secretRef` gives credentials for.
 */
export class UserRegistryConfig {
  private config: Promise<DockerConfig | undefined> | undefined;

  constructor(private readonly options: { registryConfig?: string; signal?: AbortSignal }) {}

  /** Its credentials for `registry` (a credential helper is run), or undefined. */
  async credentials(registry: string): Promise<RegistryCredentials | undefined> {
    const explicit = this.options.registryConfig;
    this.config ??= loadDockerConfig(explicit ?? defaultDockerConfigPath(), explicit !== undefined);
    const found = lookupDockerConfig((await this.config) ?? {}, registry);
    return credentialsFrom(found, registry, this.options.signal);
  }
}
