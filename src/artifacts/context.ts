/**
 * The narrow context every artifact fetcher takes: where the cache is, the
 * credentials the user gave, whether the network may be used, and the run's
 * abort signal. Fetchers never see the object store or the controllers.
 */
import { SourceCache } from "./cache/source-cache.js";
import { SecretVault, UserRegistryConfig } from "./credentials.js";

export interface ArtifactContext {
  cache: SourceCache;
  /** The `--secret-file` Secrets, read once on first use. */
  vault: () => Promise<SecretVault>;
  /** Use only the cache: no network (`--offline`). */
  offline: boolean;
  /** The user's docker config (`--registry-config`, else the default), read once. */
  userRegistry: UserRegistryConfig;
  signal?: AbortSignal;
}

export interface ArtifactSettings {
  cacheDir: string;
  secretFiles: readonly string[];
  offline: boolean;
  /** Hash every cached file on use (`--verify-cache`). */
  verifyCache?: boolean;
  registryConfig?: string;
  signal?: AbortSignal;
}

/** One context per run: the cache and the vault are shared by every fetcher. */
export function createArtifactContext(settings: ArtifactSettings): ArtifactContext {
  let vault: Promise<SecretVault> | undefined;
  return {
    cache: new SourceCache(settings.cacheDir, {
      verify: settings.verifyCache ? "full" : "quick",
    }),
    vault: () => (vault ??= SecretVault.load(settings.secretFiles)),
    offline: settings.offline,
    userRegistry: new UserRegistryConfig(settings),
    ...(settings.signal ? { signal: settings.signal } : {}),
  };
}
