/**
 * zod schemas of what the HelmRelease controller reads: the HelmRelease
 * (helm.toolkit.fluxcd.io v2, v2beta1, v2beta2), and the chart sources it
 * points at. Only the fields used; unknown fields are kept.
 */
import { z } from "zod";
import {
  DependsOnRef,
  HelmChart as FluxHelmChart,
  HelmRepository as FluxHelmRepository,
  Image,
  Patch,
} from "../../flux/schema.js";

const Metadata = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().optional(),
});

const SourceRef = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().min(1),
  name: z.string().min(1),
  namespace: z.string().optional(),
});
export type SourceRef = z.infer<typeof SourceRef>;

export const ValuesReference = z.looseObject({
  kind: z.string().min(1),
  name: z.string().min(1),
  valuesKey: z.string().optional(),
  targetPath: z.string().optional(),
  optional: z.boolean().optional(),
  literal: z.boolean().optional(),
});
export type ValuesReference = z.infer<typeof ValuesReference>;

const CrdsPolicy = z.enum(["Skip", "Create", "CreateReplace"]);

const Action = z.looseObject({
  crds: CrdsPolicy.optional(),
  skipCRDs: z.boolean().optional(),
  disableHooks: z.boolean().optional(),
  disableOpenAPIValidation: z.boolean().optional(),
  disableSchemaValidation: z.boolean().optional(),
});
export type HelmAction = z.infer<typeof Action>;

const PatchTarget = z.looseObject({
  group: z.string().optional(),
  version: z.string().optional(),
  kind: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
  labelSelector: z.string().optional(),
  annotationSelector: z.string().optional(),
});

export const PostRenderer = z.looseObject({
  kustomize: z
    .looseObject({
      patches: z.array(Patch).optional(),
      patchesStrategicMerge: z.array(z.unknown()).optional(),
      patchesJson6902: z
        .array(z.looseObject({ patch: z.array(z.unknown()), target: PatchTarget }))
        .optional(),
      images: z.array(Image).optional(),
    })
    .optional(),
});

export const ChartTemplateSpec = z.looseObject({
  chart: z.string().min(1),
  version: z.string().optional(),
  sourceRef: SourceRef,
  valuesFiles: z.array(z.string()).optional(),
  valuesFile: z.string().optional(),
  ignoreMissingValuesFiles: z.boolean().optional(),
});
export type ChartTemplateSpec = z.infer<typeof ChartTemplateSpec>;

export const HelmRelease = z.looseObject({
  apiVersion: z.string(),
  kind: z.literal("HelmRelease"),
  metadata: Metadata,
  spec: z.looseObject({
    releaseName: z.string().optional(),
    targetNamespace: z.string().optional(),
    suspend: z.boolean().optional(),
    dependsOn: z.array(DependsOnRef).optional(),
    chart: z.looseObject({ spec: ChartTemplateSpec }).optional(),
    chartRef: SourceRef.optional(),
    values: z.record(z.string(), z.unknown()).nullish(),
    valuesFrom: z.array(ValuesReference).optional(),
    install: Action.optional(),
    upgrade: Action.optional(),
    postRenderers: z.array(PostRenderer).optional(),
  }),
});
export type HelmRelease = z.infer<typeof HelmRelease>;

/** Fields of the source kinds that flux/schema.ts does not type. */
export const HelmRepository = FluxHelmRepository.extend({
  spec: FluxHelmRepository.shape.spec.extend({
    insecure: z.boolean().optional(),
    passCredentials: z.boolean().optional(),
  }),
});

export const HelmChart = FluxHelmChart.extend({
  spec: FluxHelmChart.shape.spec.extend({
    valuesFile: z.string().optional(),
    ignoreMissingValuesFiles: z.boolean().optional(),
  }),
});
