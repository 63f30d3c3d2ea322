// Runs the CLI from source as the published bin does: through the run cache.
import { runCommandLine } from "../../src/cli/entry.js";

process.exitCode = await runCommandLine(process.argv.slice(2));
