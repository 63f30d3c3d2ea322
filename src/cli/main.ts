/**
 * The `flux-local` command line. Parses arguments, runs a command, maps errors
 * to exit codes: 0 success, 1 something failed to render, 2 bad usage.
 * `--version` is answered without loading commander and the command tree.
 */
import { FluxLocalError, UsageError } from "../util/errors.js";
import { EXIT_FAILED, EXIT_USAGE } from "./settings.js";
import { printableLines } from "../util/printable.js";
import { exitOnInterrupt } from "../util/interrupt.js";
import { loadPart } from "../util/lazy.js";
import type * as Program from "./program.js";

export async function main(argv: readonly string[]): Promise<number> {
  // `--version` looks the tools up (asynchronously), so it is answered before
  // commander, which prints versions synchronously.
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    const { versionText } = await loadPart("--version", () => import("./commands/version.js"));
    process.stdout.write(await versionText());
    return 0;
  }
  exitOnInterrupt();
  let exitCode = 0;
  let cli: typeof Program | undefined;
  try {
    cli = await loadPart("the command line", () => import("./program.js"));
    const program = await cli.createProgram((code: number) => {
      exitCode = Math.max(exitCode, code);
    }, cli.commandNameOf(argv));
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (cli && err instanceof cli.CommanderError) {
      if (
        err.code === "commander.helpDisplayed" ||
        err.code === "commander.version" ||
        err.code === "commander.help"
      )
        return 0;
      return EXIT_USAGE;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`flux-local: ${printableLines(err.message, "  ")}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof FluxLocalError) {
      process.stderr.write(`flux-local: ${printableLines(err.message, "  ")}\n`);
      return EXIT_FAILED;
    }
    process.stderr.write(
      `flux-local: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return EXIT_FAILED;
  }
  return exitCode;
}
