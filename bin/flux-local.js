#!/usr/bin/env node
// Entry point of the `flux-local` command: the compiled CLI in dist/.
import { main } from "../dist/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
