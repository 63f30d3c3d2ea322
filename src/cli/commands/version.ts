/**
 * `flux-local --version`: the package version (from package.json) and the
 * kustomize, helm and their workers a render would run, with where they are.
 */
import { formatToolLine, inspectTools } from "../../render/toolchain.js";
import { packageVersion } from "../../util/package-info.js";

export async function versionText(): Promise<string> {
  const statuses = await inspectTools({ optional: false });
  return [`flux-local ${packageVersion()}`, ...statuses.map(formatToolLine)].join("\n") + "\n";
}
