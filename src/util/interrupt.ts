/**
 * Clean-ups for an interrupted run. Whoever creates something that must not
 * outlive the process (the run's scratch folder, a half-written output file,
 * a cache fill, a temporary git worktree) registers a synchronous clean-up
 * here and unregisters it once it has cleaned up normally.
 *
 * Only the command line turns SIGINT/SIGTERM into "clean up, then exit
 * 130/143" (`exitOnInterrupt`): a program that embeds the library keeps its
 * own signal handling and cancels with `RenderRequest.signal`.
 */
import { rmSync } from "node:fs";

const cleanups = new Set<() => void>();
let installed = false;

/** Exit codes of a shell for a process ended by these signals. */
const EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Run `cleanup` if the process is interrupted; call the result when it is no longer needed. */
export function onInterrupt(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/** Remove `target` (a file or folder) if the process is interrupted. */
export function removeOnInterrupt(target: string): () => void {
  return onInterrupt(() => rmSync(target, { recursive: true, force: true }));
}

/** Run every registered clean-up (each at most once; failures ignored). */
export function runInterruptCleanups(): void {
  const pending = [...cleanups];
  cleanups.clear();
  for (const cleanup of pending.reverse()) {
    try {
      cleanup();
    } catch {
      // best effort: the next run sweeps what is left
    }
  }
}

/**
 * On SIGINT or SIGTERM: run the clean-ups and exit 130 or 143, as a shell
 * reports a process ended by that signal (and 141 when stdout's reader has
 * gone, as for SIGPIPE). Child processes started through
 * execa are killed on exit by execa itself.
 */
export function exitOnInterrupt(): void {
  if (installed) return;
  installed = true;
  for (const signal of Object.keys(EXIT_CODES) as NodeJS.Signals[]) {
    process.on(signal, () => {
      runInterruptCleanups();
      process.exit(EXIT_CODES[signal]);
    });
  }
  // stdout closed by its reader (`flux-local ... | head`): end as a process
  // killed by SIGPIPE does (exit 141), quietly, instead of an unhandled error.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    runInterruptCleanups();
    process.exit(141);
  });
}
