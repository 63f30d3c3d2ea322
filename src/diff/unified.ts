/**
 * A unified diff of two line lists, byte-compatible with Python's
 * `difflib.unified_diff` (which flux-local prints): the same matching
 * (Ratcliff-Obershelp with the "autojunk" heuristic, from the `difflib`
 * package, a port of Python's), the same hunk grouping and range format.
 *
 * Lines carry no line terminator; the header and hunk lines end with
 * `lineterm` ("\n" by default, as in Python), so printing each element with a
 * newline reproduces flux-local's output, blank line after each header
 * included.
 */
import difflib from "difflib";

export interface UnifiedOptions {
  fromfile: string;
  tofile: string;
  /** Lines of context (`--unified N`, default 3). */
  context?: number;
  lineterm?: string;
}

type Opcode = ["replace" | "delete" | "insert" | "equal", number, number, number, number];

/** The package has Python's get_grouped_opcodes; its type definitions leave it out. */
interface GroupingMatcher {
  getGroupedOpcodes(n: number): Opcode[][];
}

/** Python's `_format_range_unified`: `start,length`, `start` alone for one line. */
function range(start: number, stop: number): string {
  let beginning = start + 1;
  const length = stop - start;
  if (length === 1) return `${beginning}`;
  if (length === 0) beginning -= 1;
  return `${beginning},${length}`;
}

export function unifiedDiff(
  a: readonly string[],
  b: readonly string[],
  options: UnifiedOptions,
): string[] {
  const n = options.context ?? 3;
  const lineterm = options.lineterm ?? "\n";
  const out: string[] = [];
  const matcher = new difflib.SequenceMatcher(
    null,
    a as string[],
    b as string[],
  ) as unknown as GroupingMatcher;
  for (const group of matcher.getGroupedOpcodes(n)) {
    if (out.length === 0) {
      out.push(`--- ${options.fromfile}${lineterm}`, `+++ ${options.tofile}${lineterm}`);
    }
    const first = group[0];
    const last = group[group.length - 1];
    if (!first || !last) continue;
    out.push(`@@ -${range(first[1], last[2])} +${range(first[3], last[4])} @@${lineterm}`);
    for (const [tag, i1, i2, j1, j2] of group) {
      if (tag === "equal") {
        for (const line of a.slice(i1, i2)) out.push(` ${line}`);
        continue;
      }
      if (tag === "replace" || tag === "delete") {
        for (const line of a.slice(i1, i2)) out.push(`-${line}`);
      }
      if (tag === "replace" || tag === "insert") {
        for (const line of b.slice(j1, j2)) out.push(`+${line}`);
      }
    }
  }
  return out;
}
