/**
 * Every command's `--help`: two or three examples that name the command and
 * only flags it has, each flag's default said once, and the positional forms
 * explained where they differ (`build ks [NAME]` vs `build all [PATH]`).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command, Option } from "commander";
import { parse as parseShell } from "shell-quote";
import { describe, expect, it } from "vitest";
import { commandNameOf, createProgram } from "../../src/cli/program.js";
import { examplesIn } from "../../src/cli/help.js";
import { runCli } from "../support/cli.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Every visible command, with its path from the root (`["build", "ks"]`). */
function visibleCommands(root: Command): Array<{ names: string[]; cmd: Command }> {
  const out: Array<{ names: string[]; cmd: Command }> = [];
  const visit = (cmd: Command, names: string[]) => {
    out.push({ names, cmd });
    for (const sub of cmd.commands) {
      // Hidden aliases (ks-new, kustomizations, ...) share their command's help.
      if ((sub as unknown as { _hidden?: boolean })._hidden) continue;
      visit(sub, [...names, sub.name()]);
    }
  };
  visit(root, []);
  return out;
}

function helpOf(cmd: Command): string {
  let text = "";
  cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

function findOption(cmd: Command, flag: string): Option | undefined {
  const name = flag.split("=")[0];
  return cmd.options.find((o) => o.long === name || o.short === name);
}

/** The command an example runs, and its positional arguments; fails on an unknown flag. */
function resolveExample(
  root: Command,
  line: string,
): { cmd: Command; names: string[]; positionals: string[] } {
  const tokens = parseShell(line).filter((t): t is string => typeof t === "string");
  while (tokens[0] && /^[A-Z_]+=/.test(tokens[0])) tokens.shift();
  expect(tokens.shift(), line).toBe("flux-local");
  let cmd = root;
  const names: string[] = [];
  while (tokens[0]) {
    const word = tokens[0];
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    cmd = sub;
    names.push(sub.name());
    tokens.shift();
  }
  const positionals: string[] = [];
  while (tokens.length > 0) {
    const token = tokens.shift() as string;
    if (!token.startsWith("-")) {
      positionals.push(token);
      continue;
    }
    const option = findOption(cmd, token);
    expect(option, `${line}: ${token} is not an option of ${names.join(" ")}`).toBeDefined();
    if ((option?.required || option?.optional) && !token.includes("=")) tokens.shift();
  }
  return { cmd, names, positionals };
}

const program = await createProgram(() => undefined);

describe("--help", () => {
  const commands = visibleCommands(program);

  it("covers the commands users run", () => {
    const listed = commands.map((c) => c.names.join(" "));
    for (const name of ["", "get ks", "get hr", "build ks", "build all", "test", "diff ks"]) {
      expect(listed).toContain(name);
    }
  });

  for (const { names, cmd } of commands) {
    const label = ["flux-local", ...names].join(" ");

    it(`${label}: two or three examples, each a real command line of it`, async () => {
      const examples = examplesIn(helpOf(cmd));
      expect(examples.length, label).toBeGreaterThanOrEqual(2);
      expect(examples.length, label).toBeLessThanOrEqual(3);
      const root = await createProgram(() => undefined);
      for (const example of examples) {
        const resolved = resolveExample(root, example);
        // A group's examples run its subcommands; a leaf's run itself.
        expect(resolved.names.slice(0, names.length), example).toEqual(names);
        expect(resolved.cmd.commands.length, `${example}: names a whole command`).toBe(0);
        expect(
          resolved.positionals.length,
          `${example}: more positional words than ${resolved.names.join(" ")} takes`,
        ).toBeLessThanOrEqual(resolved.cmd.registeredArguments.length);
      }
    });

    it(`${label}: every flag's default is said once`, () => {
      const help = cmd.createHelp();
      for (const option of help.visibleOptions(cmd)) {
        const text = help.optionDescription(option);
        expect((text.match(/\(default/g) ?? []).length, `${option.flags}: ${text}`).toBeLessThan(2);
        expect(text, option.flags).not.toMatch(/default: (\[\]|true|false)\b/);
      }
      const flat = helpOf(cmd).replace(/\s+/g, " ");
      expect(flat).not.toContain("(default) (default");
    });
  }

  it("a run loading only its command's module has the same help as the whole program", async () => {
    for (const { names, cmd } of commands) {
      if (names.length === 0) continue;
      const alone = visibleCommands(await createProgram(() => undefined, names[0])).find(
        (c) => c.names.join(" ") === names.join(" "),
      );
      expect(alone && helpOf(alone.cmd), names.join(" ")).toBe(helpOf(cmd));
    }
  });

  it("a run's command is its first word after the root's --log-level", () => {
    expect(commandNameOf(["build", "ks", "--path", "x"])).toBe("build");
    expect(commandNameOf(["--log-level", "DEBUG", "get", "ks"])).toBe("get");
    expect(commandNameOf(["--log-level=info", "diff", "ks"])).toBe("diff");
    // Help, unknown words and options load every command (for the lists and suggestions).
    for (const argv of [[], ["--help"], ["help", "build"], ["biuld", "ks"], ["-h", "build"]])
      expect(commandNameOf(argv), argv.join(" ")).toBeUndefined();
  });

  it("build explains NAME (ks, hr) against PATH (all)", () => {
    for (const { names, cmd } of commands) {
      if (names[0] !== "build" || names.length !== 2) continue;
      const flat = helpOf(cmd).replace(/\s+/g, " ");
      expect(flat).toContain(
        "`build ks [NAME]`, `build hr [NAME]` and `build rset [NAME]` take the name of one object",
      );
      expect(flat).toContain("`build all [PATH]` takes the cluster folder itself");
    }
  });

  it("prints through the real command line, exit 0", async () => {
    const { stdout, exitCode } = await runCli(["build", "all", "--help"], { cwd: projectRoot });
    expect(exitCode).toBe(0);
    expect(stdout).toContain("Examples:\n  # everything a cluster folder applies\n");
    expect(stdout).toContain("  flux-local build all clusters/prod\n");
    expect(stdout.replace(/\s+/g, " ")).toContain(
      "--skip-secrets leave Secrets out (default) --no",
    );
  });
});
