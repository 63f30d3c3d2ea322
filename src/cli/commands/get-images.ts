/**
 * `flux-local get images [NAME]`: the container images every Kustomization
 * (and, with `--enable-helm`, every HelmRelease) runs, from what it renders:
 * Pod templates of every workload kind, init and ephemeral containers, image
 * volumes. A table per owner and image, `-o wide` per workload and container,
 * `-o name` the distinct images one a line, `-o yaml|json` per owner.
 */
import { Command, Option } from "commander";
import { ownerImages, distinctImages, type OwnerImages } from "../../views/images.js";
import { failedKustomizations } from "../../views/select.js";
import { formatData } from "../format/output.js";
import { formatTable } from "../format/table.js";
import { emit } from "../format/output.js";
import {
  addCommonOptions,
  addHelmOptions,
  addSelectionOptions,
  renderRequestWithHelm,
  selectionOf,
  type CommonOptions,
  type HelmOptions,
  type SelectionOptions,
} from "../options.js";
import { finish, startRun } from "../run.js";
import { addExamples } from "../help.js";

type Options = CommonOptions &
  SelectionOptions &
  HelmOptions & { output: string; enableHelm?: boolean };

function ownerData(o: OwnerImages) {
  const workloads = new Map<
    string,
    {
      kind: string;
      namespace: string;
      name: string;
      containers: { name: string; type: string; image: string }[];
    }
  >();
  for (const u of o.uses) {
    const key = `${u.kind}/${u.namespace}/${u.name}`;
    let w = workloads.get(key);
    if (!w) {
      w = { kind: u.kind, namespace: u.namespace, name: u.name, containers: [] };
      workloads.set(key, w);
    }
    w.containers.push({ name: u.container, type: u.source, image: u.image });
  }
  return {
    kind: o.kind,
    namespace: o.namespace,
    name: o.name,
    ...(o.path !== undefined ? { path: o.path } : {}),
    images: o.images,
    workloads: [...workloads.values()],
  };
}

export function formatImages(owners: readonly OwnerImages[], output: string): string {
  const withImages = owners.filter((o) => o.images.length > 0);
  if (output === "yaml" || output === "json") return formatData(output, withImages.map(ownerData));
  if (output === "name") {
    return distinctImages(withImages.flatMap((o) => o.uses))
      .map((i) => `${i}\n`)
      .join("");
  }
  if (withImages.length === 0) return "no container images found in cluster\n";
  if (output === "wide") {
    const rows = withImages.flatMap((o) =>
      o.uses.map((u) => [
        o.kind,
        o.namespace,
        o.name,
        `${u.kind}/${u.namespace ? `${u.namespace}/` : ""}${u.name}`,
        u.container,
        u.image,
      ]),
    );
    return formatTable(["KIND", "NAMESPACE", "NAME", "WORKLOAD", "CONTAINER", "IMAGE"], rows);
  }
  const rows = withImages.flatMap((o) => o.images.map((i) => [o.kind, o.namespace, o.name, i]));
  return formatTable(["KIND", "NAMESPACE", "NAME", "IMAGE"], rows);
}

export function getImagesCommand(setExit: (code: number) => void): Command {
  const cmd = new Command("images")
    .description(
      "list the container images each Kustomization (and HelmRelease, with --enable-helm) runs",
    )
    .argument("[name]", "only the Kustomization or HelmRelease with this name")
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["table", "wide", "yaml", "json", "name"])
        .default("table"),
    )
    .option("--enable-helm", "render HelmReleases with helm and list their images too");
  addExamples(
    cmd,
    [
      {
        does: "the images of every Kustomization and HelmRelease",
        run: "flux-local get images --enable-helm --path clusters/prod",
      },
      {
        does: "each workload and container, for one Kustomization",
        run: "flux-local get images apps -o wide --path clusters/prod",
      },
      {
        does: "the distinct images, one a line (e.g. to pre-pull or scan them)",
        run: "flux-local get images --enable-helm -o name --path clusters/prod",
      },
    ],
    "Images come from the Pod templates of every workload (Pods, Deployments, StatefulSets,\n" +
      "DaemonSets, ReplicaSets, Jobs, CronJobs), init and ephemeral containers included, image\n" +
      "volumes, and the image fields of a few operators' resources (CloudNativePG, Rook, Prometheus).\n" +
      "Without -n, every namespace.",
  );
  addHelmOptions(addSelectionOptions(addCommonOptions(cmd))).action(
    async (name: string | undefined, opts: Options) => {
      const result = await startRun(opts, renderRequestWithHelm(opts));
      const selection = selectionOf(opts, name);
      if (cmd.getOptionValueSource("namespace") !== "cli") selection.allNamespaces = true;
      const owners = ownerImages(result, selection, process.cwd());
      await emit(formatImages(owners, opts.output));
      const listed = owners.map((o) => o.entry);
      let code = finish(result, [...listed, ...failedKustomizations(result, listed)], {
        warnings: false,
      });
      const releases = owners.filter((o) => o.kind === "HelmRelease").length;
      if (!opts.enableHelm && releases > 0) {
        process.stderr.write(
          `note: ${releases} HelmRelease${releases === 1 ? "" : "s"} not rendered, their images not listed (use --enable-helm)\n`,
        );
      }
      if (name !== undefined && owners.length === 0) {
        process.stderr.write(
          `flux-local: no Kustomization or HelmRelease named ${name}${selection.allNamespaces ? "" : ` in namespace ${selection.namespace}`}\n`,
        );
        code = Math.max(code, 1);
      }
      setExit(code);
    },
  );
  return cmd;
}
