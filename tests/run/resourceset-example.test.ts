/**
 * testdata/resourceset-example: Flux Operator ResourceSets rendered by the
 * real engine (`flux-operator build resourceset`), end to end through
 * `build all`, `build rset`, `get rset`, `test` and `--tree`: Static providers
 * with the Flatten and Permute strategies, generated Kustomizations
 * reconciled in turn, a provider whose inputs only the cluster has (Skipped,
 * saying how to give them) and `--rset-inputs`.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { inputId } from "../../src/controllers/resourceset/inputs.js";
import { runCli } from "../support/cli.js";
import { exampleFiles, useTempRepos } from "../support/repo.js";
import { fluxOperatorMissing } from "../support/tools.js";

const makeRepo = useTempRepos();

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { replicas?: number };
  data?: Record<string, unknown>;
}

function objects(stream: string): Obj[] {
  return parseAllDocuments(stream).map((d) => d.toJS() as Obj);
}

function lines(stdout: string): string[] {
  return stdout
    .replace(/ \(\d+\.\d+ s\)/g, "")
    .replace(/in \d+\.\d+ s$/m, "in T s")
    .trimEnd()
    .split("\n");
}

const cluster = ["--path", "clusters/prod", "--offline"];

describe.skipIf(fluxOperatorMissing)(
  `ResourceSet repository${fluxOperatorMissing ? ` (skipped: ${fluxOperatorMissing})` : ""}`,
  () => {
    it("renders Static providers (Flatten, Permute) and what they generate; skips cluster-only inputs", async () => {
      const repo = await makeRepo(await exampleFiles("resourceset-example"));

      const test = await runCli(["test", ...cluster], { cwd: repo.root });
      expect(lines(test.stdout)).toEqual([
        "PASSED  Kustomization flux-system/flux-system",
        "PASSED  Kustomization flux-system/team-alpha",
        "PASSED  Kustomization flux-system/team-beta",
        "PASSED  Kustomization flux-system/team-inline",
        "PASSED  ResourceSet flux-system/matrix",
        "SKIPPED ResourceSet flux-system/previews: ResourceSetInputProvider flux-system/pull-requests (type GitHubPullRequest) gets its inputs in the cluster: give the input sets with --rset-inputs flux-system/previews=FILE (a YAML list), or status.exportedInputs in the provider's manifest",
        "PASSED  ResourceSet flux-system/tenants",
        "",
        "6 passed, 0 failed, 1 skipped in T s",
      ]);
      expect(test.exitCode).toBe(0);

      const build = await runCli(["build", "all", ...cluster], { cwd: repo.root });
      expect(build.exitCode).toBe(0);
      const out = objects(build.stdout);
      // Flatten: one Namespace and one Kustomization per input set (inline + two providers);
      // the generated Kustomizations are built, with the input substituted.
      const deployments = out.filter((o) => o.kind === "Deployment");
      expect(deployments.map((d) => [d.metadata.namespace, d.spec?.replicas])).toEqual([
        ["team-alpha", 2],
        ["team-beta", 3],
        ["team-inline", 1],
      ]);
      const namespaces = out.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name);
      expect(namespaces.sort()).toEqual(["team-alpha", "team-beta", "team-inline"]);
      const generated = out.find(
        (o) => o.kind === "Kustomization" && o.metadata.name === "team-beta",
      );
      expect(generated?.metadata).toMatchObject({
        labels: {
          "resourceset.fluxcd.controlplane.io/name": "tenants",
          "resourceset.fluxcd.controlplane.io/namespace": "flux-system",
        },
      });

      // Permute: every combination, each provider's inputs under its name, and inputs.id.
      const matrix = await runCli(["build", "rset", "matrix", ...cluster], { cwd: repo.root });
      expect(matrix.exitCode).toBe(0);
      const [cm] = objects(matrix.stdout);
      expect(cm?.metadata.name).toBe("deploy-prod-eu-west");
      expect(cm?.data).toEqual({
        env: "prod",
        region: "eu-west",
        // The checksum of `environments=0/regions=0`, a string as ConfigMap data must be.
        id: inputId("environments=0/regions=0"),
      });

      const get = await runCli(["get", "rset", "-A", "--status", ...cluster], { cwd: repo.root });
      expect(get.stdout.split("\n")[0]).toMatch(
        /^NAMESPACE\s+NAME\s+INPUTS FROM\s+OBJECTS\s+READY\s+STATUS\s*$/,
      );
      expect(get.stdout).toMatch(/flux-system\s+tenants\s+tenants=true\s+6\s+True/);
      expect(get.stdout).toMatch(/flux-system\s+previews\s+pull-requests\s+-\s+False\s+Skipped/);

      const all = await runCli(["get", "all", ...cluster], { cwd: repo.root });
      expect(all.stdout).toContain("ResourceSets:\nKIND ");
      expect(all.stdout).toMatch(/ResourceSet\s+flux-system\s+previews\s+False\s+Skipped: /);
      expect(all.stdout).toMatch(/ResourceSet\s+flux-system\s+tenants\s+True\s+/);

      const tree = await runCli(["get", "ks", "--tree", ...cluster], { cwd: repo.root });
      expect(tree.stdout).toContain(
        [
          "└── ResourceSet flux-system/tenants  Ready",
          "    ├── Kustomization flux-system/team-alpha  Ready",
          "    ├── Kustomization flux-system/team-beta  Ready",
          "    └── Kustomization flux-system/team-inline  Ready",
        ].join("\n"),
      );
    });

    it("takes cluster-only inputs from --rset-inputs, and names a template that fails", async () => {
      const all = await exampleFiles("resourceset-example");
      const repo = await makeRepo({
        ...all,
        "clusters/prod/matrix.yaml": all["clusters/prod/matrix.yaml"]!.replace(
          "<< inputs.regions.region >>\n",
          "<< inputs.nowhere.region >>\n",
        ),
      });
      const inputs = path.join(repo.root, "prs.yaml");
      await writeFile(inputs, '- id: "42"\n- id: "43"\n');
      const out = await runCli(
        ["test", "rset", ...cluster, "--rset-inputs", `flux-system/previews=${inputs}`],
        { cwd: repo.root },
      );
      expect(out.exitCode).toBe(1);
      const text = lines(out.stdout);
      expect(text[0]).toBe("FAILED  ResourceSet flux-system/matrix");
      expect(text[2]).toMatch(
        /^ {4}BuildFailed: flux-operator build resourceset: .*map has no entry for key "nowhere"/,
      );
      expect(text).toContain("PASSED  ResourceSet flux-system/previews");

      const build = await runCli(
        ["build", "rset", "previews", ...cluster, "--rset-inputs", `previews=${inputs}`],
        { cwd: repo.root },
      );
      expect(objects(build.stdout).map((o) => o.metadata.name)).toEqual([
        "preview-42",
        "preview-43",
      ]);
    });

    it("diff all shows what a ResourceSet change does to the objects it generates", async () => {
      const all = await exampleFiles("resourceset-example");
      const repo = await makeRepo(all);
      await writeFile(
        path.join(repo.root, "clusters/prod/tenants.yaml"),
        all["clusters/prod/tenants.yaml"]!.replace(
          "      kind: Namespace\n      metadata:\n        name: team-<< inputs.team >>\n",
          "      kind: Namespace\n      metadata:\n        name: team-<< inputs.team >>\n        labels:\n          tier: gold\n",
        ),
      );
      const diff = await runCli(["diff", "all", ...cluster, "-o", "changes"], { cwd: repo.root });
      expect(diff.exitCode).toBe(0);
      expect(diff.stdout).toContain(
        [
          "ResourceSet flux-system/tenants clusters/prod",
          "  ~ Namespace flux-system/team-inline",
          "      metadata.labels.tier: + gold",
          "  ~ Namespace flux-system/team-alpha",
          "      metadata.labels.tier: + gold",
          "  ~ Namespace flux-system/team-beta",
          "      metadata.labels.tier: + gold",
        ].join("\n"),
      );
    });
  },
);
