#!/usr/bin/env node
// Entry point of the `flux-local` command: the compiled CLI in dist/, as one
// bundle (dist/bundle/, see tools/bundle.ts) or, without it, as compiled. A
// run the run cache holds is replayed before the rest of the program is loaded.
// CommonJS (bin/package.json), as the bundle is: Node starts a CommonJS
// program ~3.5 ms sooner than an ES module, whose loader it would set up
// first, and a replayed run takes ~15 ms beyond Node's own start-up. The
// bundle's entry loads through V8's code cache (src/cli/code-cache.ts).
"use strict";
const { existsSync } = require("node:fs");
const path = require("node:path");
const { pathToFileURL } = require("node:url");

const bundle = path.join(__dirname, "..", "dist", "bundle");
const bundled = ["code-cache.cjs", "entry.cjs"].every((name) =>
  existsSync(path.join(bundle, name)),
);
const entry = bundled
  ? Promise.resolve(
      require(path.join(bundle, "code-cache.cjs")).loadCommonJs(
        pathToFileURL(path.join(bundle, "entry.cjs")),
      ),
    )
  : import("../dist/cli/entry.js");
void entry.then(async ({ runCommandLine, mayExitAtOnce }) => {
  const code = await runCommandLine(process.argv.slice(2));
  if (mayExitAtOnce()) process.exit(code);
  process.exitCode = code;
});
