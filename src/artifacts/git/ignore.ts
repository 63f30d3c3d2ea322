/**
 * Which files of a fetched source end up in its artifact, as Flux's
 * source-controller decides: its default exclusions (VCS files, images and
 * archives, CI configuration, `.sops.yaml`...) first, then every `.sourceignore`
 * file of the tree (each scoped to its directory, parents before children),
 * then `spec.ignore`. Gitignore syntax; the last matching pattern wins, so a
 * `!pattern` can bring back a default exclusion. Pure: no file system access.
 */
import ignore, { type Ignore } from "ignore";

export const SOURCEIGNORE_FILE = ".sourceignore";

/** Flux's default exclusions (fluxcd/pkg sourceignore: VCS, extensions, CI, extra). */
export const DEFAULT_EXCLUSIONS = [
  ".git/",
  ".gitignore",
  ".gitmodules",
  ".gitattributes",
  "*.jpg",
  "*.jpeg",
  "*.gif",
  "*.png",
  "*.wmv",
  "*.flv",
  "*.tar.gz",
  "*.zip",
  ".github/",
  ".circleci/",
  ".travis.yml",
  ".gitlab-ci.yml",
  "appveyor.yml",
  ".drone.yml",
  "cloudbuild.yaml",
  "codeship-services.yml",
  "codeship-steps.yml",
  "**/.goreleaser.yml",
  "**/.sops.yaml",
  "**/.flux.yaml",
];

interface RuleSet {
  /** Directory the patterns are relative to: "" for the root, else `a/b`. */
  domain: string;
  rules: Ignore;
}

export interface FilterInput {
  /** `.sourceignore` files by the directory holding them ("" for the root). */
  sourceignores?: ReadonlyMap<string, string>;
  /** `spec.ignore` of the source object. */
  specIgnore?: string;
  /** Apply Flux's default exclusions (default true). */
  defaults?: boolean;
}

export class ArtifactFilter {
  private constructor(private readonly sets: readonly RuleSet[]) {}

  static create(input: FilterInput = {}): ArtifactFilter {
    const sets: RuleSet[] = [];
    if (input.defaults !== false)
      sets.push({ domain: "", rules: ignore().add(DEFAULT_EXCLUSIONS) });
    const dirs = [...(input.sourceignores?.keys() ?? [])].sort(compareDirs);
    for (const dir of dirs) {
      sets.push({ domain: dir, rules: ignore().add(input.sourceignores?.get(dir) ?? "") });
    }
    if (input.specIgnore) sets.push({ domain: "", rules: ignore().add(input.specIgnore) });
    return new ArtifactFilter(sets);
  }

  /** `relPath`: POSIX path relative to the source root, no leading `./`. */
  ignores(relPath: string, isDir: boolean): boolean {
    if (relPath === "") return false;
    for (let i = this.sets.length - 1; i >= 0; i--) {
      const set = this.sets[i];
      if (!set) continue;
      let rel = relPath;
      if (set.domain) {
        if (!relPath.startsWith(`${set.domain}/`)) continue;
        rel = relPath.slice(set.domain.length + 1);
      }
      const result = set.rules.test(isDir ? `${rel}/` : rel);
      if (result.ignored) return true;
      if (result.unignored) return false;
    }
    return false;
  }
}

/** Parents before children, siblings in name order (Flux loads them depth-first). */
function compareDirs(a: string, b: string): number {
  if (a === "") return b === "" ? 0 : -1;
  if (b === "") return 1;
  const pa = a.split("/");
  const pb = b.split("/");
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] ?? "";
    const y = pb[i] ?? "";
    if (x !== y) return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
