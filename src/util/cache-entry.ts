/**
 * Removing a cache entry (a folder) so that no reader ever sees half of one:
 * it is renamed out of the way first (atomic), then deleted. Shared by the
 * directory cache and the run cache; Node built-ins only (the run cache's
 * replay path loads nothing else).
 */
import { renameSync, rmSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { nodeCrypto } from "./builtins.js";

/** The name an entry is renamed to before it is deleted (swept if a run dies meanwhile). */
function trashOf(dir: string): string {
  return `${dir}.trash-${process.pid}-${nodeCrypto().randomBytes(4).toString("hex")}`;
}

export async function removeEntry(dir: string): Promise<void> {
  const trash = trashOf(dir);
  try {
    await rename(dir, trash);
  } catch {
    return; // already gone
  }
  await rm(trash, { recursive: true, force: true });
}

export function removeEntrySync(dir: string): void {
  const trash = trashOf(dir);
  try {
    renameSync(dir, trash);
  } catch {
    return; // already gone
  }
  rmSync(trash, { recursive: true, force: true });
}
