/**
 * Our outputs of `diff` on top of flux-local's: the plan (`+ added ~ changed
 * - removed → moved` per object, grouped by owner, with why it changed), the
 * path-keyed changes as text and JSON, and the pull-request comment in
 * Markdown that stays under GitHub's comment limit.
 */
import { fieldChanges, formatFieldChange, type FieldChange } from "./changes.js";
import { changeDiff } from "./flux-format.js";
import {
  compactLabel,
  countChanges,
  ownerKey,
  type ChangeType,
  type GroupDiff,
  type ObjectChange,
  type Owner,
} from "./model.js";
import type { InputChange } from "../render/inputs.js";

export interface RenderCounts {
  /** Renders that ran (kustomize builds and helm templates). */
  rendered: number;
  /** Renders not run again because their inputs were the same on both sides. */
  reused: number;
  /** `--full`: nothing shared. */
  full: boolean;
}

export const SYMBOL: Record<ChangeType, string> = {
  added: "+",
  changed: "~",
  removed: "-",
  moved: "→",
};

function ownerTitle(owner: Owner): string {
  return `${owner.kind} ${owner.namespace}/${owner.name}`;
}

function objectTitle(change: ObjectChange): string {
  return `${change.id.kind} ${change.id.namespace ? `${change.id.namespace}/` : ""}${change.id.name}`;
}

export function describeCauses(causes: readonly InputChange[] | undefined): string {
  if (!causes || causes.length === 0) return "";
  return causes.map((c) => `${c.input} ${c.change}`).join(", ");
}

function groupHeading(group: GroupDiff): string {
  const status =
    group.status === "added" || group.status === "removed"
      ? ` (${group.status === "added" ? "new" : "removed"})`
      : "";
  const path = group.owner.path !== "." ? ` ${group.owner.path}` : "";
  return `${ownerTitle(group.owner)}${path}${status}`;
}

function changeLine(change: ObjectChange): string {
  const from = change.from ? ` (moved from ${ownerTitle(change.from)})` : "";
  return `${SYMBOL[change.type]} ${objectTitle(change)}${from}`;
}

export function totals(groups: readonly GroupDiff[]): string {
  const counts = countChanges(groups.flatMap((g) => g.changes));
  const owners = groups.filter((g) => g.changes.length > 0).length;
  const failed = groups.filter((g) => g.status === "failed").length;
  const parts = [
    `${counts.added} added`,
    `${counts.changed} changed`,
    `${counts.removed} removed`,
    ...(counts.moved ? [`${counts.moved} moved`] : []),
  ];
  return `${parts.join(", ")} in ${owners} owner${owners === 1 ? "" : "s"}${failed ? `; ${failed} failed (diff withheld)` : ""}`;
}

export function countsLine(counts: RenderCounts): string {
  if (counts.full) return `${counts.rendered} renders (--full: every owner rendered on both sides)`;
  return `${counts.rendered} renders, ${counts.reused} unchanged (inputs identical on both sides, rendered once)`;
}

/** The plan: owners with changes, their objects, why; then the totals. */
export function planText(groups: readonly GroupDiff[], counts?: RenderCounts): string {
  const lines: string[] = [];
  for (const group of groups) {
    if (group.status === "failed") {
      const sides = Object.entries(group.failures ?? {})
        .map(([side, f]) => `${side === "before" ? "original" : "current"} side: ${f.reason}`)
        .join("; ");
      lines.push(`! ${ownerTitle(group.owner)} failed (${sides}): diff withheld`);
      continue;
    }
    if (group.changes.length === 0) continue;
    lines.push(groupHeading(group));
    const why = describeCauses(group.causes);
    if (why) lines.push(`  because: ${why}`);
    for (const change of group.changes) lines.push(`  ${changeLine(change)}`);
  }
  if (lines.length === 0) lines.push("No differences.");
  lines.push(totals(groups) + (counts ? `; ${countsLine(counts)}` : ""));
  return `${lines.join("\n")}\n`;
}

/** Path-keyed changes of one object change (whole objects for adds and removes). */
export function objectFieldChanges(change: ObjectChange): FieldChange[] {
  if (change.type === "added" || change.type === "removed") return [];
  const fields = fieldChanges(change.before, change.after);
  if (change.secretValuesChanged) {
    fields.push({
      path: "(Secret values)",
      type: "changed",
      before: "(not shown)",
      after: "(not shown)",
    });
  }
  return fields;
}

/** `-o changes`: the plan with each changed field under its object. */
export function changesText(groups: readonly GroupDiff[], counts?: RenderCounts): string {
  const lines: string[] = [];
  for (const group of groups) {
    if (group.status === "failed") {
      lines.push(`! ${ownerTitle(group.owner)} failed: diff withheld`);
      for (const [side, f] of Object.entries(group.failures ?? {})) {
        lines.push(
          `    ${side === "before" ? "original" : "current"} side: ${f.location ? `${f.location}: ` : ""}${f.reason}: ${f.message}`,
        );
      }
      continue;
    }
    if (group.changes.length === 0) continue;
    lines.push(groupHeading(group));
    const why = describeCauses(group.causes);
    if (why) lines.push(`  because: ${why}`);
    for (const change of group.changes) {
      lines.push(`  ${changeLine(change)}`);
      for (const field of objectFieldChanges(change)) {
        lines.push(`      ${formatFieldChange(field)}`);
      }
    }
  }
  if (lines.length === 0) lines.push("No differences.");
  lines.push(totals(groups) + (counts ? `; ${countsLine(counts)}` : ""));
  return `${lines.join("\n")}\n`;
}

export interface ChangesDocument {
  owners: Array<{
    kind: string;
    namespace: string;
    name: string;
    path: string;
    status: GroupDiff["status"];
    causes: InputChange[];
    failures?: GroupDiff["failures"];
  }>;
  objects: Array<{
    kind: string;
    namespace: string;
    name: string;
    owner: { kind: string; namespace: string; name: string };
    movedFrom?: { kind: string; namespace: string; name: string };
    change: ChangeType;
    changes: FieldChange[];
  }>;
  renders?: RenderCounts;
}

/** `-o changes-json`: every changed object with its owner, change type and field changes. */
export function changesDocument(
  groups: readonly GroupDiff[],
  counts?: RenderCounts,
): ChangesDocument {
  const ref = (o: Owner) => ({ kind: o.kind, namespace: o.namespace, name: o.name });
  return {
    owners: groups
      .filter((g) => g.status !== "unchanged")
      .map((g) => ({
        ...ref(g.owner),
        path: g.owner.path,
        status: g.status,
        causes: g.causes ?? [],
        ...(g.failures ? { failures: g.failures } : {}),
      })),
    objects: groups.flatMap((g) =>
      g.changes.map((c) => ({
        kind: c.id.kind,
        namespace: c.id.namespace,
        name: c.id.name,
        owner: ref(g.owner),
        ...(c.from ? { movedFrom: ref(c.from) } : {}),
        change: c.type,
        changes: objectFieldChanges(c),
      })),
    ),
    ...(counts ? { renders: counts } : {}),
  };
}

/** GitHub's limit on a comment body. */
export const COMMENT_LIMIT = 65_536;

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function fence(text: string): string {
  let ticks = "```";
  while (text.includes(ticks)) ticks += "`";
  return ticks;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export interface MarkdownOptions {
  context: number;
  /** Characters (default: GitHub's comment limit). */
  limit?: number;
  counts?: RenderCounts;
}

/**
 * `-o markdown`: a pull-request comment. A summary table (per owner: objects
 * added, changed, removed, and why), then one collapsible block per changed
 * object with its diff. Past the limit, the remaining blocks are left out
 * and an explicit notice says how many.
 */
export function markdownComment(groups: readonly GroupDiff[], options: MarkdownOptions): string {
  const limit = options.limit ?? COMMENT_LIMIT;
  const head: string[] = ["## flux-local diff", ""];
  const changed = groups.filter((g) => g.changes.length > 0 || g.status === "failed");
  if (changed.length === 0) {
    head.push("No differences.");
  } else {
    head.push("| Owner | Added | Changed | Removed | Why |", "| --- | --: | --: | --: | --- |");
    for (const g of changed) {
      const c = countChanges(g.changes);
      const why =
        g.status === "failed"
          ? `failed: ${Object.values(g.failures ?? {})
              .map((f) => f.reason)
              .join(", ")} (diff withheld)`
          : describeCauses(g.causes);
      head.push(
        `| ${cell(`${compactLabel(g.owner)}`)} | ${c.added} | ${c.changed + c.moved} | ${c.removed} | ${cell(why)} |`,
      );
    }
  }
  head.push("", totals(groups) + (options.counts ? `; ${countsLine(options.counts)}` : ""), "");
  let body = head.join("\n");

  const blocks: string[] = [];
  for (const g of changed) {
    for (const change of g.changes) {
      const diff = changeDiff(g, change, options.context)
        .map((l) => l.replace(/\n$/, ""))
        .join("\n");
      const ticks = fence(diff);
      blocks.push(
        [
          `<details><summary>${escapeHtml(`${SYMBOL[change.type]} ${ownerTitle(g.owner)}: ${objectTitle(change)}`)}</summary>`,
          "",
          `${ticks}diff`,
          diff,
          ticks,
          "",
          "</details>",
          "",
        ].join("\n"),
      );
    }
  }
  const notice = (left: number) =>
    `\n> **Truncated:** ${left} more changed object${left === 1 ? "" : "s"} not shown: the comment would pass GitHub's limit of ${limit.toLocaleString("en-US")} characters. Run \`flux-local diff\` for the full diff.\n`;
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i] ?? "";
    const reserve = notice(blocks.length - i).length;
    if (body.length + block.length + reserve <= limit) {
      body += block;
      continue;
    }
    return body + notice(blocks.length - i);
  }
  return body;
}

/** Owner keys of the groups that differ, for tests and scripts. */
export function changedOwnerKeys(groups: readonly GroupDiff[]): string[] {
  return groups.filter((g) => g.changes.length > 0).map((g) => ownerKey(g.owner));
}
