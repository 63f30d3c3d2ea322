/**
 * ResourceSet inputs beyond Static providers, with the real `flux-operator`
 * CLI: providers of other types through `status.exportedInputs` (Flatten and
 * Permute, combined by us exactly as the operator combines them, checked
 * against what the CLI computes for Static providers), no input sets at all
 * (nothing generated, as in the cluster), de-duplication and
 * `fluxcd.controlplane.io/reconcile: disabled` (objects dropped, a disabled
 * ResourceSet suspended), providers another ResourceSet generates, a readyExpr the operator would not parse, and a
 * failure that names the file and line.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { inputId } from "../../src/controllers/resourceset/inputs.js";
import { runCli } from "../support/cli.js";
import { useTempRepos } from "../support/repo.js";
import { fluxOperatorMissing } from "../support/tools.js";

const example = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../testdata/resourceset-example",
);
const makeRepo = useTempRepos();
const cluster = ["--path", "clusters/prod", "--offline"];

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  data?: Record<string, unknown>;
}

function objects(stream: string): Obj[] {
  return parseAllDocuments(stream)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

function lines(stdout: string): string[] {
  return stdout
    .replace(/ \(\d+\.\d+ s\)/g, "")
    .replace(/in \d+\.\d+ s$/m, "in T s")
    .trimEnd()
    .split("\n");
}

async function repoWith(files: Record<string, string>) {
  const bootstrap = await readFile(
    path.join(example, "clusters/prod/flux-system/gotk-sync.yaml"),
    "utf8",
  );
  return makeRepo({ "clusters/prod/flux-system/gotk-sync.yaml": bootstrap, ...files });
}

/** A ResourceSet (Permute) over the providers `envs` and `regions` of `namespace`. */
function matrix(namespace: string): string {
  return `apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: matrix
  namespace: ${namespace}
spec:
  inputStrategy:
    name: Permute
  inputsFrom:
    - kind: ResourceSetInputProvider
      name: envs
    - kind: ResourceSetInputProvider
      name: regions
  resources:
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: cm-<< inputs.envs.env >>-<< inputs.regions.region >>
        namespace: ${namespace}
      data:
        id: << inputs.id | quote >>
        envId: << inputs.envs.id | quote >>
        envProvider: << inputs.envs.provider.kind >>/<< inputs.envs.provider.name >>
`;
}

function provider(namespace: string, name: string, body: string): string {
  return `---
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSetInputProvider
metadata:
  name: ${name}
  namespace: ${namespace}
${body}`;
}

describe.skipIf(fluxOperatorMissing)(
  `ResourceSet inputs with the real flux-operator${fluxOperatorMissing ? ` (skipped: ${fluxOperatorMissing})` : ""}`,
  () => {
    it("combines exported inputs of other providers (Permute) as the CLI combines Static ones", async () => {
      const repo = await repoWith({
        // Static providers: the CLI combines them itself.
        "clusters/prod/static.yaml":
          matrix("static") +
          provider("static", "envs", "spec:\n  type: Static\n  defaultValues:\n    env: prod\n") +
          provider(
            "static",
            "regions",
            "spec:\n  type: Static\n  defaultValues:\n    region: eu\n",
          ),
        // The same first sets exported by providers of other types, plus a
        // second environment: combined by flux-local.
        "clusters/prod/exported.yaml":
          matrix("exported") +
          provider(
            "exported",
            "envs",
            `spec:\n  type: GitHubBranch\n  url: https://github.com/example/app\nstatus:\n  exportedInputs:\n    - env: prod\n      id: "${inputId("envs")}"\n    - env: dev\n      id: "7"\n`,
          ) +
          provider(
            "exported",
            "regions",
            `spec:\n  type: OCIArtifactTag\n  url: oci://ghcr.io/example/app\nstatus:\n  exportedInputs:\n    - region: eu\n      id: "${inputId("regions")}"\n`,
          ),
      });
      const build = await runCli(["build", "all", "--skip-kinds", "Namespace", ...cluster], {
        cwd: repo.root,
      });
      expect(build.stderr).toBe("");
      expect(build.exitCode).toBe(0);
      const cms = objects(build.stdout).filter((o) => o.kind === "ConfigMap");
      const of = (ns: string) =>
        cms
          .filter((o) => o.metadata.namespace === ns)
          .map((o) => ({ name: o.metadata.name, data: o.data }));
      const prodEu = {
        name: "cm-prod-eu",
        data: {
          id: inputId("envs=0/regions=0"),
          envId: inputId("envs"),
          envProvider: "ResourceSetInputProvider/envs",
        },
      };
      expect(of("static")).toEqual([prodEu]);
      expect(of("exported")).toEqual([
        prodEu,
        {
          name: "cm-dev-eu",
          data: {
            id: inputId("envs=1/regions=0"),
            envId: "7",
            envProvider: "ResourceSetInputProvider/envs",
          },
        },
      ]);
    });

    it("renders exported inputs (Flatten) and builds what they generate", async () => {
      const previews = (
        await readFile(path.join(example, "clusters/prod/previews.yaml"), "utf8")
      ).concat('status:\n  exportedInputs:\n    - id: "42"\n      branch: feat/x\n');
      const repo = await repoWith({
        "clusters/prod/previews.yaml": previews,
        "previews/app.yaml": await readFile(path.join(example, "previews/app.yaml"), "utf8"),
      });
      const test = await runCli(["test", ...cluster], { cwd: repo.root });
      expect(lines(test.stdout)).toEqual([
        "PASSED  Kustomization flux-system/flux-system",
        "PASSED  Kustomization flux-system/preview-42",
        "PASSED  ResourceSet flux-system/previews",
        "",
        "3 passed, 0 failed, 0 skipped in T s",
      ]);
      expect(test.exitCode).toBe(0);
      const get = await runCli(["get", "rset", "--status", ...cluster], { cwd: repo.root });
      expect(get.stdout).toMatch(
        /previews\s+pull-requests\s+1\s+True\s+ReconciliationSucceeded: 1 object\(s\) from 1 input set\(s\)/,
      );
    });

    it("selects by label the providers another ResourceSet generates", async () => {
      const repo = await repoWith({
        "clusters/prod/chain.yaml": `apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: a-consumer
  namespace: flux-system
spec:
  inputsFrom:
    - kind: ResourceSetInputProvider
      selector:
        matchLabels:
          team: "true"
  resources:
    - apiVersion: v1
      kind: Namespace
      metadata:
        name: team-<< inputs.team >>
---
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: z-maker
  namespace: flux-system
spec:
  inputs:
    - team: red
    - team: blue
  resources:
    - apiVersion: fluxcd.controlplane.io/v1
      kind: ResourceSetInputProvider
      metadata:
        name: team-<< inputs.team >>
        namespace: flux-system
        labels:
          team: "true"
      spec:
        type: Static
        defaultValues:
          team: << inputs.team >>
`,
      });
      const build = await runCli(["build", "rset", "a-consumer", ...cluster], { cwd: repo.root });
      expect(build.exitCode).toBe(0);
      expect(objects(build.stdout).map((o) => o.metadata.name)).toEqual(["team-blue", "team-red"]);
    });

    it("generates nothing when the providers export no input set, as the operator", async () => {
      const repo = await repoWith({
        "clusters/prod/none.yaml": `apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: none
  namespace: flux-system
spec:
  inputsFrom:
    - kind: ResourceSetInputProvider
      selector:
        matchLabels:
          team: "nobody"
  resources:
    - apiVersion: v1
      kind: Namespace
      metadata:
        name: team-<< inputs.team >>
`,
      });
      const test = await runCli(["test", "rset", ...cluster], { cwd: repo.root });
      expect(lines(test.stdout)).toEqual([
        "PASSED  ResourceSet flux-system/none",
        "",
        "1 passed, 0 failed, 0 skipped in T s",
      ]);
      const build = await runCli(["build", "rset", "none", ...cluster], { cwd: repo.root });
      expect(build.exitCode).toBe(0);
      expect(objects(build.stdout)).toEqual([]);
    });

    it("drops duplicates and disabled objects, suspends a disabled ResourceSet, names a failure's file and line", async () => {
      const repo = await repoWith({
        "clusters/prod/teams.yaml": `apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: teams
  namespace: flux-system
spec:
  inputs:
    - team: a
    - team: a
    - team: b
  resources:
    - apiVersion: v1
      kind: Namespace
      metadata:
        name: team-<< inputs.team >>
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: settings
        namespace: team-<< inputs.team >>
        annotations:
          fluxcd.controlplane.io/reconcile: << if eq inputs.team "b" >>disabled<< else >>enabled<< end >>
---
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: all-disabled
  namespace: flux-system
spec:
  resources:
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: off
        namespace: flux-system
        annotations:
          fluxcd.controlplane.io/reconcile: disabled
---
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: paused
  namespace: flux-system
  annotations:
    fluxcd.controlplane.io/reconcile: disabled
spec:
  resources:
    - apiVersion: v1
      kind: Namespace
      metadata:
        name: paused
---
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: broken
  namespace: flux-system
spec:
  inputs:
    - team: a
  resources:
    - apiVersion: v1
      kind: Namespace
      metadata:
        name: team-<< inputs.nowhere >>
---
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: gated
  namespace: flux-system
spec:
  dependsOn:
    - apiVersion: kustomize.toolkit.fluxcd.io/v1
      kind: Kustomization
      name: flux-system
      ready: true
      readyExpr: "this is ((( not cel"
  resources:
    - apiVersion: v1
      kind: Namespace
      metadata:
        name: gated
`,
      });
      const build = await runCli(["build", "rset", "teams", ...cluster], { cwd: repo.root });
      expect(build.exitCode).toBe(0);
      expect(
        objects(build.stdout).map(
          (o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`,
        ),
      ).toEqual(["Namespace//team-a", "Namespace//team-b", "ConfigMap/team-a/settings"]);

      const test = await runCli(["test", "rset", ...cluster], { cwd: repo.root });
      expect(test.exitCode).toBe(1);
      expect(lines(test.stdout)).toEqual([
        "PASSED  ResourceSet flux-system/all-disabled",
        "FAILED  ResourceSet flux-system/broken",
        "    at clusters/prod/teams.yaml:53, produced by Kustomization/flux-system/flux-system",
        expect.stringMatching(
          /^ {4}BuildFailed: flux-operator build resourceset: .*map has no entry for key "nowhere"$/,
        ),
        "FAILED  ResourceSet flux-system/gated",
        "    at clusters/prod/teams.yaml:67, produced by Kustomization/flux-system/flux-system",
        expect.stringMatching(
          /^ {4}InvalidObject: spec.dependsOn\[0\].readyExpr: invalid CEL: at 1:6: /,
        ),
        "SKIPPED ResourceSet flux-system/paused: fluxcd.controlplane.io/reconcile: disabled",
        "PASSED  ResourceSet flux-system/teams",
        "",
        "2 passed, 2 failed, 1 skipped in T s",
      ]);
    });
  },
);
