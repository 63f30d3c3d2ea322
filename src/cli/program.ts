/**
 * The command tree of `flux-local` (commander): which commands exist, and for
 * a run, only the module of the command it runs. main.ts loads this after
 * answering `--version`.
 */
import { Command } from "commander";
import { packageVersion } from "../util/package-info.js";
import { addFluxLocalFlags } from "./options.js";
import { setLogLevel } from "./settings.js";
import { loadPart } from "../util/lazy.js";
import { addExamples, configureHelpEverywhere } from "./help.js";

export { CommanderError } from "commander";

type SetExit = (code: number) => void;
type CommandFactory = (setExit: SetExit) => Command;

/**
 * Every command, in the order of the root help, and how to load its module.
 * A run loads only the module of the command it runs (a command's module
 * brings in what its action needs: the render pipeline, diff, diagnostics);
 * the root help, `help` and anything unrecognised load them all.
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<CommandFactory>]> = [
  ["get", () => import("./commands/get.js").then((m) => m.getCommand)],
  ["build", () => import("./commands/build.js").then((m) => m.buildCommand)],
  ["test", () => import("./commands/test.js").then((m) => m.testCommand)],
  ["diagnostics", () => import("./commands/diagnostics.js").then((m) => m.diagnosticsCommand)],
  ["diff", () => import("./commands/diff.js").then((m) => m.diffCommand)],
  ["doctor", () => import("./commands/doctor.js").then((m) => m.doctorCommand)],
  ["hook", () => import("./commands/hook.js").then((m) => m.hookCommand)],
  ["pr-comment", () => import("./commands/pr-comment.js").then((m) => m.prCommentCommand)],
  ["cache", () => import("./commands/cache.js").then((m) => m.cacheCommand)],
];

/**
 * The command argv runs: its first word, after the root's own options
 * (`--log-level LEVEL`); undefined when that is not a command's name.
 */
export function commandNameOf(argv: readonly string[]): string | undefined {
  let i = 0;
  while (i < argv.length) {
    const word = argv[i]!;
    if (word === "--log-level") i += 2;
    else if (word.startsWith("--log-level=")) i += 1;
    else break;
  }
  const word = argv[i];
  return COMMANDS.some(([name]) => name === word) ? word : undefined;
}

/**
 * The command tree, for main and for tests: every command, or only `only`
 * (with the same options and help; its siblings' modules are not loaded).
 */
export async function createProgram(setExit: SetExit, only?: string): Promise<Command> {
  const wanted = COMMANDS.filter(([name]) => only === undefined || name === only);
  const factories = await Promise.all(
    wanted.map(([name, load]) => loadPart(`the ${name} command`, load)),
  );
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
  for (const factory of factories) program.addCommand(factory(setExit));
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
