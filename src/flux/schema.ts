/**
 * zod schemas of the Flux kinds we read: the one definition of each kind, used
 * by discovery, diagnostics and the controllers alike. Only the fields we use
 * are typed; every schema is loose so unknown fields survive when an object is
 * re-emitted. The parsed form is used for logic; the raw object is what gets
 * printed.
 */
import { z } from "zod";
import { checkApiVersion } from "./versions.js";

/**
 * `apiVersion` of a Flux kind: a version no Flux release serves is invalid
 * (removed versions parse: their schema is the same; see versions.ts).
 */
function fluxApiVersion(kind: string) {
  return z.string().superRefine((value, ctx) => {
    const verdict = checkApiVersion(value, kind);
    if (verdict.status === "unknown") {
      ctx.addIssue({
        code: "custom",
        message: `${value} is not a version of ${kind} (known: ${verdict.known.join(", ")})`,
      });
    }
  });
}

const Metadata = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export const CrossNamespaceRef = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string(),
  name: z.string().min(1),
  namespace: z.string().optional(),
});
export type CrossNamespaceRef = z.infer<typeof CrossNamespaceRef>;

export const DependsOnRef = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().optional(),
  readyExpr: z.string().optional(),
});
export type DependsOnRef = z.infer<typeof DependsOnRef>;

export const PatchTarget = z.looseObject({
  group: z.string().optional(),
  version: z.string().optional(),
  kind: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
  labelSelector: z.string().optional(),
  annotationSelector: z.string().optional(),
});

export const Patch = z.looseObject({
  patch: z.string(),
  target: PatchTarget.optional(),
});
export type Patch = z.infer<typeof Patch>;

export const Image = z.looseObject({
  name: z.string(),
  newName: z.string().optional(),
  newTag: z.string().optional(),
  digest: z.string().optional(),
});
export type Image = z.infer<typeof Image>;

/** The kustomize fields a Kustomization and a HelmRelease post-renderer share. */
const KustomizeOverlay = {
  patches: z.array(Patch).optional(),
  patchesStrategicMerge: z.array(z.unknown()).optional(),
  patchesJson6902: z
    .array(z.looseObject({ patch: z.array(z.unknown()), target: PatchTarget }))
    .optional(),
  images: z.array(Image).optional(),
};

/**
 * A HelmRelease's `valuesFrom` entry. Any kind parses: the controller reports
 * kinds other than ConfigMap and Secret as helm-controller does.
 */
export const ValuesReference = z.looseObject({
  kind: z.string().min(1),
  name: z.string().min(1),
  valuesKey: z.string().optional(),
  targetPath: z.string().optional(),
  optional: z.boolean().optional(),
  literal: z.boolean().optional(),
});
export type ValuesReference = z.infer<typeof ValuesReference>;

export const SubstituteReference = z.looseObject({
  kind: z.enum(["ConfigMap", "Secret"]),
  name: z.string().min(1),
  optional: z.boolean().optional(),
});
export type SubstituteReference = z.infer<typeof SubstituteReference>;

export const PostBuild = z.looseObject({
  substitute: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  substituteFrom: z.array(SubstituteReference).optional(),
});
export type PostBuild = z.infer<typeof PostBuild>;

export const Kustomization = z.looseObject({
  apiVersion: fluxApiVersion("Kustomization"),
  kind: z.literal("Kustomization"),
  metadata: Metadata,
  spec: z.looseObject({
    path: z.string().optional(),
    sourceRef: CrossNamespaceRef,
    suspend: z.boolean().optional(),
    dependsOn: z.array(DependsOnRef).optional(),
    targetNamespace: z.string().optional(),
    namePrefix: z.string().optional(),
    nameSuffix: z.string().optional(),
    ...KustomizeOverlay,
    components: z.array(z.string()).optional(),
    ignoreMissingComponents: z.boolean().optional(),
    commonMetadata: z
      .looseObject({
        labels: z.record(z.string(), z.string()).optional(),
        annotations: z.record(z.string(), z.string()).optional(),
      })
      .optional(),
    postBuild: PostBuild.optional(),
    substituteStrategy: z.string().optional(),
  }),
});
export type Kustomization = z.infer<typeof Kustomization>;

const SecretRef = z.looseObject({ name: z.string().min(1) });

/** The spec of a GitRepository, as the Git fetcher reads it. */
export const GitRepositorySpec = z.looseObject({
  url: z.string().min(1),
  ref: z
    .looseObject({
      branch: z.string().optional(),
      tag: z.string().optional(),
      semver: z.string().optional(),
      commit: z.string().optional(),
      name: z.string().optional(),
    })
    .optional(),
  secretRef: SecretRef.optional(),
  ignore: z.string().optional(),
  timeout: z.string().optional(),
  recurseSubmodules: z.boolean().optional(),
  include: z
    .array(
      z.looseObject({
        repository: z.looseObject({ name: z.string().min(1) }),
        fromPath: z.string().optional(),
        toPath: z.string().optional(),
      }),
    )
    .optional(),
  suspend: z.boolean().optional(),
});
export type GitRepositorySpec = z.infer<typeof GitRepositorySpec>;

export const GitRepository = z.looseObject({
  apiVersion: fluxApiVersion("GitRepository"),
  kind: z.literal("GitRepository"),
  metadata: Metadata,
  spec: GitRepositorySpec,
});
export type GitRepository = z.infer<typeof GitRepository>;

/** The spec of an OCIRepository, as the OCI fetcher reads it. */
export const OCIRepositorySpec = z.looseObject({
  url: z.string().min(1),
  ref: z
    .looseObject({
      tag: z.string().optional(),
      semver: z.string().optional(),
      semverFilter: z.string().optional(),
      digest: z.string().optional(),
    })
    .optional(),
  layerSelector: z
    .looseObject({ mediaType: z.string().optional(), operation: z.string().optional() })
    .optional(),
  secretRef: SecretRef.optional(),
  provider: z.string().optional(),
  insecure: z.boolean().optional(),
  ignore: z.string().optional(),
  timeout: z.string().optional(),
  suspend: z.boolean().optional(),
});
export type OCIRepositorySpec = z.infer<typeof OCIRepositorySpec>;

export const OCIRepository = z.looseObject({
  apiVersion: fluxApiVersion("OCIRepository"),
  kind: z.literal("OCIRepository"),
  metadata: Metadata,
  spec: OCIRepositorySpec,
});
export type OCIRepository = z.infer<typeof OCIRepository>;

export const HelmRepository = z.looseObject({
  apiVersion: fluxApiVersion("HelmRepository"),
  kind: z.literal("HelmRepository"),
  metadata: Metadata,
  spec: z.looseObject({
    url: z.string(),
    type: z.enum(["default", "oci"]).optional(),
    secretRef: SecretRef.optional(),
    insecure: z.boolean().optional(),
    passCredentials: z.boolean().optional(),
    suspend: z.boolean().optional(),
  }),
});
export type HelmRepository = z.infer<typeof HelmRepository>;

/**
 * Which version of the chart, where it comes from and which values files it
 * brings: a HelmChart's spec, and a HelmRelease's `spec.chart.spec` (the
 * template of one), beside `chart`.
 */
const ChartSpecFields = {
  version: z.string().optional(),
  sourceRef: CrossNamespaceRef,
  valuesFiles: z.array(z.string()).optional(),
  /** Deprecated: merged before `valuesFiles`. */
  valuesFile: z.string().optional(),
  ignoreMissingValuesFiles: z.boolean().optional(),
};

export const HelmChart = z.looseObject({
  apiVersion: fluxApiVersion("HelmChart"),
  kind: z.literal("HelmChart"),
  metadata: Metadata,
  spec: z.looseObject({
    chart: z.string(),
    ...ChartSpecFields,
    suspend: z.boolean().optional(),
  }),
});
export type HelmChart = z.infer<typeof HelmChart>;

export const Bucket = z.looseObject({
  apiVersion: fluxApiVersion("Bucket"),
  kind: z.literal("Bucket"),
  metadata: Metadata,
  spec: z.looseObject({ bucketName: z.string().optional() }),
});

export const ExternalArtifact = z.looseObject({
  apiVersion: fluxApiVersion("ExternalArtifact"),
  kind: z.literal("ExternalArtifact"),
  metadata: Metadata,
  spec: z.looseObject({}).optional(),
});

export const ChartTemplateSpec = z.looseObject({ chart: z.string().min(1), ...ChartSpecFields });
export type ChartTemplateSpec = z.infer<typeof ChartTemplateSpec>;

/** `spec.install` and `spec.upgrade`: the fields that change what helm renders. */
export const HelmAction = z.looseObject({
  crds: z.enum(["Skip", "Create", "CreateReplace"]).optional(),
  skipCRDs: z.boolean().optional(),
  disableHooks: z.boolean().optional(),
  disableOpenAPIValidation: z.boolean().optional(),
  disableSchemaValidation: z.boolean().optional(),
});
export type HelmAction = z.infer<typeof HelmAction>;

export const PostRenderer = z.looseObject({
  kustomize: z.looseObject(KustomizeOverlay).optional(),
});

/** helm.toolkit.fluxcd.io v2, v2beta1 and v2beta2. */
export const HelmRelease = z.looseObject({
  apiVersion: fluxApiVersion("HelmRelease"),
  kind: z.literal("HelmRelease"),
  metadata: Metadata,
  spec: z.looseObject({
    releaseName: z.string().optional(),
    targetNamespace: z.string().optional(),
    storageNamespace: z.string().optional(),
    suspend: z.boolean().optional(),
    dependsOn: z.array(DependsOnRef).optional(),
    chart: z.looseObject({ spec: ChartTemplateSpec }).optional(),
    chartRef: CrossNamespaceRef.optional(),
    values: z.record(z.string(), z.unknown()).nullish(),
    valuesFrom: z.array(ValuesReference).optional(),
    install: HelmAction.optional(),
    upgrade: HelmAction.optional(),
    postRenderers: z.array(PostRenderer).optional(),
  }),
});
export type HelmRelease = z.infer<typeof HelmRelease>;

export const LabelSelector = z.looseObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z.looseObject({
        key: z.string(),
        operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});
export type LabelSelector = z.infer<typeof LabelSelector>;

/** Flux Operator's ResourceSet (`fluxcd.controlplane.io/v1`). */
export const ResourceSet = z.looseObject({
  apiVersion: fluxApiVersion("ResourceSet"),
  kind: z.literal("ResourceSet"),
  metadata: Metadata,
  spec: z
    .looseObject({
      inputs: z.array(z.record(z.string(), z.unknown())).optional(),
      inputsFrom: z
        .array(
          z.looseObject({
            apiVersion: z.string().optional(),
            kind: z.literal("ResourceSetInputProvider"),
            name: z.string().optional(),
            selector: LabelSelector.optional(),
          }),
        )
        .optional(),
      inputStrategy: z
        .looseObject({
          name: z.enum(["Flatten", "Permute"]),
          includeEmptyProviders: z.boolean().optional(),
        })
        .optional(),
      resources: z.array(z.record(z.string(), z.unknown())).optional(),
      resourcesTemplate: z.string().optional(),
      dependsOn: z
        .array(
          z.looseObject({
            apiVersion: z.string().optional(),
            kind: z.string(),
            name: z.string().min(1),
            namespace: z.string().optional(),
            ready: z.boolean().optional(),
            readyExpr: z.string().optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});
export type ResourceSet = z.infer<typeof ResourceSet>;

export const ResourceSetInputProvider = z.looseObject({
  apiVersion: fluxApiVersion("ResourceSetInputProvider"),
  kind: z.literal("ResourceSetInputProvider"),
  metadata: Metadata,
  spec: z
    .looseObject({
      type: z.string().optional(),
      defaultValues: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  status: z
    .looseObject({ exportedInputs: z.array(z.record(z.string(), z.unknown())).optional() })
    .optional(),
});
export type ResourceSetInputProvider = z.infer<typeof ResourceSetInputProvider>;

/** One copy operation of an ArtifactGenerator artifact. */
export const CopyOperation = z.looseObject({
  from: z.string().regex(/^@[^/]+\//, "must be @alias/path"),
  to: z.string().startsWith("@artifact/", "must start with @artifact/"),
  exclude: z.array(z.string()).optional(),
  strategy: z.enum(["Overwrite", "Merge", "Extract"]).optional(),
});
export type CopyOperation = z.infer<typeof CopyOperation>;

/** source-watcher's ArtifactGenerator: ExternalArtifacts composed from other sources. */
export const ArtifactGenerator = z.looseObject({
  apiVersion: fluxApiVersion("ArtifactGenerator"),
  kind: z.literal("ArtifactGenerator"),
  metadata: Metadata,
  spec: z.looseObject({
    sources: z
      .array(
        z.looseObject({
          alias: z
            .string()
            .regex(/^[a-zA-Z0-9_-]+$/, "only letters, digits, dashes and underscores"),
          kind: z.enum([
            "GitRepository",
            "OCIRepository",
            "Bucket",
            "HelmChart",
            "ExternalArtifact",
          ]),
          name: z.string().min(1),
          namespace: z.string().optional(),
        }),
      )
      .min(1),
    artifacts: z
      .array(
        z.looseObject({
          name: z.string().min(1),
          revision: z.string().optional(),
          originRevision: z.string().optional(),
          copy: z.array(CopyOperation).min(1),
        }),
      )
      .min(1),
  }),
});
export type ArtifactGenerator = z.infer<typeof ArtifactGenerator>;

export const ConfigMap = z.looseObject({
  apiVersion: z.literal("v1"),
  kind: z.literal("ConfigMap"),
  metadata: Metadata,
  data: z.record(z.string(), z.string()).nullish(),
  binaryData: z.record(z.string(), z.string()).nullish(),
});
export type ConfigMap = z.infer<typeof ConfigMap>;

export const Secret = z.looseObject({
  apiVersion: z.literal("v1"),
  kind: z.literal("Secret"),
  metadata: Metadata,
  type: z.string().optional(),
  data: z.record(z.string(), z.string()).nullish(),
  stringData: z.record(z.string(), z.string()).nullish(),
});
export type Secret = z.infer<typeof Secret>;

/** The Flux kinds we reconcile, by `group/kind`. */
export const FLUX_SCHEMAS = {
  "kustomize.toolkit.fluxcd.io/Kustomization": Kustomization,
  "helm.toolkit.fluxcd.io/HelmRelease": HelmRelease,
  "source.toolkit.fluxcd.io/GitRepository": GitRepository,
  "source.toolkit.fluxcd.io/OCIRepository": OCIRepository,
  "source.toolkit.fluxcd.io/HelmRepository": HelmRepository,
  "source.toolkit.fluxcd.io/HelmChart": HelmChart,
  "source.toolkit.fluxcd.io/Bucket": Bucket,
  "source.toolkit.fluxcd.io/ExternalArtifact": ExternalArtifact,
  "source.extensions.fluxcd.io/ArtifactGenerator": ArtifactGenerator,
  "fluxcd.controlplane.io/ResourceSet": ResourceSet,
  "fluxcd.controlplane.io/ResourceSetInputProvider": ResourceSetInputProvider,
} as const;

/** Render a zod error as one short line naming the failing fields. */
export function describeSchemaError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "(root)"}: ${issue.message}`)
    .join("; ");
}

/** What every reconciled kind shares: `spec.suspend`. */
export const Suspendable = z.looseObject({
  spec: z.looseObject({ suspend: z.boolean().optional() }).nullish(),
});

/** The kinds the store holds typed, by kind name (store references carry the kind only). */
export const KIND_SCHEMAS = {
  Kustomization,
  HelmRelease,
  GitRepository,
  OCIRepository,
  HelmRepository,
  HelmChart,
  Bucket,
  ExternalArtifact,
  ArtifactGenerator,
  ResourceSet,
  ResourceSetInputProvider,
  ConfigMap,
  Secret,
} as const;
export type TypedKind = keyof typeof KIND_SCHEMAS;
export type TypedObject<K extends TypedKind> = z.infer<(typeof KIND_SCHEMAS)[K]>;
