/**
 * Registry credentials from docker config files (`~/.docker/config.json`,
 * `--registry-config`, or a `.dockerconfigjson` Secret): `auths` entries
 * (`auth` = base64 `user:password`, or `username`/`password`, or tokens),
 * and credential helpers (`credHelpers`, `credsStore`) run through the one
 * subprocess wrapper. Values are returned, never logged.
 */
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { run } from "../../exec/run.js";
import { FluxLocalError } from "../../util/errors.js";
import { DockerConfig } from "./schema.js";

/** Docker Hub's registry host, as references name it. */
export const DOCKER_HUB = "index.docker.io";

export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (docker `identitytoken`). */
  identityToken?: string;
  /** A bearer token to send as-is (docker `registrytoken`). */
  registryToken?: string;
}

export class DockerConfigError extends FluxLocalError {}

export function parseDockerConfig(text: string, where: string): DockerConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DockerConfigError(`${where} is not valid JSON`);
  }
  const parsed = DockerConfig.safeParse(json);
  if (!parsed.success) throw new DockerConfigError(`${where} is not a docker config file`);
  return parsed.data;
}

/** The docker config the user's tools use: $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
export function defaultDockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG
    ? path.join(env.DOCKER_CONFIG, "config.json")
    : path.join(os.homedir(), ".docker", "config.json");
}

export async function loadDockerConfig(
  file: string,
  required: boolean,
): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new DockerConfigError(
      `cannot read registry config ${file}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
  return parseDockerConfig(text, `registry config ${file}`);
}

/** `https://host/v1/`, `http://host`, `host` all name `host`. */
export function normalizeRegistryKey(key: string): string {
  let k = key.replace(/^[a-z]+:\/\//i, "");
  k = k.split("/")[0] ?? k;
  if (k === "docker.io" || k === "registry-1.docker.io" || k === "index.docker.io")
    return DOCKER_HUB;
  return k.toLowerCase();
}

export type CredentialSource =
  | { kind: "none" }
  | { kind: "static"; credentials: RegistryCredentials }
  | { kind: "helper"; helper: string };

/** What a docker config says about `registry`. */
export function lookupDockerConfig(config: DockerConfig, registry: string): CredentialSource {
  const want = normalizeRegistryKey(registry);
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (normalizeRegistryKey(key) !== want) continue;
    const creds: RegistryCredentials = {};
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon >= 0) {
        creds.username = decoded.slice(0, colon);
        creds.password = decoded.slice(colon + 1);
      }
    }
    if (entry.username) creds.username = entry.username;
    if (entry.password) creds.password = entry.password;
    if (entry.identitytoken) creds.identityToken = entry.identitytoken;
    if (entry.registrytoken) creds.registryToken = entry.registrytoken;
    if (Object.keys(creds).length > 0) return { kind: "static", credentials: creds };
  }
  for (const [key, helper] of Object.entries(config.credHelpers ?? {})) {
    if (normalizeRegistryKey(key) === want) return { kind: "helper", helper };
  }
  if (config.credsStore) return { kind: "helper", helper: config.credsStore };
  return { kind: "none" };
}

/** The credentials a docker config entry gives: as written, or from its helper. */
export function credentialsFrom(
  source: CredentialSource,
  registry: string,
  signal?: AbortSignal,
): Promise<RegistryCredentials | undefined> {
  if (source.kind === "static") return Promise.resolve(source.credentials);
  if (source.kind === "helper") return runCredentialHelper(source.helper, registry, signal);
  return Promise.resolve(undefined);
}

/** Ask `docker-credential-<helper>` for the credentials of `registry`. */
export async function runCredentialHelper(
  helper: string,
  registry: string,
  signal?: AbortSignal,
): Promise<RegistryCredentials | undefined> {
  if (!/^[A-Za-z0-9_.-]+$/.test(helper))
    throw new DockerConfigError(`bad credential helper name ${JSON.stringify(helper)}`);
  let stdout: string;
  try {
    const result = await run(`docker-credential-${helper}`, ["get"], {
      cwd: os.tmpdir(),
      input: registry === DOCKER_HUB ? "https://index.docker.io/v1/" : registry,
      timeoutMs: 30_000,
      ...(signal ? { signal } : {}),
    });
    stdout = result.stdout;
  } catch (err) {
    // A helper that knows nothing of the registry exits non-zero: anonymous.
    const message = (err as Error).message;
    if (/credentials not found/i.test(message)) return undefined;
    throw new DockerConfigError(
      `credential helper docker-credential-${helper} failed for ${registry}`,
      { cause: err },
    );
  }
  let json: { Username?: unknown; Secret?: unknown };
  try {
    json = JSON.parse(stdout) as typeof json;
  } catch {
    throw new DockerConfigError(
      `credential helper docker-credential-${helper} printed no JSON for ${registry}`,
    );
  }
  if (typeof json.Secret !== "string" || json.Secret === "") return undefined;
  if (json.Username === "<token>") return { identityToken: json.Secret };
  return {
    username: typeof json.Username === "string" ? json.Username : "",
    password: json.Secret,
  };
}
