/**
 * The render cache of kustomize builds: kustomize's output for a build, keyed
 * by every input of that build, so a run in which nothing a build reads has
 * changed takes the output from disk and starts no kustomize at all.
 *
 * The key covers the build's render inputs fingerprint (../inputs.ts: the
 * kustomization document as built, after the Flux spec is applied or the
 * generated one; the content of every file the build reads, transitively
 * through resources, bases, components, patches, generators, replacements and
 * nested kustomizations, a missing file included; the folder's place in its
 * source), the kustomize that builds (its binary's path, size and modification
 * time) and this cache's format. Substitution and the
 * rest of the Flux post-build run on the cached output every time, so their
 * inputs are not part of the key.
 *
 * Where entries live is the caller's business (the run plugs in the on-disk
 * cache, with its atomic fills); here a key in, text out.
 */
import { createHash } from "node:crypto";
import { realpath, stat } from "node:fs/promises";

export interface RenderStore {
  get(key: string): Promise<string | undefined>;
  put(key: string, output: string): Promise<void>;
}

/** Bump when what flux-local asks kustomize for changes meaning. */
const FORMAT = 2;

/** Who builds: a binary's identity without running it. */
/**
 * `identify()` asked once: the binary does not change while a run lasts. A
 * failure is not kept (the next call asks again).
 */
export function identityOnce(identify: () => Promise<string>): () => Promise<string> {
  let known: Promise<string> | undefined;
  return () =>
    (known ??= identify().catch((err: unknown) => {
      known = undefined;
      throw err;
    }));
}

export async function toolIdentity(file: string): Promise<string> {
  const real = await realpath(file);
  const st = await stat(real);
  return `${real}:${st.size}:${Math.trunc(st.mtimeMs)}`;
}

/**
 * The cache key of a build: its render inputs fingerprint (../inputs.ts: the
 * document, every file it reads, ...) with the builder and this cache's format.
 */
export function renderCacheKey(inputsKey: string, builder: string): string {
  return createHash("sha256")
    .update(JSON.stringify({ format: FORMAT, builder, inputs: inputsKey }))
    .digest("hex");
}

/** True when JSON.parse(JSON.stringify(value)) is value: plain data, finite numbers, no -0. */
export function jsonExact(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object": {
      if (value === null) return true;
      if (Array.isArray(value)) return value.every(jsonExact);
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
      return Object.entries(value).every(([k, v]) => k !== "__proto__" && jsonExact(v));
    }
    default:
      return false;
  }
}
