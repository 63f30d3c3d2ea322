/**
 * Node built-ins that a replayed run (src/cli/run-cache/replay.ts) needs only
 * sometimes, loaded on first use, synchronously. Loading node:crypto costs
 * ~2.5 ms here and node:tty (with net and stream) ~1.6 ms: a fifth of what a
 * replay that changes nothing costs on top of Node's own start-up, where it
 * hashes nothing and writes to no terminal.
 *
 * Node built-ins only (on the path of a replayed run).
 */
import { createRequire } from "node:module";
import type * as NodeCrypto from "node:crypto";
import type * as NodeTty from "node:tty";
import type * as NodeVm from "node:vm";

const load = createRequire(import.meta.url);
let crypto: typeof NodeCrypto | undefined;
let tty: typeof NodeTty | undefined;
let vm: typeof NodeVm | undefined;

export function nodeCrypto(): typeof NodeCrypto {
  return (crypto ??= load("node:crypto") as typeof NodeCrypto);
}

export function nodeTty(): typeof NodeTty {
  return (tty ??= load("node:tty") as typeof NodeTty);
}

/** node:vm: for loading the program through V8's code cache (src/cli/code-cache.ts), on a miss. */
export function nodeVm(): typeof NodeVm {
  return (vm ??= load("node:vm") as typeof NodeVm);
}
