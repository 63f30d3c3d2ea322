/**
 * Rendered output on disk, beside the sources: one entry of the shared
 * DirectoryCache per render key (the render layer computes the key from every
 * input of a render), filled atomically, so a reader never sees half an
 * output and parallel runs share entries. Every use checks the output against
 * the SHA-256 recorded when it was filled.
 */
import path from "node:path";
import { DirectoryCache } from "./dir-cache.js";

export const RENDER_NAMESPACE = "renders";
const OUTPUT = "output";

export class RenderCache {
  readonly dirs: DirectoryCache;
  /** Hits and fills in this run (tests and --verbose read them). */
  hits = 0;
  misses = 0;

  constructor(
    root: string,
    private readonly namespace: string,
  ) {
    // Outputs are small and served as they are: hash each on every use, so a
    // changed byte is a miss (the entry is removed and rebuilt), never output.
    this.dirs = new DirectoryCache(root, { verify: "full" });
  }

  get(key: string): Promise<string | undefined> {
    const text = this.dirs.readText(path.join(RENDER_NAMESPACE, this.namespace), key, OUTPUT);
    if (text === undefined) this.misses++;
    else this.hits++;
    return Promise.resolve(text);
  }

  async put(key: string, output: string): Promise<void> {
    await this.dirs.writeText(path.join(RENDER_NAMESPACE, this.namespace), key, OUTPUT, output);
  }
}
