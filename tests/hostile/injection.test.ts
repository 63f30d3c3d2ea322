/**
 * Issue 10, items 9–11: what the repository says is printed as data. No
 * newline + `::command` becomes a GitHub Actions workflow command, no ANSI or
 * OSC sequence reaches the terminal, no password in a URL is shown.
 */
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { startGitServer, TestRepo, type GitServer } from "../support/git-server.js";
import { bootstrap, fluxKustomization } from "../support/repo.js";
import { remoteAppsCluster, settings, useHostile } from "./support.js";

const hostile = useHostile();
const servers: GitServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const ESC = "\u001b";

/** Lines that GitHub Actions would run as workflow commands. */
function commandLines(text: string): string[] {
  return text.split("\n").filter((line) => line.trimStart().startsWith("::"));
}

describe("item 9: newlines and :: in repository strings", () => {
  it("never start a workflow command, in the plain list or the annotations", async () => {
    const repo = await hostile.makeRepo({
      "clusters/prod/flux-system/gotk.yaml": bootstrap(),
      "clusters/prod/app.yaml": fluxKustomization("app", {
        path: "./missing\n::set-output name=pwned::yes\n::warning title=x::100%0Apwned",
      }),
      "clusters/prod/evil.yaml": fluxKustomization("::error::pwned", { path: "./nowhere" }),
      "app/cm.yaml": settings,
    });
    for (const env of [{}, { GITHUB_ACTIONS: "true" }] as Array<Record<string, string>>) {
      const out = await runCli(["build", "all", "--path", "clusters/prod"], {
        cwd: repo.root,
        env,
      });
      expect(out.exitCode).toBe(1);
      const commands = commandLines(out.stderr);
      // Only our own annotations, one line each, with the data percent-encoded.
      for (const line of commands) expect(line).toMatch(/^::error file=[^\n]*::/);
      expect(commands).toHaveLength(env.GITHUB_ACTIONS ? 2 : 0);
      expect(out.stderr).not.toMatch(/^::(set-output|warning)/m);
      // Each line of a message is indented and a leading :: defused.
      expect(out.stderr).toContain("    \\x3a:set-output name=pwned::yes");
      const get = await runCli(["get", "ks", "-A", "--path", "clusters/prod"], {
        cwd: repo.root,
        env,
      });
      expect(commandLines(get.stdout)).toEqual([]);
      expect(get.stdout).toContain("\\x3a:error::pwned");
    }
  });
});

describe("item 10: terminal control sequences in names", () => {
  it("are shown as escapes, never written raw", async () => {
    const name = `app${ESC}]0;pwned\u0007${ESC}[2J\u009b31m`;
    const repo = await hostile.makeRepo({
      "clusters/prod/flux-system/gotk.yaml": bootstrap(),
      "clusters/prod/app.yaml": fluxKustomization(name, { path: "./nowhere" }),
    });
    for (const args of [
      ["build", "all", "--path", "clusters/prod"],
      ["get", "ks", "-A", "--path", "clusters/prod"],
      ["get", "ks", "--tree", "--path", "clusters/prod"],
      ["test", "--path", "clusters/prod"],
      ["diagnostics", "--path", "clusters/prod"],
    ]) {
      const out = await runCli(args, { cwd: repo.root });
      const text = out.stdout + out.stderr;
      for (const control of [ESC, "\u0007", "\u009b"])
        expect(text.includes(control), `${args.join(" ")}: ${JSON.stringify(control)}`).toBe(false);
    }
    const out = await runCli(["get", "ks", "-A", "--path", "clusters/prod"], { cwd: repo.root });
    expect(out.stdout).toContain("app\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m");
  });
});

describe("item 11: passwords in URLs", () => {
  it("are redacted in get sources and in every message; a 401 names where the credentials came from", async () => {
    const server = await startGitServer({ auth: { username: "deploy", password: "right" } });
    servers.push(server);
    const remote = await TestRepo.create(server, "apps");
    await remote.commit({ "app/cm.yaml": settings });
    remote.push();
    await remote.remove();
    const withCreds = server.url.replace("http://", "http://deploy:hunter2-SECRET@");
    const repo = await hostile.makeRepo(
      remoteAppsCluster(
        `${withCreds}/apps.git`,
        "branch: main",
        `
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
  namespace: flux-system
spec:
  url: https://user:chart-SECRET@charts.invalid/stable
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: oci
  namespace: flux-system
spec:
  url: oci://user:oci-SECRET@registry.invalid/manifests
  ref:
    tag: latest
`,
      ),
    );
    const cacheDir = `${repo.root}/.cache`;
    for (const args of [
      ["get", "sources", "--path", "clusters/prod", "--cache-dir", cacheDir],
      ["get", "sources", "-o", "yaml", "--path", "clusters/prod", "--cache-dir", cacheDir],
      ["build", "all", "--path", "clusters/prod", "-v", "--cache-dir", cacheDir],
      ["test", "--path", "clusters/prod", "-v", "--cache-dir", cacheDir],
    ]) {
      const out = await runCli(args, { cwd: repo.root });
      // `build` prints the repository's own objects as written (stdout); every
      // message, log line and listing redacts the userinfo.
      const shown = args[0] === "build" ? out.stderr : out.stdout + out.stderr;
      expect(shown, args.join(" ")).not.toMatch(/SECRET|hunter2/);
    }
    const out = await runCli(
      ["get", "sources", "--path", "clusters/prod", "--cache-dir", cacheDir],
      { cwd: repo.root },
    );
    expect(out.stdout).toContain("http://***@127.0.0.1");
    expect(out.stdout + out.stderr).toMatch(/the credentials from the URL's userinfo were refused/);
  });
});
