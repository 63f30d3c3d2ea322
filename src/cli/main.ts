/**
 * The `flux-local` command line. Parses arguments, runs a command, maps errors
 * to exit codes: 0 success, 1 something failed to render, 2 bad usage.
 */
import { Command, CommanderError } from "commander";
import { FluxLocalError, UsageError } from "../util/errors.js";
import { buildCommand } from "./commands/build.js";
import { cacheCommand } from "./commands/cache.js";
import { diagnosticsCommand } from "./commands/diagnostics.js";
import { diffCommand } from "./commands/diff.js";
import { doctorCommand } from "./commands/doctor.js";
import { hookCommand } from "./commands/hook.js";
import { prCommentCommand } from "./commands/pr-comment.js";
import { getCommand } from "./commands/get.js";
import { testCommand } from "./commands/test.js";
import { versionText } from "./commands/version.js";
import { packageVersion } from "../util/package-info.js";
import { addFluxLocalFlags } from "./options.js";
import { EXIT_FAILED, EXIT_USAGE, setLogLevel } from "./run.js";
import { printableLines } from "../util/printable.js";
import { exitOnInterrupt } from "../util/interrupt.js";
import { addExamples, configureHelpEverywhere } from "./help.js";

export async function main(argv: readonly string[]): Promise<number> {
  // `--version` looks the tools up (asynchronously), so it is answered before
  // commander, which prints versions synchronously.
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    process.stdout.write(await versionText());
    return 0;
  }
  exitOnInterrupt();
  let exitCode = 0;
  const program = createProgram((code: number) => {
    exitCode = Math.max(exitCode, code);
  });
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
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

/** The command tree (every command, its options and help), for main and for tests. */
export function createProgram(setExit: (code: number) => void): Command {
  const program = new Command("flux-local")
    .description(
      "Render a Flux CD repository offline: every Kustomization built, every HelmRelease templated.",
    )
    .version(
      packageVersion(),
      "-V, --version",
      "print the version, and the kustomize, helm and kustomize worker found",
    )
    .option(
      "--log-level <level>",
      "log level on stderr: DEBUG, INFO, WARNING, ERROR or CRITICAL (flux-local's flag)",
    )
    .showHelpAfterError()
    .exitOverride()
    .hook("preAction", (root) => {
      const level = root.opts<{ logLevel?: string }>().logLevel;
      if (level) setLogLevel(level);
    });
  program.addCommand(getCommand(setExit));
  program.addCommand(buildCommand(setExit));
  program.addCommand(testCommand(setExit));
  program.addCommand(diagnosticsCommand(setExit));
  program.addCommand(diffCommand(setExit));
  program.addCommand(doctorCommand(setExit));
  program.addCommand(hookCommand(setExit));
  program.addCommand(prCommentCommand(setExit));
  program.addCommand(cacheCommand());
  addExamples(program, [
    {
      does: "render everything a cluster folder applies",
      run: "flux-local build all clusters/prod",
    },
    {
      does: "report every Kustomization and HelmRelease as a test, for CI",
      run: "flux-local test --enable-helm --path clusters/prod --junit report.xml",
    },
    {
      does: "what your uncommitted changes would change in the cluster",
      run: "flux-local diff ks --path clusters/prod",
    },
  ]);
  const visit = (cmd: Command) => {
    cmd.exitOverride();
    for (const sub of cmd.commands) visit(sub);
  };
  visit(program);
  // Every flux-local flag is accepted by the commands that read a repository.
  const leaves = program.commands.flatMap((c) => (c.commands.length > 0 ? c.commands : [c]));
  for (const leaf of leaves) {
    if (leaf.options.some((o) => o.long === "--sources")) addFluxLocalFlags(leaf);
  }
  configureHelpEverywhere(program);
  return program;
}
