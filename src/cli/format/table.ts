/**
 * flux-local's table layout, kept byte for byte so existing scripts keep
 * working: every cell padded to the column's widest cell plus four spaces.
 */
import { printable } from "../../util/printable.js";

export function formatTable(
  headers: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
): string {
  // Cells are repository data (names, paths, URLs): printed as data, never as control.
  rows = rows.map((r) => r.map(printable));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => cell.padEnd((widths[i] ?? 0) + 4)).join("") + "\n";
  return line(headers) + rows.map(line).join("");
}
