/**
 * Loads src/cli/parts.ts. The bundle (tools/bundle.ts) replaces this module
 * with one that loads the bundled parts through V8's code cache
 * (src/cli/code-cache.ts); unbundled, it is a plain import.
 */
import type * as PartsModule from "./parts.js";

export type Parts = typeof PartsModule;

export function loadParts(): Promise<Parts> {
  return import("./parts.js");
}

/** After a run that loaded the parts: nothing to keep when unbundled. */
export function partsLoaded(): void {}
