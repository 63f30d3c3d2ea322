/**
 * flux-local's own outputs of `diff`: the unified diff per object (`-o diff`,
 * also `object`), the same diffs as YAML or JSON structures (`-o yaml|json`),
 * and the inputs of an external differ (`DIFF=...`). Byte-compatible with the
 * Python flux-local for the same rendered objects.
 */
import { toYaml } from "../util/yaml.js";
import {
  changeLines,
  compactLabel,
  ownerLabel,
  type GroupDiff,
  type ObjectChange,
  type Owner,
} from "./model.js";
import { unifiedDiff } from "./unified.js";

export const TRUNCATED = "[Diff truncated by flux-local]";

export interface TextOptions {
  /** Lines of context (`--unified`). */
  context: number;
  /** 0: unlimited (`--limit-bytes`). */
  limitBytes: number;
}

function fromOwner(group: GroupDiff, change: ObjectChange): Owner {
  return change.from ?? group.ownerBefore ?? group.owner;
}

/** The unified diff lines of one changed object (header lines end with "\n"). */
export function changeDiff(group: GroupDiff, change: ObjectChange, context: number): string[] {
  const label = compactLabel(change.id);
  const { before, after } = changeLines(change);
  const fromfile = `${ownerLabel(fromOwner(group, change))} ${label}`;
  const tofile = `${ownerLabel(group.owner)} ${label}`;
  const lines = unifiedDiff(before, after, { fromfile, tofile, context });
  // A move with identical content still says where the object went.
  if (lines.length === 0 && change.type === "moved")
    return [`--- ${fromfile}\n`, `+++ ${tofile}\n`];
  return lines;
}

/**
 * `-o diff`: every line of every object's diff, in order; an object's diff
 * that grows past `limitBytes` ends with the truncation notice (as
 * flux-local). Print each element followed by a newline.
 */
export function diffLines(groups: readonly GroupDiff[], options: TextOptions): string[] {
  const out: string[] = [];
  for (const group of groups) {
    for (const change of group.changes) {
      let size = 0;
      for (const line of changeDiff(group, change, options.context)) {
        size += line.length;
        if (options.limitBytes && size > options.limitBytes) {
          out.push(TRUNCATED);
          break;
        }
        out.push(line);
      }
    }
  }
  return out;
}

interface ResourceDiff {
  kustomization_path: string;
  kind: string;
  namespace?: string;
  name: string;
  diff: string;
}

export interface OwnerDiffs {
  kustomization_path: string;
  kind: string;
  namespace: string;
  name: string;
  diffs: ResourceDiff[];
}

/** The structure flux-local prints with `-o yaml` and `-o json`. */
export function diffStructure(groups: readonly GroupDiff[], options: TextOptions): OwnerDiffs[] {
  const out: OwnerDiffs[] = [];
  for (const group of groups) {
    const diffs: ResourceDiff[] = [];
    for (const change of group.changes) {
      let text = changeDiff(group, change, options.context).join("\n");
      if (!text) continue;
      if (options.limitBytes && text.length > options.limitBytes) {
        text = `${text.slice(0, options.limitBytes)}\n${TRUNCATED}`;
      }
      diffs.push({
        kustomization_path: group.owner.path,
        kind: change.id.kind,
        ...(change.id.namespace ? { namespace: change.id.namespace } : {}),
        name: change.id.name,
        diff: text,
      });
    }
    if (diffs.length === 0) continue;
    out.push({
      kustomization_path: group.owner.path,
      kind: group.owner.kind,
      namespace: group.owner.namespace,
      name: group.owner.name,
      diffs,
    });
  }
  return out;
}

/** `-o yaml`: nothing when there is no difference, as flux-local. */
export function diffYaml(groups: readonly GroupDiff[], options: TextOptions): string {
  const structure = diffStructure(groups, options);
  if (structure.length === 0) return "";
  return `---\n${toYaml(structure, { blockQuote: "literal" })}\n`;
}

/** `-o json`: nothing when there is no difference, as flux-local. */
export function diffJson(groups: readonly GroupDiff[], options: TextOptions): string {
  const structure = diffStructure(groups, options);
  if (structure.length === 0) return "";
  return `${JSON.stringify(structure, null, 4)}\n`;
}

/**
 * The two files an external differ compares for one group: every object of
 * the group, original and current, in the same order, joined as flux-local
 * wrote them.
 */
export function externalFiles(group: GroupDiff): { before: string; after: string } {
  const before = group.changes.map((c) => changeLines(c).before.join("\n"));
  const after = group.changes.map((c) => changeLines(c).after.join("\n"));
  return { before: before.join("\n"), after: after.join("\n") };
}

/** An external differ's output, cut at `limitBytes` with the notice. */
export function limitExternal(text: string, limitBytes: number): string {
  return limitBytes && text.length > limitBytes
    ? `${text.slice(0, limitBytes)}\n${TRUNCATED}`
    : text;
}
