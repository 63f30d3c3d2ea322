/**
 * `flux-local hook install|uninstall|print|pre-push`: a git pre-push check
 * that runs `flux-local test` on the clusters a push changes and stops the
 * push when one fails. `install` writes a marked block into the pre-push hook
 * (core.hooksPath respected), never over a hook it did not write unless
 * `--force` (which adds the block and keeps the hook); `uninstall` removes
 * only that block; `print` shows the lines for pre-commit and lefthook.
 */
import { chmod, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { Command, Option } from "commander";
import { quote } from "shell-quote";
import { errorMessage, FluxLocalError } from "../../util/errors.js";
import { addExamples } from "../help.js";
import { checkArgs, hookBlock, installBlock, removeBlock } from "../hook/block.js";
import {
  affectedClusters,
  changedFiles,
  detectClusters,
  gitRoot,
  hooksDir,
} from "../hook/changes.js";
import { EXIT_FAILED, EXIT_OK } from "../settings.js";

const collect = (value: string, previous: string[]) => [...previous, value];

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new FluxLocalError(`${file}: cannot read: ${errorMessage(err)}`, { cause: err });
  }
}

interface CheckOptions {
  path: string[];
  enableHelm?: boolean;
}

/** The arguments of the check, with the cluster folders found when none were given. */
async function checkArgsFor(root: string, opts: CheckOptions): Promise<string[]> {
  const paths = opts.path.length > 0 ? opts.path : await detectClusters(root);
  return checkArgs(paths, opts.enableHelm ? ["--enable-helm"] : []);
}

function relative(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") ? rel : file;
}

function addCheckOptions(cmd: Command): Command {
  return cmd
    .option(
      "--path <dir>",
      "a cluster folder to test; repeatable (default: each folder holding a flux-system folder)",
      collect,
      [],
    )
    .option("--enable-helm", "render HelmReleases with helm too");
}

export function hookCommand(setExit: (code: number) => void): Command {
  const hook = new Command("hook").description(
    "a git pre-push check: `flux-local test` on the clusters a push changes",
  );
  addExamples(hook, [
    { does: "check every push from now on", run: "flux-local hook install" },
    { does: "the lines for pre-commit or lefthook instead", run: "flux-local hook print" },
    { does: "stop checking pushes", run: "flux-local hook uninstall" },
  ]);

  const install = addCheckOptions(
    new Command("install")
      .description("write the check into the repository's pre-push hook (core.hooksPath respected)")
      .option(
        "--force",
        "add the check to a pre-push hook flux-local did not write (kept as it is)",
      ),
  );
  addExamples(install, [
    {
      does: "test the clusters found (folders holding flux-system)",
      run: "flux-local hook install",
    },
    {
      does: "two clusters, HelmReleases rendered too",
      run: "flux-local hook install --path clusters/prod --path clusters/staging --enable-helm",
    },
    {
      does: "add the check to a pre-push hook you already have",
      run: "flux-local hook install --force",
    },
  ]);
  install.action(async (opts: CheckOptions & { force?: boolean }) => {
    const root = await gitRoot(process.cwd());
    const dir = await hooksDir(root);
    const file = path.join(dir, "pre-push");
    const args = await checkArgsFor(root, opts);
    const outcome = installBlock(await readIfExists(file), hookBlock(args), opts.force === true);
    if (outcome.action === "refused") {
      process.stderr.write(`flux-local: ${relative(file)} not changed: ${outcome.reason}\n`);
      setExit(EXIT_FAILED);
      return;
    }
    await mkdir(dir, { recursive: true });
    await writeFile(file, outcome.content);
    await chmod(file, 0o755);
    const what = { created: "written", updated: "updated", appended: "added to" }[outcome.action];
    process.stdout.write(
      `${relative(file)} ${what}: every push runs flux-local ${args.join(" ")}\n`,
    );
    setExit(EXIT_OK);
  });
  hook.addCommand(install);

  const uninstall = new Command("uninstall").description(
    "remove the check from the pre-push hook (only the lines flux-local wrote)",
  );
  addExamples(uninstall, [
    { does: "stop checking pushes", run: "flux-local hook uninstall" },
    { does: "the same, from anywhere inside the repository", run: "flux-local hook uninstall -q" },
  ]);
  uninstall.option("-q, --quiet", "say nothing when there was no check to remove");
  uninstall.action(async (opts: { quiet?: boolean }) => {
    const root = await gitRoot(process.cwd());
    const file = path.join(await hooksDir(root), "pre-push");
    const content = await readIfExists(file);
    const result = content === undefined ? { removed: false as const } : removeBlock(content);
    if (!result.removed) {
      if (!opts.quiet) process.stdout.write(`no flux-local check in ${relative(file)}\n`);
      setExit(EXIT_OK);
      return;
    }
    if (result.content === undefined) {
      await rm(file, { force: true });
      process.stdout.write(`${relative(file)} removed (it held only the flux-local check)\n`);
    } else {
      await writeFile(file, result.content);
      process.stdout.write(`flux-local check removed from ${relative(file)}; the rest is kept\n`);
    }
    setExit(EXIT_OK);
  });
  hook.addCommand(uninstall);

  const print = addCheckOptions(
    new Command("print")
      .description("print the check for a hook manager (pre-commit, lefthook) or a plain git hook")
      .addOption(
        new Option("--for <manager>", "only this one").choices(["pre-commit", "lefthook", "git"]),
      ),
  );
  addExamples(print, [
    { does: "the lines for pre-commit, lefthook and a plain hook", run: "flux-local hook print" },
    {
      does: "a .pre-commit-config.yaml entry for one cluster",
      run: "flux-local hook print --for pre-commit --path clusters/prod",
    },
  ]);
  print.action(async (opts: CheckOptions & { for?: string }) => {
    const root = await gitRoot(process.cwd());
    const args = await checkArgsFor(root, opts);
    const snippets = hookSnippets(args);
    const wanted = opts.for ? [opts.for] : Object.keys(snippets);
    process.stdout.write(wanted.map((k) => snippets[k]).join("\n"));
    setExit(EXIT_OK);
  });
  hook.addCommand(print);

  const prePush = addCheckOptions(
    new Command("pre-push")
      .description(
        "what the hook runs: `flux-local test` on each cluster the pushed commits change (git's refs on standard input)",
      )
      .argument("[remote]", "the remote being pushed to (git passes it)")
      .argument("[url]", "its URL (git passes it)"),
  );
  addExamples(prePush, [
    {
      does: "run the check by hand, against the upstream branch",
      run: "flux-local hook pre-push --path clusters/prod",
    },
    {
      does: "what the hook does for one cluster, HelmReleases too",
      run: "flux-local hook pre-push --path clusters/prod --enable-helm",
    },
  ]);
  prePush.action(
    async (_remote: string | undefined, _url: string | undefined, opts: CheckOptions) => {
      const root = await gitRoot(process.cwd());
      const pushInput = process.stdin.isTTY ? undefined : await readStdin();
      const { files, against } = await changedFiles(root, {
        ...(pushInput ? { pushInput } : {}),
        env: process.env,
      });
      const clusters = opts.path.length > 0 ? opts.path : await detectClusters(root);
      const affected = affectedClusters(files, clusters);
      if (affected.length === 0) {
        process.stderr.write(
          `flux-local: the push changes no cluster (${files.length} file${files.length === 1 ? "" : "s"} changed against ${against})\n`,
        );
        setExit(EXIT_OK);
        return;
      }
      // The CLI in this process: `test` with its usual report for each cluster.
      const { main } = await import("../main.js");
      let code = EXIT_OK;
      for (const cluster of affected) {
        process.stderr.write(`flux-local: testing ${cluster} before the push\n`);
        const argv = ["test", "--path", path.join(root, cluster)];
        if (opts.enableHelm) argv.push("--enable-helm");
        code = Math.max(code, await main(argv));
      }
      if (code !== EXIT_OK) {
        process.stderr.write(
          "flux-local: push stopped: a cluster does not render (see above); `git push --no-verify` skips the check\n",
        );
      }
      setExit(code);
    },
  );
  hook.addCommand(prePush);
  return hook;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The check for each hook manager, as text to paste. */
export function hookSnippets(args: readonly string[]): Record<string, string> {
  const command = `npx --no-install flux-local ${quote([...args])}`;
  return {
    "pre-commit": [
      "# .pre-commit-config.yaml (install with: pre-commit install --hook-type pre-push)",
      "repos:",
      "  - repo: local",
      "    hooks:",
      "      - id: flux-local-test",
      "        name: flux-local test",
      `        entry: ${command}`,
      "        language: system",
      "        pass_filenames: false",
      "        always_run: true",
      "        stages: [pre-push]",
      "",
    ].join("\n"),
    lefthook: [
      "# lefthook.yml",
      "pre-push:",
      "  commands:",
      "    flux-local:",
      "      use_stdin: true",
      `      run: ${command}`,
      "",
    ].join("\n"),
    git: ["# .git/hooks/pre-push (or run: flux-local hook install)", hookBlockText(args), ""].join(
      "\n",
    ),
  };
}

function hookBlockText(args: readonly string[]): string {
  return `#!/bin/sh\n${hookBlock(args)}`;
}
