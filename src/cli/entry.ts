/**
 * The `flux-local` executable's entry: a run the run cache holds is replayed
 * without loading the rest of the program (Node built-ins and
 * src/cli/run-cache/{invocation,observe,replay}.ts only); any other run loads
 * the command line, and a `build` or `get` run is recorded for next time.
 * After a run that renders, the cache is kept under its size bound.
 */
import { loadParts, partsLoaded, type Parts } from "./load-parts.js";
import { cacheRootOf, flagValue, invocationOf } from "./run-cache/invocation.js";
import { replay, replayedSynchronously } from "./run-cache/replay.js";

/** Commands whose runs fill the cache (and so are followed by the size bound). */
const FILLING = new Set(["build", "get", "test", "diff"]);

/**
 * Whether the process may exit as soon as runCommandLine returns: a replay
 * that wrote everything synchronously left nothing behind (bin/flux-local.js).
 */
export const mayExitAtOnce = replayedSynchronously;

export async function runCommandLine(argv: readonly string[]): Promise<number> {
  const inv = invocationOf(argv, process.env, process.cwd());
  if (inv) {
    try {
      const code = await replay(inv);
      if (code !== undefined) return code;
    } catch (err) {
      process.stderr.write(
        `flux-local: replaying the cached run failed: ${(err as Error).message} (--no-cache renders without the cache)\n`,
      );
      return 1;
    }
  }
  const parts = await loadParts();
  const recorder = inv ? parts.startRecording(inv) : undefined;
  const workers = FILLING.has(argv[0] ?? "") ? await startWorkers(parts, argv) : undefined;
  let code: number;
  try {
    code = await parts.main(argv);
  } finally {
    await workers?.stopEarlyWorkers();
    if (recorder && inv) {
      const why = await recorder.finish(code! ?? 1);
      if (why !== undefined && inv.verbose)
        process.stderr.write(`flux-local: run cache: this run is not kept (${why})\n`);
    }
  }
  if (FILLING.has(argv[0] ?? "")) {
    await keepCacheBounded(parts, argv);
    partsLoaded();
  }
  return code;
}

/**
 * Start the kustomize workers now, while the rest of the program loads (see
 * startWorkersEarly); not for help, nor with a --concurrency the command
 * will refuse.
 */
async function startWorkers(
  runner: Parts,
  argv: readonly string[],
): Promise<{ stopEarlyWorkers: () => Promise<void> } | undefined> {
  const end = argv.indexOf("--");
  const options = end < 0 ? argv : argv.slice(0, end);
  if (options.includes("--help") || options.includes("-h")) return undefined;
  const text = flagValue(argv, "--concurrency");
  const concurrency = text === undefined ? runner.defaultConcurrency() : Number(text);
  if (!Number.isInteger(concurrency) || concurrency < 1) return undefined;
  await runner.startWorkersEarly(concurrency);
  return runner;
}

async function keepCacheBounded(parts: Parts, argv: readonly string[]): Promise<void> {
  const { DEFAULT_CACHE_MAX_SIZE, parseSize, keepUnder } = parts;
  const text =
    flagValue(argv, "--cache-max-size") ??
    process.env.FLUX_LOCAL_CACHE_MAX_SIZE ??
    DEFAULT_CACHE_MAX_SIZE;
  let limit: number;
  try {
    limit = parseSize(text, "--cache-max-size");
  } catch {
    return; // the command itself reported the bad value
  }
  if (limit === 0) return;
  await keepUnder(cacheRootOf(argv, process.env, process.cwd()), limit);
}
