/**
 * Loading the bundled program (CommonJS files, see tools/bundle.ts) through
 * V8's code cache: the entry (bin/flux-local.js loads it so) and the parts.
 * Compiling the program's ~2 MB of JavaScript was a third of a short run's
 * time: with the code V8 compiled in an earlier run, loading it costs a few
 * milliseconds; the entry's 22 KB, ~1 ms of a ~15 ms replay.
 *
 * The cache is a file next to the program, `<file>.<key>.v8`; the key names
 * the program file (size and modification time), the Node version and the
 * architecture, and V8 refuses a cache made by another V8 or with other
 * flags. It is made after a run that loaded the program without it (the
 * first run, or the first with another Node) and written atomically; where
 * the program's folder is read-only there is none, and the program compiles
 * as before. Nothing from a repository reaches it: it holds the code of the
 * program only, in the program's own folder.
 *
 * Node built-ins only: bundled on its own (dist/bundle/code-cache.cjs), the
 * one file bin/flux-local.js and the entry load without a code cache.
 */
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type vm from "node:vm";
import { nodeCrypto, nodeVm } from "../util/builtins.js";
import { shortHash } from "../util/short-hash.js";

interface Loaded {
  script: vm.Script;
  cacheFile: string;
  /** True when V8 took the cache: then nothing is written after the run. */
  cached: boolean;
}

/** The files loaded through their code cache in this process (the entry, the parts). */
const loaded: Loaded[] = [];

/** The code cache's file for `file` as it is now, under this Node. */
export function codeCacheFile(file: string): string {
  const st = statSync(file, { bigint: true });
  const key = shortHash(`${st.size}\0${st.mtimeNs}\0${process.version}\0${process.arch}`);
  return `${file}.${key}.v8`;
}

/**
 * Run the CommonJS file at `url` (its module.exports), compiled from its
 * code cache when there is one V8 accepts. The file may not use import():
 * Node 20 runs it only with --experimental-vm-modules (tools/bundle.ts
 * makes the bundle's into require()).
 */
export function loadCommonJs<T>(url: URL): T {
  const file = fileURLToPath(url);
  const source = readFileSync(file, "utf8");
  const cacheFile = codeCacheFile(file);
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // none yet
  }
  // CommonJS's module wrapper, as Node's own loader writes it.
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
  const script = new (nodeVm().Script)(wrapped, {
    filename: file,
    cachedData,
  });
  loaded.push({
    script,
    cacheFile,
    cached: cachedData !== undefined && !script.cachedDataRejected,
  });
  const module = { exports: {} as T };
  const run = script.runInThisContext() as (
    exports: T,
    require: NodeJS.Require,
    module: { exports: T },
    filename: string,
    dirname: string,
  ) => void;
  run.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  return module.exports;
}

/**
 * After a run: keep the code V8 compiled for the loaded program (the
 * functions the run called included) when it had no cache it could use.
 * Silent when it cannot write: the cache only saves time.
 */
export function keepCodeCache(): void {
  for (const file of loaded) {
    if (file.cached) continue;
    file.cached = true;
    const { script, cacheFile } = file;
    const tmp = `${cacheFile}.tmp-${process.pid}-${nodeCrypto().randomBytes(4).toString("hex")}`;
    try {
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch {
      rmSync(tmp, { force: true });
    }
  }
}
