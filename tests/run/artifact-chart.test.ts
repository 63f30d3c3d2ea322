/**
 * A Helm chart composed by an ArtifactGenerator (the chart from one folder,
 * production values merged onto its values.yaml with the Merge strategy) and
 * rendered by a HelmRelease whose chartRef is the ExternalArtifact.
 */
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { bootstrap, useTempRepos } from "../support/repo.js";

const makeRepo = useTempRepos();

describe("HelmRelease on an ExternalArtifact chart", () => {
  it("renders the composed chart with the merged values", async () => {
    const repo = await makeRepo({
      "clusters/prod/flux-system/gotk.yaml": bootstrap(),
      "clusters/prod/app.yaml": `---
apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: demo
  namespace: flux-system
spec:
  sources:
    - alias: repo
      kind: GitRepository
      name: flux-system
  artifacts:
    - name: demo-chart
      copy:
        - from: "@repo/charts/demo/"
          to: "@artifact/"
        - from: "@repo/values/prod.yaml"
          to: "@artifact/demo/values.yaml"
          strategy: Merge
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: demo
  namespace: flux-system
spec:
  chartRef:
    kind: ExternalArtifact
    name: demo-chart
`,
      "charts/demo/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.0.0\n",
      "charts/demo/values.yaml": "greeting: hello\nimage:\n  tag: v1\n  pullPolicy: Always\n",
      "charts/demo/templates/cm.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n  tag: {{ .Values.image.tag | quote }}\n  pull: {{ .Values.image.pullPolicy | quote }}\n",
      "values/prod.yaml": "image:\n  tag: v2\n",
    });
    const out = await runCli(["build", "hr", "demo", "--path", "clusters/prod", "--offline"], {
      cwd: repo.root,
    });
    expect(out.stderr).toBe("");
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("  greeting: hello\n");
    expect(out.stdout).toContain("  tag: v2\n");
    expect(out.stdout).toContain("  pull: Always\n");
  });
});
