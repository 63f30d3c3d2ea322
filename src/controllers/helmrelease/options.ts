/**
 * How HelmReleases are rendered in a run (flux-local's helm flags). Present
 * in the run options only when helm rendering is enabled.
 */
import type { StoreEntry } from "../../store/store.js";

export interface HelmRenderOptions {
  /** `--kube-version`: Capabilities.KubeVersion. */
  kubeVersion?: string;
  /** `-a/--api-versions`: extra Capabilities.APIVersions. */
  apiVersions: string[];
  /** `--is-upgrade`: render as an upgrade (.Release.IsUpgrade, upgrade CRD policy). */
  isUpgrade: boolean;
  /** `--no-hooks`: leave hooks out. */
  noHooks: boolean;
  /** `-s/--show-only`: only these templates. */
  showOnly: string[];
  /** `--enable-dns`: let templates resolve names. */
  enableDns: boolean;
  /** `--skip-crds`: leave the chart's crds/ out. */
  skipCrds: boolean;
  /** `--skip-invalid-helm-release-paths`: a chart path missing in its source is skipped. */
  skipInvalidPaths: boolean;
  /**
   * Only HelmReleases this accepts are rendered (the others are reported Ready
   * without output so that their dependents proceed). Everything by default.
   */
  select?: (entry: StoreEntry) => boolean;
}

export function defaultHelmOptions(): HelmRenderOptions {
  return {
    apiVersions: [],
    isUpgrade: false,
    noHooks: false,
    showOnly: [],
    enableDns: false,
    skipCrds: false,
    skipInvalidPaths: false,
  };
}
