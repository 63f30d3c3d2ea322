/**
 * Ignore rules for reading a repository: `.krmignore` and `.sourceignore` files
 * (gitignore syntax, scoped to the directory that holds them), plus folders that
 * are never manifests (VCS metadata, dependencies).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import ignore, { type Ignore } from "ignore";

const IGNORE_FILES = [".krmignore", ".sourceignore"];
const ALWAYS_SKIPPED_DIRS = new Set([".git", "node_modules"]);

interface ScopedIgnore {
  /** Directory (absolute) the rules are relative to. */
  dir: string;
  rules: Ignore;
}

export class IgnoreRules {
  private readonly scopes: ScopedIgnore[];

  private constructor(scopes: ScopedIgnore[]) {
    this.scopes = scopes;
  }

  static empty(): IgnoreRules {
    return new IgnoreRules([]);
  }

  /** Rules that also apply `patterns` (for example a GitRepository `spec.ignore`) at `dir`. */
  withPatterns(dir: string, patterns: string): IgnoreRules {
    return new IgnoreRules([...this.scopes, { dir, rules: ignore().add(patterns) }]);
  }

  /** Load the ignore files found in `dir` (if any) on top of these rules. */
  async enter(dir: string): Promise<IgnoreRules> {
    const added: ScopedIgnore[] = [];
    for (const name of IGNORE_FILES) {
      let text: string;
      try {
        text = await readFile(path.join(dir, name), "utf8");
      } catch {
        continue;
      }
      added.push({ dir, rules: ignore().add(text) });
    }
    return added.length ? new IgnoreRules([...this.scopes, ...added]) : this;
  }

  ignores(absPath: string, isDir: boolean): boolean {
    if (isDir && ALWAYS_SKIPPED_DIRS.has(path.basename(absPath))) return true;
    for (const scope of this.scopes) {
      const rel = path.relative(scope.dir, absPath);
      if (!rel || rel.startsWith("..") || path.isAbsolute(rel)) continue;
      const candidate = rel.split(path.sep).join("/") + (isDir ? "/" : "");
      if (scope.rules.ignores(candidate)) return true;
    }
    return false;
  }
}
