#!/usr/bin/env node
// Entry point of the `flux-local` command: the compiled CLI in dist/. A run the
// run cache holds is replayed before the rest of the program is loaded.
import { runCommandLine } from "../dist/cli/entry.js";

process.exitCode = await runCommandLine(process.argv.slice(2));
