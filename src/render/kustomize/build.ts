/**
 * Building one Flux Kustomization's directory with the real kustomize binary,
 * as kustomize-controller does: the kustomization file generated when absent,
 * the Flux spec applied in place, load restrictions off, no plugins.
 */
import path from "node:path";
import { parse } from "yaml";
import type { IgnoreRules } from "../../discovery/ignore.js";
import { dumpYaml, parseYamlDocuments } from "../../discovery/yaml.js";
import type { KubeObject } from "../../flux/objects.js";
import type { Kustomization } from "../../flux/schema.js";
import { InputError, RenderError } from "../../util/errors.js";
import { isAmbiguousPlainString } from "../../util/yaml.js";
import { isInside } from "../../flux/paths.js";
import { findKustomizationFile } from "./files.js";
import { generateKustomization } from "./generate.js";
import { jsonExact, renderCacheKey, type RenderStore } from "./cache.js";
import { buildInMirror, reachedEntries } from "./mirror.js";
import { applyFluxSpec } from "./overlay.js";
import {
  KustomizeFailure,
  ProcessRunner,
  type KustomizeOutput,
  type KustomizeRunner,
} from "./runner.js";
import { checkKustomizationTree, readYamlText, type TreeReads } from "./safety.js";
import { originFiles, planOrigins } from "./origins.js";
import { FileFacts } from "../file-facts.js";
import {
  factsReader,
  kustomizeInputs,
  MISSING,
  withFiles,
  withPart,
  type RenderInputs,
} from "../inputs.js";
import type { RenderMemo } from "../memo.js";

export interface KustomizeBuildRequest {
  /** Source root (absolute). */
  root: string;
  /** Directory to build (absolute, inside root). */
  dir: string;
  spec: Kustomization["spec"];
  /** Ignore rules in force at `dir` (for a generated kustomization), or how to read them when needed. */
  ignore: IgnoreRules | (() => Promise<IgnoreRules>);
  /** Parent folder for scratch directories. */
  scratchDir: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Who runs kustomize (the run's worker pool); default: one process per build. */
  runner?: KustomizeRunner;
  /** Share builds with equal inputs (both sides of a diff, a render cache). */
  memo?: RenderMemo;
  /** Told the build's inputs fingerprint before it runs. */
  onInputs?: (inputs: RenderInputs) => void;
  /** The render cache (none with --no-cache): kustomize's output by build key. */
  cache?: RenderStore;
  /** The run's file facts (each source file looked at once per run); default: the build's own. */
  facts?: FileFacts;
  /**
   * The objects whose file the caller needs (default: every object). Only
   * they get one when the tree tells where they came from (origins.ts);
   * otherwise kustomize is asked, and every object gets one.
   */
  filesFor?: (object: KubeObject) => boolean;
}

export interface BuiltObject {
  object: KubeObject;
  /** Absolute path of the file the object came from, when kustomize reports it. */
  file?: string;
}

const ORIGIN_ANNOTATION = "config.kubernetes.io/origin";

export async function kustomizeBuild(request: KustomizeBuildRequest): Promise<BuiltObject[]> {
  const facts = request.facts ?? new FileFacts();
  const realRoot = facts.realpath(request.root);
  let realDir: string;
  try {
    realDir = facts.realpath(request.dir);
  } catch {
    throw new InputError(`path ${request.dir} does not exist`);
  }
  if (!isInside(realRoot, realDir)) {
    throw new InputError(`path ${request.dir} resolves outside the source root ${request.root}`);
  }
  if (!facts.stat(realDir).isDirectory())
    throw new InputError(`path ${request.dir} is not a directory`);

  const existing = findKustomizationFile(realDir, facts);
  let original: Record<string, unknown>;
  let docFile: string;
  if (existing) {
    docFile = existing;
    const parsed = parseYamlDocuments(facts.read(existing).toString("utf8"));
    const bad = parsed.errors[0];
    if (bad)
      throw new InputError(`${existing}:${bad.line}: ${bad.message}`, {
        file: existing,
        line: bad.line,
      });
    original = parsed.documents[0]?.object ?? {};
  } else {
    docFile = path.join(realDir, "kustomization.yaml (generated)");
    // Read only now: a folder with its own kustomization needs no ignore rules.
    const rules = typeof request.ignore === "function" ? await request.ignore() : request.ignore;
    original = { ...(await generateKustomization(realDir, rules, realRoot, facts)) };
  }

  const existingComponents = new Set<string>();
  for (const component of request.spec.components ?? []) {
    try {
      facts.stat(path.resolve(realDir, component));
      existingComponents.add(component);
    } catch {
      // missing: dropped when ignoreMissingComponents, else kustomize reports it
    }
  }
  const doc = applyFluxSpec(original, request.spec, { existingComponents });
  const reads = await checkKustomizationTree(realRoot, realDir, doc, docFile, {
    buildConfigs: (configDir) => buildPluginConfigs(configDir, request),
    facts,
  });

  // Flux builds without reordering: objects come out in the order of resources.
  if (doc.sortOptions === undefined) doc.sortOptions = { order: "fifo" };

  // Where each object came from, for precise error locations: told by the
  // tree when it can tell (origins.ts), else asked of kustomize, as when the
  // kustomization asks for any build metadata itself.
  const asked = Array.isArray(doc.buildMetadata) ? (doc.buildMetadata as unknown[]) : [];
  const planned =
    request.filesFor && asked.length === 0
      ? planOrigins(reads.shape, facts, request.filesFor)
      : undefined;
  const plan = planned && "documents" in planned ? planned : undefined;
  const addedOrigin = !asked.includes("originAnnotations");
  const annotated = addedOrigin ? { ...doc, buildMetadata: [...asked, "originAnnotations"] } : doc;

  const buildDoc = plan ? doc : annotated;
  const inputs = await buildInputs(realRoot, realDir, buildDoc, reads, facts);
  request.onInputs?.(inputs);
  const references = reads.topReferences;
  // A kustomization with its own OpenAPI schema is built by a fresh process,
  // as kustomize-controller would: the schema is process-wide.
  const runner =
    doc.openapi !== undefined ? new ProcessRunner() : (request.runner ?? new ProcessRunner());
  const run = (what: Record<string, unknown>, whatInputs: RenderInputs, strip: boolean) =>
    runKustomize(
      request,
      runner,
      realRoot,
      realDir,
      what,
      references,
      strip,
      whatInputs,
      facts,
    ).catch((err: unknown) => {
      throw locateDuplicateKey(err, realRoot, whatInputs.files) ?? err;
    });
  const build = async (): Promise<BuiltObject[]> => {
    if (!plan || !request.filesFor) return run(annotated, inputs, addedOrigin);
    const built = await run(doc, inputs, false);
    const objects = built.map((b) => b.object);
    const files = objects.some(hasOrigin)
      ? undefined
      : originFiles(objects, plan, request.filesFor);
    if (files) {
      return objects.map((object, i) => {
        const file = files[i];
        return file === undefined ? { object } : { object, file: path.relative(realRoot, file) };
      });
    }
    // An object the tree cannot place: ask kustomize after all.
    return run(
      annotated,
      await buildInputs(realRoot, realDir, annotated, reads, facts),
      addedOrigin,
    );
  };
  const built = request.memo
    ? await request.memo.run(`kustomize:${inputs.key}`, build)
    : await build();
  // Origins are kept relative to the source root, so a shared build serves any checkout.
  return built.map(({ object, file }) =>
    file === undefined ? { object } : { object, file: path.resolve(realRoot, file) },
  );
}

/**
 * The build's render inputs fingerprint: the document and the files it reaches
 * (../inputs.ts), plus whatever else the safety check found kustomize opens:
 * files reached through links (where they really are), every kustomization
 * file name of each folder built, the files plugin configs name, and the
 * configs built from folders. The render cache and diff trust this key, so
 * it must cover everything the build reads.
 */
async function buildInputs(
  realRoot: string,
  realDir: string,
  doc: Record<string, unknown>,
  reads: TreeReads,
  facts: FileFacts,
): Promise<RenderInputs> {
  let inputs = await kustomizeInputs(realRoot, realDir, doc, factsReader(facts));
  const extra: Record<string, string> = {};
  for (const [file, what] of reads.opened) {
    const key = path.relative(realRoot, file).split(path.sep).join("/");
    if (key in inputs.files) continue;
    if (what === "missing") {
      extra[key] = MISSING;
      continue;
    }
    extra[key] = facts.digest(file) ?? MISSING;
  }
  inputs = withFiles(inputs, extra);
  if (reads.builtConfigs.length > 0) inputs = withPart(inputs, "pluginConfigs", reads.builtConfigs);
  return inputs;
}

/**
 * kustomize's output for `doc` in `realDir`, from the render cache (keyed by
 * the build's inputs fingerprint and the builder) or by running it.
 */
async function runKustomize(
  request: KustomizeBuildRequest,
  runner: KustomizeRunner,
  realRoot: string,
  realDir: string,
  doc: Record<string, unknown>,
  references: readonly string[],
  addedOrigin: boolean,
  inputs: RenderInputs,
  facts: FileFacts,
): Promise<BuiltObject[]> {
  const key = request.cache ? renderCacheKey(inputs.key, await runner.identity()) : undefined;
  const cached = key ? await request.cache?.get(key) : undefined;
  let objects = cached === undefined ? undefined : decodeCached(cached);
  if (objects === undefined) {
    const output: KustomizeOutput =
      cached !== undefined
        ? { yaml: cached }
        : await build(request, runner, realRoot, realDir, doc, references, facts);
    let entry: string;
    if ("objects" in output) {
      // The worker's JSON holds every value exactly (worker/objects.go).
      objects = output.objects;
      entry = JSON_ENTRY + (output.json ?? JSON.stringify(objects));
    } else {
      const parsed = parseYamlDocuments(output.yaml);
      if (parsed.errors[0])
        throw new RenderError(`kustomize produced invalid YAML: ${parsed.errors[0].message}`);
      objects = parsed.documents.map(({ object }) => object);
      entry = encodeCached(objects, output.yaml);
    }
    if (key && cached === undefined) await request.cache?.put(key, entry);
  }
  return objects.map((object) => {
    const built = takeOrigin(object, realDir, addedOrigin);
    return built.file === undefined
      ? built
      : { object: built.object, file: path.relative(realRoot, built.file) };
  });
}

/**
 * A cache entry: kustomize's output parsed, as JSON (read back far faster than
 * YAML), when JSON holds every value exactly; otherwise the YAML itself.
 */
const JSON_ENTRY = "json\n";

function encodeCached(objects: readonly KubeObject[], yaml: string): string {
  return jsonExact(objects) ? JSON_ENTRY + JSON.stringify(objects) : yaml;
}

function decodeCached(text: string): KubeObject[] | undefined {
  if (!text.startsWith(JSON_ENTRY)) return undefined; // YAML: parsed by the caller
  return JSON.parse(text.slice(JSON_ENTRY.length)) as KubeObject[];
}

/**
 * Run kustomize on `realDir` with `doc` as its kustomization: the worker takes
 * it in the request (nothing written); a kustomize process builds a mirror.
 */
async function build(
  request: KustomizeBuildRequest,
  runner: KustomizeRunner,
  realRoot: string,
  realDir: string,
  doc: Record<string, unknown>,
  references: readonly string[],
  facts: FileFacts,
): Promise<KustomizeOutput> {
  const kustomization = dumpYaml(doc);
  const options = {
    loadRestrictionsNone: true,
    signal: request.signal,
    timeoutMs: request.timeoutMs,
  };
  try {
    const overlay = {
      root: realRoot,
      kustomization,
      reach: reachedEntries(realRoot, realDir, references),
    };
    return (
      (await runner.buildOverlay(realDir, overlay, options)) ??
      (await buildInMirror(
        runner,
        {
          root: realRoot,
          dir: realDir,
          kustomization,
          references,
          scratchDir: request.scratchDir,
          facts,
        },
        options,
      ))
    );
  } catch (err) {
    if (err instanceof KustomizeFailure) {
      throw new RenderError(`kustomize build failed: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/**
 * kustomize refuses a key defined twice in one mapping, but names no file and
 * counts lines from somewhere else. Find the file among those the build reads
 * and say where, in that file's lines.
 */
function locateDuplicateKey(
  err: unknown,
  realRoot: string,
  files: Record<string, string>,
): RenderError | undefined {
  if (!(err instanceof RenderError)) return undefined;
  const key = /mapping key "([^"]*)" already defined/.exec(err.message)?.[1];
  if (key === undefined) return undefined;
  for (const [rel, digest] of Object.entries(files)) {
    if (digest === MISSING || rel.endsWith("/")) continue;
    let text: string;
    try {
      text = readYamlText(path.join(realRoot, rel), rel);
    } catch {
      continue;
    }
    for (const doc of parseYamlDocuments(text).documents) {
      const dup = doc.duplicateKey;
      if (!dup || dup.path.split(".").at(-1) !== key) continue;
      return new RenderError(
        `kustomize build failed: ${rel}:${dup.line}: key ${dup.path} is defined twice (lines ${dup.firstLine} and ${dup.line}); kustomize refuses duplicate keys`,
        { cause: err },
      );
    }
  }
  return undefined;
}

/**
 * The objects of a folder listed under generators/transformers/validators (its
 * tree already checked): kustomize uses them as plugin configs, so the safety
 * check reads the files they name.
 */
async function buildPluginConfigs(dir: string, request: KustomizeBuildRequest): Promise<unknown[]> {
  try {
    const stdout = await (request.runner ?? new ProcessRunner()).build(dir, {
      loadRestrictionsNone: true,
      signal: request.signal,
      timeoutMs: request.timeoutMs,
    });
    return parseYamlDocuments(stdout).documents.map((d) => d.object);
  } catch (err) {
    if (err instanceof KustomizeFailure)
      throw new RenderError(`kustomize build of plugin configs in ${dir} failed: ${err.message}`, {
        cause: err,
      });
    throw err;
  }
}

/**
 * The `path` of kustomize's origin annotation. Nearly always the single line
 * `path: some/file.yaml`, read without the YAML parser when its plain form is
 * a string to every reader; anything else is parsed.
 */
function originPath(raw: string): unknown {
  const simple = /^path: ([A-Za-z0-9_./-]+)\n?$/.exec(raw)?.[1];
  if (simple !== undefined && !isAmbiguousPlainString(simple)) return simple;
  return (parse(raw) as { path?: unknown } | null)?.path;
}

function hasOrigin(object: KubeObject): boolean {
  return object.metadata?.annotations?.[ORIGIN_ANNOTATION] !== undefined;
}

function takeOrigin(object: KubeObject, dir: string, strip: boolean): BuiltObject {
  const annotations = object.metadata?.annotations;
  const raw = annotations?.[ORIGIN_ANNOTATION];
  let file: string | undefined;
  if (typeof raw === "string") {
    const rel = originPath(raw);
    if (typeof rel === "string" && !rel.includes("://")) file = path.resolve(dir, rel);
    if (strip && annotations && object.metadata) {
      delete annotations[ORIGIN_ANNOTATION];
      if (Object.keys(annotations).length === 0) delete object.metadata.annotations;
    }
  }
  return file ? { object, file } : { object };
}
