/**
 * The program behind the command line's entry (src/cli/entry.ts): what it
 * loads only when the run cache does not answer. One module, so that the
 * bundle can ship it as one file that loads from V8's code cache
 * (src/cli/code-cache.ts, tools/bundle.ts).
 */
export { startRecording } from "./run-cache/record.js";
export {
  defaultConcurrency,
  startWorkersEarly,
  stopEarlyWorkers,
} from "../render/kustomize/runner.js";
export { main } from "./main.js";
export { DEFAULT_CACHE_MAX_SIZE, parseSize, keepUnder } from "./run-cache/bound.js";
