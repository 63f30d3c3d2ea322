#!/usr/bin/env node
// Entry point of the `flux-local` command: the compiled CLI in dist/, as one
// bundle (dist/bundle/, see tools/bundle.ts) or, without it, as compiled. A
// run the run cache holds is replayed before the rest of the program is loaded.
import { existsSync } from "node:fs";

const bundled = new URL("../dist/bundle/entry.js", import.meta.url);
const { runCommandLine } = await import(
  existsSync(bundled) ? bundled.href : "../dist/cli/entry.js"
);

process.exitCode = await runCommandLine(process.argv.slice(2));
