#!/usr/bin/env node
// Entry point of the `flux-local` command: the compiled CLI in dist/, as one
// bundle (dist/bundle/, see tools/bundle.ts) or, without it, as compiled. A
// run the run cache holds is replayed before the rest of the program is loaded.
// CommonJS (bin/package.json), as the bundle's entry is: Node starts a
// CommonJS program ~3.5 ms sooner than an ES module, whose loader it would
// set up first, and a replayed run takes ~20 ms beyond Node's own start-up.
"use strict";
const { existsSync } = require("node:fs");
const path = require("node:path");

const bundled = path.join(__dirname, "..", "dist", "bundle", "entry.cjs");
const entry = existsSync(bundled)
  ? Promise.resolve(require(bundled))
  : import("../dist/cli/entry.js");
void entry.then(async ({ runCommandLine, mayExitAtOnce }) => {
  const code = await runCommandLine(process.argv.slice(2));
  if (mayExitAtOnce()) process.exit(code);
  process.exitCode = code;
});
