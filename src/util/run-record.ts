/**
 * The run cache's hooks for the rest of the program (see src/cli/run-cache/):
 * while the command line records a run, code that does something a replay
 * could not reproduce says so here, and the run is not kept. Outside a
 * recorded run (the library, tests, uncached commands) every call is a no-op.
 *
 * No imports: every layer may call this.
 */

export interface RunRecorderHooks {
  /** This run depends on something besides its inputs on disk (the network, a moving reference). */
  notReplayable(reason: string): void;
  /**
   * `fetch` gets a pinned reference's content (a commit, a tag, a digest, an
   * exact chart version) into the source cache: the network it uses does not
   * stop the run being kept, as a later run would be that served it from the
   * cache; a failure does.
   */
  pinnedFetch<T>(what: string, fetch: () => Promise<T>): Promise<T>;
  /** The run wrote `content` to `file` (undefined: removed it), as its output. */
  wroteOutput(file: string, content: string | undefined): void;
  /** A stream that writes to stderr without being recorded (the live progress display). */
  unrecordedStderr(): { write(chunk: string): unknown; isTTY?: boolean; columns?: number };
}

/**
 * Held by the process, not by this module: should two copies of this module
 * ever be loaded (a bundled program beside the unbundled recorder), both see
 * the one recorder — a run that used the network must never be kept.
 */
const KEY = Symbol.for("flux-local.run-recorder");
const holder = globalThis as { [KEY]?: RunRecorderHooks };

/** Installed by the command line while it records a run. */
export function setRunRecorder(recorder: RunRecorderHooks | undefined): void {
  holder[KEY] = recorder;
}

export function runRecorder(): RunRecorderHooks | undefined {
  return holder[KEY];
}

/** Run `fetch`, a pinned reference's fetch into the source cache (see RunRecorderHooks.pinnedFetch). */
export function pinnedFetch<T>(what: string, fetch: () => Promise<T>): Promise<T> {
  const recorder = holder[KEY];
  return recorder ? recorder.pinnedFetch(what, fetch) : fetch();
}

/** Mark the current run (if recorded) as not to be replayed, saying why. */
export function notReplayable(reason: string): void {
  holder[KEY]?.notReplayable(reason);
}
