/**
 * Status as table cells: READY (True/False/Unknown, as `flux get` prints it),
 * STATUS (the message, or the reason when there is none) and SUSPENDED.
 */
import type { StoreEntry } from "../../store/store.js";
import { isSuspended } from "../../store/typed.js";

const MAX_STATUS = 100;

export function readyCell(entry: StoreEntry): string {
  switch (entry.status.phase) {
    case "Ready":
      return "True";
    case "Failed":
      return "False";
    case "Suspended":
    case "Skipped":
      return "False";
    default:
      return "Unknown";
  }
}

export function statusCell(entry: StoreEntry): string {
  const { phase, reason, message } = entry.status;
  if (phase === "Pending") return "not rendered";
  const text = phase === "Ready" && !message ? "ok" : message ? `${reason}: ${message}` : reason;
  const oneLine = text.replace(/\s+/g, " ");
  return oneLine.length > MAX_STATUS ? `${oneLine.slice(0, MAX_STATUS - 1)}…` : oneLine;
}

/** Extra columns for a listing of `entries`: READY, STATUS and, if any is suspended, SUSPENDED. */
export function statusColumns(entries: readonly StoreEntry[]): {
  headers: string[];
  cells: (entry: StoreEntry) => string[];
} {
  const suspended = entries.some(isSuspended);
  return {
    headers: [...(suspended ? ["SUSPENDED"] : []), "READY", "STATUS"],
    cells: (entry) => [
      ...(suspended ? [isSuspended(entry) ? "True" : "False"] : []),
      readyCell(entry),
      statusCell(entry),
    ],
  };
}

/** kubectl's `-o name` form: `kind.group/name`. */
export function resourceName(entry: StoreEntry): string {
  const apiVersion = entry.object.apiVersion ?? "";
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  return `${entry.ref.kind.toLowerCase()}${group ? `.${group}` : ""}/${entry.ref.name}`;
}

/** An object's status for `-o yaml|json`: phase, reason, and the message when there is one. */
export function statusData(entry: StoreEntry) {
  const s = entry.status;
  return { phase: s.phase, reason: s.reason, ...(s.message ? { message: s.message } : {}) };
}
