/**
 * Running one conformance case: prepare what its `setup` asks for, run our CLI
 * with the recorded argv in the temp checkout, compare stdout with the
 * recording, and classify the result.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { caseName, type ConformanceCase } from "./cases.js";
import { deliberateEntry } from "./deliberate.js";
import {
  applyReplacements,
  compareContains,
  compareOutput,
  comparisonFor,
  expectedText,
  type CompareResult,
  type Comparison,
} from "./normalize.js";
import { isolatedEnv, type Workspace } from "./workspace.js";

export type Status = "PASS" | "FAIL" | "SKIP" | "DELIBERATE";

export interface CaseResult {
  name: string;
  status: Status;
  /** One short line. */
  reason: string;
  /** Lines shown below the table for failures (and for everything with --verbose). */
  details: string[];
  /** The explanation of a deliberate difference. */
  deliberate?: string;
  argv?: string[];
  cwd?: string;
  durationMs?: number;
}

export interface RunContext {
  workspace: Workspace;
  /** The original data directory (expected files are read from here). */
  dataDir: string;
  /** `bin/flux-local.js` of the project under test. */
  cli: string;
  timeoutMs: number;
}

/** flux-local's experimental second pipeline; for us the same commands. */
const NEW_ALIASES: Record<string, string> = { "ks-new": "ks", "hr-new": "hr" };

const STDERR_LINES = 15;

const LABELS: Record<Comparison, string> = {
  documents: "documents as a multiset",
  "yaml-value": "parsed YAML",
  "json-value": "parsed JSON",
  text: "exact text",
};

/** The argv we run: `-new` subcommands become the plain ones. */
export function effectiveArgv(argv: readonly string[]): string[] {
  const out = [...argv];
  const sub = out[1];
  if (sub !== undefined && NEW_ALIASES[sub]) out[1] = NEW_ALIASES[sub];
  return out;
}

function substitute(text: string, values: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [placeholder, value] of values) out = out.split(placeholder).join(value);
  return out;
}

function tail(text: string, lines: number): string[] {
  const all = text.trimEnd().split("\n");
  const kept = all.slice(-lines);
  return all.length > lines ? [`... (${all.length - lines} lines before)`, ...kept] : kept;
}

interface Prepared {
  placeholders: Map<string, string>;
  /** Directories to remove after the case; true for worktrees. */
  cleanup: Array<[string, boolean]>;
}

async function prepare(c: ConformanceCase, ctx: RunContext): Promise<Prepared> {
  const prepared: Prepared = { placeholders: new Map(), cleanup: [] };
  const setup = c.setup;
  if (!setup) return prepared;
  // In the documented order: {WORKTREE_ORIG} is created before {WORKTREE_NEW}.
  for (const [placeholder, description] of Object.entries(setup.placeholders)) {
    if (/worktree/i.test(placeholder) || /git worktree/i.test(description)) {
      const dir = await ctx.workspace.worktree("worktree");
      prepared.cleanup.push([dir, true]);
      prepared.placeholders.set(placeholder, dir);
    } else if (/temporary directory/i.test(description) || /TMP_DIR/.test(placeholder)) {
      const dir = await ctx.workspace.tempDir("tmp");
      prepared.cleanup.push([dir, false]);
      prepared.placeholders.set(placeholder, dir);
    } else {
      throw new Error(`unsupported setup placeholder ${placeholder} (${description})`);
    }
  }
  for (const [file, { base64 }] of Object.entries(setup.files)) {
    const target = substitute(file, prepared.placeholders);
    // Setup files go only into the directories the placeholders created.
    const inside = prepared.cleanup.some(([dir]) => !path.relative(dir, target).startsWith(".."));
    if (!path.isAbsolute(target) || !inside) {
      throw new Error(`setup file ${file} is not inside a directory created for the case`);
    }
    await ctx.workspace.writeFile(target, Buffer.from(base64, "base64"));
  }
  return prepared;
}

async function release(prepared: Prepared, ctx: RunContext): Promise<void> {
  // Worktrees and directories in reverse order of creation.
  for (const [dir, isWorktree] of [...prepared.cleanup].reverse()) {
    await ctx.workspace.release(dir, isWorktree);
  }
}

function classify(
  c: ConformanceCase,
  base: Omit<CaseResult, "status" | "reason" | "details">,
  matched: boolean,
  reason: string,
  details: string[],
): CaseResult {
  const entry = deliberateEntry(c.test, c.id);
  if (matched) {
    return {
      ...base,
      status: "PASS",
      reason: entry ? "matches; its deliberate entry can be removed" : reason,
      details: [],
    };
  }
  if (entry) {
    return { ...base, status: "DELIBERATE", reason, details, deliberate: entry.reason };
  }
  return { ...base, status: "FAIL", reason, details };
}

export async function runCase(c: ConformanceCase, ctx: RunContext): Promise<CaseResult> {
  const name = caseName(c);
  if (c.needs_network) {
    return {
      name,
      status: "SKIP",
      reason: "needs network (renders charts from remote Helm/OCI repositories)",
      details: [],
    };
  }
  const skipEnv = c.setup?.skip_if_env;
  if (skipEnv && process.env[skipEnv]) {
    return { name, status: "SKIP", reason: `${skipEnv} is set`, details: [] };
  }
  if (!c.expected_file && c.expected_contains == null) {
    return { name, status: "FAIL", reason: "case has no expected output", details: [] };
  }

  let prepared: Prepared | undefined;
  try {
    prepared = await prepare(c, ctx);
    const values = prepared.placeholders;
    const argv = effectiveArgv(c.argv.map((a) => substitute(a, values)));
    const cwd = c.setup?.cwd ? substitute(c.setup.cwd, values) : ctx.workspace.repo;
    const env = Object.fromEntries(
      Object.entries(c.env ?? {}).map(([k, v]) => [k, substitute(v, values)]),
    );
    const started = performance.now();
    const proc = await execa(process.execPath, [ctx.cli, ...argv], {
      cwd,
      env: isolatedEnv(env),
      extendEnv: false,
      timeout: ctx.timeoutMs,
      reject: false,
      stripFinalNewline: false,
      stdin: "ignore",
      maxBuffer: 256 * 1024 * 1024,
    });
    const durationMs = Math.round(performance.now() - started);
    const base = { name, argv, cwd, durationMs };
    const stdout = String(proc.stdout ?? "");
    const stderr = String(proc.stderr ?? "");

    const unknown = /error: unknown command '([^']*)'/.exec(stderr);
    if (proc.exitCode === 2 && unknown) {
      const at = argv.indexOf(unknown[1] ?? "");
      const command = at >= 0 ? argv.slice(0, at + 1).join(" ") : (unknown[1] ?? "");
      return {
        ...base,
        status: "SKIP",
        reason: `command not implemented yet (${command})`,
        details: [],
      };
    }
    if (proc.timedOut) {
      return classify(c, base, false, `timed out after ${ctx.timeoutMs / 1000}s`, [
        ...tail(stderr, STDERR_LINES).map((l) => `stderr: ${l}`),
      ]);
    }
    if (proc.exitCode === undefined) {
      return classify(c, base, false, `did not run: ${proc.shortMessage ?? "unknown error"}`, []);
    }

    const replacements = (c.setup?.output_replace ?? []).map(
      ([from, to]) => [substitute(from, values), to] as const,
    );
    const actual = applyReplacements(stdout, replacements);
    let compared: CompareResult;
    let label: string;
    if (c.expected_file) {
      const raw = await readFile(path.join(ctx.dataDir, c.expected_file), "utf8");
      const expected = expectedText(raw, c.expected_kind);
      const comparison = comparisonFor(argv);
      compared = compareOutput(comparison, expected, actual);
      label = LABELS[comparison];
    } else {
      const needle = c.expected_contains ?? "";
      compared = compareContains(needle, actual);
      label = `contains ${JSON.stringify(needle)}`;
    }

    // flux-local exited 0 in every recorded case.
    const exitOk = proc.exitCode === 0;
    const reasons = [
      compared.equal ? "" : compared.summary,
      exitOk ? "" : `exit code ${proc.exitCode} (flux-local exited 0)`,
    ].filter(Boolean);
    const details = [
      ...compared.details,
      ...(stderr.trim() ? tail(stderr, STDERR_LINES).map((l) => `stderr: ${l}`) : []),
    ];
    const matched = compared.equal && exitOk;
    return classify(c, base, matched, matched ? `matches (${label})` : reasons.join("; "), details);
  } catch (err) {
    return {
      name,
      status: "FAIL",
      reason: `runner error: ${err instanceof Error ? err.message : String(err)}`,
      details: err instanceof Error && err.stack ? err.stack.split("\n").slice(1, 6) : [],
    };
  } finally {
    if (prepared) await release(prepared, ctx);
  }
}
