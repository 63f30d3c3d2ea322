/**
 * `--help` for every command: each flag read once, and examples.
 *
 * Commander appends "(default: …)" to every option that has a default value,
 * which doubled what our descriptions already say ("leave Secrets out
 * (default) (default: true)") and printed noise for switches and lists
 * ("(default: false)", "(default: [])"). Our descriptions say "(default)" on
 * the switch that is on by default; commander's note is kept only for options
 * that take a value, when the description does not already state the default.
 */
import type { Command, Help, Option } from "commander";

function optionDescription(option: Option): string {
  const extra: string[] = [];
  if (option.argChoices) extra.push(`choices: ${option.argChoices.join(", ")}`);
  const takesValue = option.required || option.optional;
  const value: unknown = option.defaultValue;
  const emptyList = Array.isArray(value) && value.length === 0;
  if (takesValue && value !== undefined && !emptyList && !/\(default\b/.test(option.description)) {
    extra.push(`default: ${option.defaultValueDescription ?? JSON.stringify(value)}`);
  }
  if (extra.length === 0) return option.description;
  return `${option.description} (${extra.join("; ")})`;
}

/** The help settings of `program` and of every command below it. */
export function configureHelpEverywhere(program: Command): void {
  const settings: Partial<Help> = { optionDescription };
  const visit = (cmd: Command) => {
    cmd.configureHelp(settings);
    for (const sub of cmd.commands) visit(sub);
  };
  visit(program);
}

/** One example: the command line (starting with `flux-local`) and what it does. */
export interface Example {
  run: string;
  does: string;
}

/** The "Examples:" section of a command's help, and any notes before it. */
export function addExamples(cmd: Command, examples: readonly Example[], notes?: string): Command {
  const lines = ["", ...(notes ? [notes, ""] : []), "Examples:"];
  for (const e of examples) lines.push(`  # ${e.does}`, `  ${e.run}`);
  return cmd.addHelpText("after", lines.join("\n"));
}

/** The command lines of a help text's "Examples:" section (environment assignments included). */
export function examplesIn(helpText: string): string[] {
  const start = helpText.indexOf("\nExamples:\n");
  if (start < 0) return [];
  return helpText
    .slice(start)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^([A-Z_]+=\S+ )*flux-local( |$)/.test(l));
}
