/**
 * The shape of a render inputs fingerprint (computed in src/render/inputs.ts),
 * here so the store can keep one beside each rendered artifact.
 */
export interface RenderInputs {
  kind: "kustomize" | "helm";
  /** sha256 over every part and file below: equal keys, equal output. */
  key: string;
  /** Named inputs (`kustomization`, `path`, `values`, `chart`, `flags`, ...) -> digest. */
  parts: Record<string, string>;
  /** Files read, relative to the source root (`/`-separated) -> digest, or `missing`. */
  files: Record<string, string>;
}
