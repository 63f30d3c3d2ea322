/**
 * The bounds that keep one hostile input from taking the machine: bytes per
 * file we read, YAML alias expansion, nesting, and each external process's
 * time and memory. Defaults are generous for real repositories; each can be
 * changed by environment variable (and the time and memory by flag).
 */

const overrides = new Map<string, number>();

/** Set a bound for this process (the CLI's --tool-timeout and --tool-memory). */
export function overrideLimit(envName: string, value: number): void {
  overrides.set(envName, value);
}

function fromEnv(name: string, fallback: number): number {
  const set = overrides.get(name);
  if (set !== undefined) return set;
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

export const limits = {
  /** Largest YAML file read from a repository (FLUX_LOCAL_MAX_FILE_BYTES). */
  get maxFileBytes(): number {
    return fromEnv("FLUX_LOCAL_MAX_FILE_BYTES", 32 * 1024 * 1024);
  },
  /** Aliases expanded per YAML document (FLUX_LOCAL_MAX_YAML_ALIASES). */
  get maxAliasCount(): number {
    return fromEnv("FLUX_LOCAL_MAX_YAML_ALIASES", 1000);
  },
  /** Seconds an external command (kustomize, helm) may run (FLUX_LOCAL_TOOL_TIMEOUT, --tool-timeout). */
  get toolTimeoutSeconds(): number {
    return fromEnv("FLUX_LOCAL_TOOL_TIMEOUT", 300);
  },
  /** Address space of an external command, in MiB (FLUX_LOCAL_TOOL_MEMORY_MB, --tool-memory). */
  get toolMemoryMiB(): number {
    return fromEnv("FLUX_LOCAL_TOOL_MEMORY_MB", 2048);
  },
};

/** How to raise a limit, for messages. */
export const RAISE = {
  maxFileBytes: "raise it with FLUX_LOCAL_MAX_FILE_BYTES",
  maxAliasCount: "raise it with FLUX_LOCAL_MAX_YAML_ALIASES",
  toolTimeout: "raise it with --tool-timeout SECONDS or FLUX_LOCAL_TOOL_TIMEOUT",
  toolMemory: "raise it with --tool-memory MIB or FLUX_LOCAL_TOOL_MEMORY_MB",
} as const;
