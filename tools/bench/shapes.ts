/**
 * Generated repositories for `npm run bench`: the shape of real home-ops
 * repositories, flat / nested / chained layouts of N Kustomizations (each
 * comes with the `--path` to render and every Kustomization's spec.path; the
 * floor builds those directly), and N HelmReleases of one chart.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export type ShapeName = "home-ops" | "flat" | "nested" | "chain";

export interface GeneratedRepo {
  shape: ShapeName;
  size: number;
  root: string;
  /** `--path` for the render, relative to root. */
  path: string;
  /** Every Kustomization's spec.path, relative to root. */
  specPaths: string[];
}

async function writer(prefix: string) {
  const root = await mkdtemp(path.join(os.tmpdir(), `flux-local-bench-${prefix}-`));
  const write = async (rel: string, text: string) => {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), text);
  };
  return { root, write };
}

function gitInit(root: string): void {
  execFileSync("git", ["init", "-q"], { cwd: root });
}

const pad = (i: number) => String(i).padStart(4, "0");

/**
 * home-ops: `kubernetes/flux/cluster` (the entry) holds `cluster-apps` over
 * `kubernetes/apps`; each namespace folder lists its apps' `ks.yaml`; each app
 * is a Kustomization with dependsOn, targetNamespace, a component,
 * substituteFrom and the HelmRelease defaults the parent pushes down with
 * spec.patches, over a HelmRelease with a chartRef OCIRepository.
 */
export async function homeOps(apps: number): Promise<GeneratedRepo> {
  const { root, write } = await writer("home-ops");
  const perNamespace = 10;
  const namespaces = Math.ceil(apps / perNamespace);
  await write(
    "kubernetes/flux/cluster/flux-system.yaml",
    `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {url: https://git.example.com/home-ops.git, ref: {branch: main}, interval: 1h}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 1h
  path: ./kubernetes/flux/cluster
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
`,
  );
  await write(
    "kubernetes/flux/cluster/cluster-settings.yaml",
    `apiVersion: v1
kind: ConfigMap
metadata: {name: cluster-settings, namespace: flux-system}
data: {CLUSTER_DOMAIN: example.com, TIMEZONE: Europe/Paris}
`,
  );
  await write(
    "kubernetes/flux/cluster/ks.yaml",
    `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: cluster-apps, namespace: flux-system}
spec:
  interval: 1h
  path: ./kubernetes/apps
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
  postBuild:
    substituteFrom: [{kind: ConfigMap, name: cluster-settings}]
  patches:
    - # Every app Kustomization gets the HelmRelease defaults
      patch: |-
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: _
        spec:
          patches:
            - patch: |-
                apiVersion: helm.toolkit.fluxcd.io/v2
                kind: HelmRelease
                metadata:
                  name: _
                spec:
                  install:
                    crds: CreateReplace
                    strategy: {name: RetryOnFailure}
                  rollback: {cleanupOnFail: true}
                  upgrade:
                    cleanupOnFail: true
                    crds: CreateReplace
                    remediation: {remediateLastFailure: true, retries: 2}
              target:
                group: helm.toolkit.fluxcd.io
                kind: HelmRelease
      target:
        group: kustomize.toolkit.fluxcd.io
        kind: Kustomization
`,
  );
  await write(
    "kubernetes/flux/cluster/kustomization.yaml",
    "resources: [./flux-system.yaml, ./cluster-settings.yaml, ./ks.yaml]\n",
  );
  await write(
    "kubernetes/components/alerts/kustomization.yaml",
    `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
labels:
  - pairs: {app.kubernetes.io/part-of: home-ops}
`,
  );
  const specPaths = ["kubernetes/flux/cluster", "kubernetes/apps"];
  const nsNames: string[] = [];
  for (let n = 0; n < namespaces; n++) {
    const ns = `ns-${pad(n)}`;
    nsNames.push(`./${ns}`);
    const appNames: string[] = [];
    for (let a = 0; a < perNamespace && n * perNamespace + a < apps; a++) {
      const app = `app-${pad(n * perNamespace + a)}`;
      appNames.push(app);
      const dependsOn = a > 0 ? `\n  dependsOn: [{name: ${appNames[a - 1]}}]` : "";
      await write(
        `kubernetes/apps/${ns}/${app}/ks.yaml`,
        `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: ${app}, namespace: flux-system}
spec:${dependsOn}
  interval: 1h
  path: ./kubernetes/apps/${ns}/${app}/app
  targetNamespace: ${ns}
  components: [../../../../components/alerts]
  commonMetadata:
    labels: {app.kubernetes.io/name: ${app}}
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
  wait: false
  postBuild:
    substitute: {APP: ${app}}
    substituteFrom: [{kind: ConfigMap, name: cluster-settings}]
`,
      );
      specPaths.push(`kubernetes/apps/${ns}/${app}/app`);
      await write(
        `kubernetes/apps/${ns}/${app}/app/kustomization.yaml`,
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [./ocirepository.yaml, ./helmrelease.yaml]\n",
      );
      await write(
        `kubernetes/apps/${ns}/${app}/app/ocirepository.yaml`,
        `apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: ${app}}
spec:
  interval: 1h
  layerSelector: {mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip, operation: copy}
  ref: {tag: 4.4.0}
  url: oci://ghcr.io/bjw-s-labs/helm/app-template
`,
      );
      await write(
        `kubernetes/apps/${ns}/${app}/app/helmrelease.yaml`,
        `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: \${APP}
spec:
  interval: 1h
  chartRef: {kind: OCIRepository, name: ${app}}
  values:
    controllers:
      \${APP}:
        containers:
          app:
            image: {repository: ghcr.io/home-operations/${app}, tag: 1.2.3}
            env:
              TZ: \${TIMEZONE}
    ingress:
      app:
        hosts:
          - host: "\${APP}.\${CLUSTER_DOMAIN}"
            paths:
              - path: /
`,
      );
    }
    await write(
      `kubernetes/apps/${ns}/namespace.yaml`,
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`,
    );
    await write(
      `kubernetes/apps/${ns}/kustomization.yaml`,
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./namespace.yaml\n${appNames.map((a) => `  - ./${a}/ks.yaml\n`).join("")}`,
    );
  }
  await write(
    "kubernetes/apps/kustomization.yaml",
    `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${nsNames.map((n) => `  - ${n}\n`).join("")}`,
  );
  gitInit(root);
  return { shape: "home-ops", size: apps, root, path: "kubernetes/flux/cluster", specPaths };
}

/**
 * N Kustomizations under clusters/prod over app folders laid out `flat`
 * (apps/app-N), `nested` (apps/group-G/app-N, ten a group) or as a `chain`
 * (flat, each depending on the one before).
 */
export async function layout(
  shape: "flat" | "nested" | "chain",
  n: number,
): Promise<GeneratedRepo> {
  const { root, write } = await writer(shape);
  await write(
    "clusters/prod/flux-system.yaml",
    `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {url: https://git.example.com/fleet.git, ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux-system, namespace: flux-system}
spec: {path: ./clusters/prod, sourceRef: {kind: GitRepository, name: flux-system}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cluster-vars, namespace: flux-system}
data: {domain: example.com}
`,
  );
  await write("clusters/prod/kustomization.yaml", "resources: [flux-system.yaml, apps.yaml]\n");
  const specPaths = ["clusters/prod"];
  const objects: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `app-${pad(i)}`;
    const dir =
      shape === "nested" ? `apps/group-${pad(Math.floor(i / 10))}/${name}` : `apps/${name}`;
    const dependsOn =
      shape === "chain" && i > 0 ? `\n  dependsOn: [{name: app-${pad(i - 1)}}]` : "";
    objects.push(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: ${name}, namespace: flux-system}
spec:${dependsOn}
  path: ./${dir}
  targetNamespace: ${name}
  sourceRef: {kind: GitRepository, name: flux-system}
  images: [{name: nginx, newTag: "1.27"}]
  postBuild:
    substitute: {app: ${name}}
    substituteFrom: [{kind: ConfigMap, name: cluster-vars}]
`);
    specPaths.push(dir);
    await write(`${dir}/kustomization.yaml`, "resources: [deployment.yaml, service.yaml]\n");
    await write(
      `${dir}/deployment.yaml`,
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: \${replicas:=2}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx, env: [{name: HOST, value: "\${app}.\${domain}"}]}]
`,
    );
    await write(
      `${dir}/service.yaml`,
      "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n",
    );
  }
  await write("clusters/prod/apps.yaml", objects.join("---\n"));
  gitInit(root);
  return { shape, size: n, root, path: "clusters/prod", specPaths };
}

/** `releases` HelmReleases of the chart `podinfo` from the Helm repository at `url`. */
/**
 * N HelmReleases of one chart from the Helm repository at `url`, at `version`
 * (a fixed version, as real repositories pin them, or a range such as
 * ">=0.1.0", which no run is kept for: it may move).
 */
export async function helmReleases(
  releases: number,
  url: string,
  version = ">=0.1.0",
): Promise<string> {
  const { root, write } = await writer("helm");
  await write(
    "clusters/prod/apps.yaml",
    `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec: {path: ./apps, sourceRef: {kind: GitRepository, name: flux-system}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts, namespace: flux-system}
spec: {url: "${url}"}
`,
  );
  for (let i = 0; i < releases; i++) {
    await write(
      `apps/release-${i}.yaml`,
      `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo-${i}, namespace: team-${i % 10}}
spec:
  chart: {spec: {chart: podinfo, version: "${version}", sourceRef: {kind: HelmRepository, name: charts, namespace: flux-system}}}
  values: {replicaCount: ${(i % 3) + 1}}
`,
    );
  }
  gitInit(root);
  return root;
}
