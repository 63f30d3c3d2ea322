/**
 * `diff --only-images`: what a change does to the container images, per owner
 * (Kustomization or HelmRelease) and per workload container: an image bump is
 * one line, `podinfo: ghcr.io/stefanprodan/podinfo:6.5.3 → …:6.5.4`, not a
 * hunk of YAML. Pure functions over the two collected sides.
 */
import { imagesUsed, type ImageUse } from "../views/images.js";
import { markdownCell } from "../views/github.js";
import { printable } from "../util/printable.js";
import { dumpYaml } from "../discovery/yaml.js";
import { OWNER_ORDER, type Owner, type Side } from "./model.js";

export interface ImageChange {
  workload: { kind: string; namespace: string; name: string };
  container: string;
  /** Absent when the container is new. */
  before?: string;
  /** Absent when the container is gone. */
  after?: string;
}

export interface OwnerImageChanges {
  owner: Owner;
  changes: ImageChange[];
}

function useKey(u: ImageUse): string {
  return `${u.kind}/${u.namespace}/${u.name}\u0000${u.source}\u0000${u.container}`;
}

function byKey(uses: readonly ImageUse[]): Map<string, ImageUse> {
  const out = new Map<string, ImageUse>();
  for (const u of uses) out.set(useKey(u), u);
  return out;
}

/** The image changes of every owner that has any (failed renders left out: reported apart). */
export function compareImages(before: Side, after: Side): OwnerImageChanges[] {
  const keys = [...new Set([...before.keys(), ...after.keys()])];
  const out: OwnerImageChanges[] = [];
  for (const key of keys) {
    const a = before.get(key);
    const b = after.get(key);
    if (a?.failure || b?.failure) continue;
    const owner = (b ?? a)?.owner;
    if (!owner) continue;
    const old = byKey(imagesUsed(a?.objects ?? []));
    const now = byKey(imagesUsed(b?.objects ?? []));
    const changes: ImageChange[] = [];
    for (const k of new Set([...old.keys(), ...now.keys()])) {
      const was = old.get(k);
      const is = now.get(k);
      if (was?.image === is?.image) continue;
      const u = (is ?? was) as ImageUse;
      changes.push({
        workload: { kind: u.kind, namespace: u.namespace, name: u.name },
        container: u.container,
        ...(was ? { before: was.image } : {}),
        ...(is ? { after: is.image } : {}),
      });
    }
    if (changes.length > 0) out.push({ owner, changes });
  }
  return out.sort(
    (x, y) =>
      OWNER_ORDER[x.owner.kind] - OWNER_ORDER[y.owner.kind] ||
      x.owner.namespace.localeCompare(y.owner.namespace) ||
      x.owner.name.localeCompare(y.owner.name),
  );
}

function workloadLabel(c: ImageChange): string {
  const w = c.workload;
  return `${w.kind} ${w.namespace ? `${w.namespace}/` : ""}${w.name}`;
}

/** One line per change: `~` a new image, `+` a new container, `-` a removed one. */
export function imageChangesText(owners: readonly OwnerImageChanges[]): string {
  const lines: string[] = [];
  for (const { owner, changes } of owners) {
    lines.push(printable(`${owner.kind} ${owner.namespace}/${owner.name}`));
    for (const c of changes) {
      const where = `${workloadLabel(c)} ${c.container}`;
      if (c.before && c.after) lines.push(printable(`  ~ ${where}: ${c.before} → ${c.after}`));
      else if (c.after) lines.push(printable(`  + ${where}: ${c.after}`));
      else lines.push(printable(`  - ${where}: ${c.before ?? ""}`));
    }
  }
  return lines.length ? `${lines.join("\n")}\n` : "";
}

/** For -o yaml|json: owners with their image changes. */
export function imageChangesData(owners: readonly OwnerImageChanges[]): unknown[] {
  return owners.map(({ owner, changes }) => ({
    kind: owner.kind,
    namespace: owner.namespace,
    name: owner.name,
    path: owner.path,
    images: changes.map((c) => ({
      kind: c.workload.kind,
      namespace: c.workload.namespace,
      name: c.workload.name,
      container: c.container,
      before: c.before ?? null,
      after: c.after ?? null,
    })),
  }));
}

export function imageChangesYaml(owners: readonly OwnerImageChanges[]): string {
  return owners.length ? `---\n${dumpYaml(imageChangesData(owners))}` : "";
}

/** A pull-request comment section: one table of image changes. */
export function imageChangesMarkdown(owners: readonly OwnerImageChanges[]): string {
  if (owners.length === 0) return "No image changes.\n";
  const lines = [
    "| Owner | Workload | Container | Before | After |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const { owner, changes } of owners) {
    for (const c of changes) {
      const code = (s: string | undefined) =>
        s ? `\`${markdownCell(s).replace(/`/g, "'")}\`` : "—";
      lines.push(
        `| ${markdownCell(`${owner.kind} ${owner.namespace}/${owner.name}`)} | ${markdownCell(workloadLabel(c))} | ${markdownCell(c.container)} | ${code(c.before)} | ${code(c.after)} |`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
