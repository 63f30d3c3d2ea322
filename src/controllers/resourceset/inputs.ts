/**
 * Combining a ResourceSet's input sets, as the Flux Operator does before it
 * renders the templates (its `inputs.Combine`): the ResourceSet's inline
 * `spec.inputs` first, then every selected ResourceSetInputProvider sorted by
 * name, each set tagged with `provider` (apiVersion, kind, name, namespace).
 *
 * - Flatten (the default): the sets one after the other.
 * - Permute: the cartesian product, the first provider varying slowest; each
 *   provider's set under its name normalized for templates, and `id`, the
 *   Adler-32 checksum of `name=index/name=index...`. Providers without sets
 *   are left out unless `includeEmptyProviders` (then there is no set at all);
 *   more than 10,000 combinations is an error.
 *
 * We combine ourselves only when a provider that is not `Static` takes part
 * (its `status.exportedInputs`): the Flux Operator CLI accepts Static
 * providers alone. A Static provider exports `spec.defaultValues` with `id`
 * the checksum of its name (the CLI's choice; the cluster uses its UID).
 */
import ADLER32 from "adler-32";
import { FluxLocalError } from "../../util/errors.js";

export type InputSet = Record<string, unknown>;

export interface InputSource {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  sets: readonly InputSet[];
}

export const PROVIDER_API_VERSION = "fluxcd.controlplane.io/v1";
const MAX_PERMUTATIONS = 10_000;

/** `inputs.ID`: the decimal Adler-32 checksum of the UTF-8 bytes. */
export function inputId(text: string): string {
  return String(ADLER32.buf(Buffer.from(text, "utf8")) >>> 0);
}

/**
 * A provider's name as a template key: lower case, spaces and punctuation
 * become `_`, other characters outside `[a-z0-9]` are dropped, runs of `_`
 * collapse and leading/trailing ones go.
 */
export function normalizeKey(key: string): string {
  let out = "";
  for (const ch of key) {
    const lower = ch.toLowerCase();
    for (const r of lower) {
      if (/[\p{White_Space}\p{P}]/u.test(r)) out += "_";
      else if (/[a-z0-9]/.test(r)) out += r;
    }
  }
  return out
    .split("_")
    .filter((w) => w !== "")
    .join("_");
}

/** The sets of a Static provider, as the CLI computes them. */
export function staticProviderSets(name: string, defaultValues: InputSet | undefined): InputSet[] {
  return [{ ...(defaultValues ?? {}), id: inputId(name) }];
}

function tagged(source: InputSource): InputSet[] {
  return source.sets.map((set) => ({
    ...set,
    provider: {
      apiVersion: source.apiVersion,
      kind: source.kind,
      name: source.name,
      namespace: source.namespace,
    },
  }));
}

/**
 * Combine: `rset` (the ResourceSet's inline inputs) first, then `providers`
 * (sorted here by namespace and name).
 */
export function combineInputs(
  strategy: string,
  includeEmptyProviders: boolean,
  rset: InputSource,
  providers: readonly InputSource[],
): InputSet[] {
  const ordered = [
    rset,
    ...[...providers].sort((a, b) => compare(a.namespace, b.namespace) || compare(a.name, b.name)),
  ];
  if (strategy === "Flatten") return ordered.flatMap(tagged);
  if (strategy !== "Permute") {
    throw new FluxLocalError(`unknown input strategy: '${strategy}'`);
  }
  const scoped: Array<{ key: string; sets: InputSet[] }> = [];
  let expected = 0;
  for (const source of ordered) {
    const sets = tagged(source);
    if (!includeEmptyProviders && sets.length === 0) continue;
    expected = scoped.length === 0 ? sets.length : expected * sets.length;
    if (expected > MAX_PERMUTATIONS) {
      throw new FluxLocalError(
        `failed to get inputs from ${source.kind}/${source.name}: adding provider '${source.name}' with ${sets.length} inputs would exceed the maximum allowed permutations. max: ${MAX_PERMUTATIONS}, got: ${expected}`,
      );
    }
    const key = normalizeKey(source.name);
    if (key === "") {
      throw new FluxLocalError(
        `failed to get inputs from ${source.kind}/${source.name}: normalized provider name is empty: '${source.name}'`,
      );
    }
    scoped.push({ key, sets });
  }
  if (scoped.length === 0 || scoped.some((s) => s.sets.length === 0)) return [];
  const out: InputSet[] = [];
  const walk = (depth: number, picked: number[]): void => {
    if (depth === scoped.length) {
      const perm: InputSet = {};
      const id: string[] = [];
      picked.forEach((index, i) => {
        const { key, sets } = scoped[i]!;
        perm[key] = sets[index];
        id.push(`${key}=${index}`);
      });
      perm.id = inputId(id.join("/"));
      out.push(perm);
      return;
    }
    for (let i = 0; i < scoped[depth]!.sets.length; i++) walk(depth + 1, [...picked, i]);
  };
  walk(0, []);
  return out;
}

/** Go's strings.Compare on UTF-8 bytes (for ASCII names, code unit order). */
function compare(a: string, b: string): number {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return Buffer.compare(x, y);
}
