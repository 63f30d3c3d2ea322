/**
 * The suite's own cache folder: tests never read or write the user's cache
 * (~/.cache/flux-local), and every suite run starts cold. Removed at the end.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export default function setup(): () => void {
  const dir = mkdtempSync(path.join(os.tmpdir(), "flux-local-test-cache-"));
  process.env.FLUX_LOCAL_CACHE_DIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
