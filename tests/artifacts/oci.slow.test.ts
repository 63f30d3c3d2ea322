/**
 * OCIRepository fetching end to end against a real registry (Debian's
 * docker-registry on loopback, htpasswd basic auth), with Flux artifacts the
 * tests push: a config blob and a tar+gzip content layer.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { render, type RenderRequest } from "../../src/run.js";
import { collectFailures, formatFailures } from "../../src/views/failures.js";
import { startBlackhole } from "../support/git-server.js";
import { startRegistry, type Registry } from "../support/registry.js";
import { makeRepo, type TempRepo } from "../support/repo.js";
import {
  allMessages,
  configMapYaml,
  kustomizationOf,
  ociRepository,
  producedData,
  revisionOf,
  secretManifest,
  statusOf,
} from "./helpers/fixtures.js";
import { FLUX_CONTENT, pushArtifact } from "./helpers/oci.js";
import { tarGz, type TarEntry } from "./helpers/tar.js";

// htpasswd entry for flux-user / flux-pass (bcrypt, cost 5), made once with
// libxcrypt's crypt(3); the registry checks it with Go's bcrypt.
const HTPASSWD = "flux-user:$2b$05$Wf3lLP/k.rswwu6SESE6Fu9I.xQc2PDxOekX0BscWuM00I4uNt4Jy\n";
const USER = "flux-user";
const PASSWORD = "flux-pass";
const AUTH = { basic: `${USER}:${PASSWORD}` };

let registry: Registry;
let sandbox: string;
let cacheDir: string;
const cleanups: Array<() => Promise<void>> = [];
const digests: Record<string, string> = {};

const layer = (v: string, extra: TarEntry[] = []) =>
  tarGz([
    { name: "apps/", type: "5" },
    { name: "apps/cm.yaml", content: configMapYaml("app", { v }) },
    ...extra,
  ]);

beforeAll(async () => {
  registry = await startRegistry({ htpasswd: HTPASSWD });
  for (const v of ["1.0.0", "1.1.0", "2.0.0-rc.1"]) {
    digests[v] = await pushArtifact(registry.host, "fleet/apps", v, layer(v), AUTH);
  }
  digests.multi = await pushArtifact(
    registry.host,
    "fleet/multi",
    "v1",
    tarGz([{ name: "readme.md", content: "docs" }]),
    {
      ...AUTH,
      layerMediaType: "application/vnd.example.docs.v1.tar+gzip",
      extraLayers: [{ data: layer("from-second-layer"), mediaType: FLUX_CONTENT }],
    },
  );
  digests.ignored = await pushArtifact(
    registry.host,
    "fleet/ignored",
    "v1",
    layer("kept", [
      { name: "apps/drop.yaml", content: "x: 1\n" },
      { name: "logo.png", content: "png" },
    ]),
    AUTH,
  );
});
afterAll(async () => {
  await registry.stop();
});
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function newSandbox(): Promise<void> {
  sandbox = await mkdtemp(path.join(os.tmpdir(), "flux-local-oci-"));
  cacheDir = path.join(sandbox, "cache");
  cleanups.push(() => rm(sandbox, { recursive: true, force: true }));
}

async function fleet(files: Record<string, string>): Promise<TempRepo> {
  const repo = await makeRepo(files, { git: false });
  cleanups.push(() => repo.cleanup());
  return repo;
}

const dockerConfigSecret = (user: string, password: string, host = registry.host) =>
  secretManifest(
    "regcred",
    { ".dockerconfigjson": JSON.stringify({ auths: { [host]: { username: user, password } } }) },
    "kubernetes.io/dockerconfigjson",
  );

async function run(root: string, extra: Partial<RenderRequest> = {}) {
  // An empty docker config by default, so the user's own never leaks in.
  const registryConfig = extra.registryConfig ?? path.join(sandbox, "empty-config.json");
  await writeFile(path.join(sandbox, "empty-config.json"), "{}");
  return render({
    path: root,
    cacheDir,
    concurrency: 4,
    fetchAllSources: true,
    ...extra,
    registryConfig,
  });
}

async function withSecret(
  files: Record<string, string>,
  secret = dockerConfigSecret(USER, PASSWORD),
) {
  const f = await fleet(files);
  const secretFile = path.join(sandbox, "secret.yaml");
  await writeFile(secretFile, secret);
  return { f, secretFiles: [secretFile] };
}

const OCI = (name: string) => `OCIRepository/flux-system/${name}`;
const KS = (name: string) => `Kustomization/flux-system/${name}`;
const src = (name: string) => ({ kind: "OCIRepository", name });

describe("OCIRepository from a registry", () => {
  it("resolves tag, semver, semverFilter and digest with Flux revisions", async () => {
    await newSandbox();
    const url = `oci://${registry.host}/fleet/apps`;
    const cases: Array<[string, Record<string, unknown>, string, string]> = [
      ["tag", { tag: "1.0.0" }, `1.0.0@${digests["1.0.0"]}`, "1.0.0"],
      ["semver", { semver: "1.x" }, `1.1.0@${digests["1.1.0"]}`, "1.1.0"],
      [
        "filtered",
        { semver: ">=1.0.0-0", semverFilter: ".*-rc.*" },
        `2.0.0-rc.1@${digests["2.0.0-rc.1"]}`,
        "2.0.0-rc.1",
      ],
      ["digest", { digest: digests["1.0.0"] }, `${digests["1.0.0"]}`, "1.0.0"],
    ];
    const files: Record<string, string> = {};
    for (const [name, ref] of cases) {
      files[`clusters/${name}.yaml`] =
        ociRepository(name, { url, ref, insecure: true, secretRef: { name: "regcred" } }) +
        kustomizationOf(name, src(name), "./apps");
    }
    const { f, secretFiles } = await withSecret(files);
    const result = await run(f.root, { secretFiles });
    for (const [name, , revision, v] of cases) {
      expect(
        statusOf(result, OCI(name)).phase,
        `${name}: ${statusOf(result, OCI(name)).message}`,
      ).toBe("Ready");
      expect(revisionOf(result, OCI(name))).toBe(revision);
      expect(producedData(result, name)).toEqual({ app: { v } });
    }
  });

  it("selects a layer by media type, extracts or copies it, and applies spec.ignore", async () => {
    await newSandbox();
    const { f, secretFiles } = await withSecret({
      "clusters/a.yaml":
        ociRepository("second", {
          url: `oci://${registry.host}/fleet/multi`,
          ref: { tag: "v1" },
          insecure: true,
          secretRef: { name: "regcred" },
          layerSelector: { mediaType: FLUX_CONTENT, operation: "extract" },
        }) +
        kustomizationOf("second", src("second"), "./apps") +
        ociRepository("first", {
          url: `oci://${registry.host}/fleet/multi`,
          ref: { tag: "v1" },
          insecure: true,
          secretRef: { name: "regcred" },
        }) +
        ociRepository("copy", {
          url: `oci://${registry.host}/fleet/apps`,
          ref: { tag: "1.0.0" },
          insecure: true,
          secretRef: { name: "regcred" },
          layerSelector: { mediaType: FLUX_CONTENT, operation: "copy" },
        }) +
        ociRepository("ignored", {
          url: `oci://${registry.host}/fleet/ignored`,
          ref: { tag: "v1" },
          insecure: true,
          secretRef: { name: "regcred" },
          ignore: "apps/drop.yaml\n",
        }),
    });
    const result = await run(f.root, { secretFiles });
    expect(producedData(result, "second")).toEqual({ app: { v: "from-second-layer" } });
    const pathOf = (name: string) => {
      const a = result.store.get(OCI(name))?.artifact;
      return a?.type === "source" ? a.path : "";
    };
    expect(await readdir(pathOf("first"))).toEqual(["readme.md"]);
    expect(await readdir(pathOf("copy"))).toEqual([`${digests["1.0.0"]}.tgz`]);
    expect(
      (await readFile(path.join(pathOf("copy"), `${digests["1.0.0"]}.tgz`))).equals(layer("1.0.0")),
    ).toBe(true);
    expect((await readdir(pathOf("ignored"), { recursive: true })).map(String).sort()).toEqual([
      "apps",
      "apps/cm.yaml",
    ]);
  });

  it("takes credentials from --registry-config, and reports refused or missing ones without printing them", async () => {
    await newSandbox();
    const url = `oci://${registry.host}/fleet/apps`;
    const config = path.join(sandbox, "config.json");
    await writeFile(
      config,
      JSON.stringify({
        auths: {
          [`http://${registry.host}`]: {
            auth: Buffer.from(`${USER}:${PASSWORD}`).toString("base64"),
          },
        },
      }),
    );
    const f = await fleet({
      "clusters/a.yaml":
        ociRepository("a", { url, ref: { tag: "1.0.0" }, insecure: true }) +
        ociRepository("wrong", {
          url: `oci://${registry.host}/fleet/apps`,
          ref: { tag: "1.1.0" },
          insecure: true,
          secretRef: { name: "regcred" },
        }) +
        kustomizationOf("wrong", src("wrong"), "./apps"),
    });
    const secretFile = path.join(sandbox, "wrong.yaml");
    await writeFile(secretFile, dockerConfigSecret(USER, "not-the-password-42"));
    const result = await run(f.root, { registryConfig: config, secretFiles: [secretFile] });
    expect(statusOf(result, OCI("a")).phase).toBe("Ready");
    expect(statusOf(result, OCI("wrong"))).toMatchObject({
      phase: "Failed",
      reason: "ArtifactFailed",
      message: `resolving ${registry.host}/fleet/apps:1.1.0: HTTP 401 Unauthorized (the registry refused the credentials)`,
    });
    expect(statusOf(result, KS("wrong"))).toMatchObject({
      phase: "Failed",
      rootCause: OCI("wrong"),
    });

    // (A fresh cache: the first run's cached content would be served without asking.)
    const anonymous = await run(f.root, { cacheDir: path.join(sandbox, "cache2") });
    expect(statusOf(anonymous, OCI("a")).message).toContain(
      "HTTP 401 Unauthorized (the registry needs credentials",
    );
    const text =
      allMessages(result) +
      allMessages(anonymous) +
      formatFailures(collectFailures(result, result.store.list(), f.root));
    for (const secret of [
      "not-the-password-42",
      PASSWORD,
      Buffer.from(`${USER}:not-the-password-42`).toString("base64"),
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it("reports a missing tag and a semver range that matches nothing", async () => {
    await newSandbox();
    const url = `oci://${registry.host}/fleet/apps`;
    const spec = { url, insecure: true, secretRef: { name: "regcred" } };
    const { f, secretFiles } = await withSecret({
      "clusters/a.yaml":
        ociRepository("notag", { ...spec, ref: { tag: "9.9.9" } }) +
        ociRepository("nosemver", { ...spec, ref: { semver: ">=5.0.0" } }) +
        kustomizationOf("nosemver", src("nosemver"), "./apps") +
        ociRepository("norepo", {
          ...spec,
          url: `oci://${registry.host}/fleet/none`,
          ref: { tag: "v1" },
        }) +
        ociRepository("tagged", { ...spec, url: `${url}:1.0.0` }),
    });
    const result = await run(f.root, { secretFiles });
    expect(statusOf(result, OCI("notag"))).toMatchObject({
      phase: "Failed",
      reason: "ArtifactFailed",
      message: `resolving ${registry.host}/fleet/apps:9.9.9: HTTP 404 Not Found (not found)`,
    });
    expect(statusOf(result, OCI("nosemver")).message).toBe(
      `no tag matches semver >=5.0.0 (3 tags seen) in ${registry.host}/fleet/apps`,
    );
    expect(statusOf(result, KS("nosemver"))).toMatchObject({
      phase: "Failed",
      reason: "SourceNotReady",
      rootCause: OCI("nosemver"),
    });
    expect(statusOf(result, OCI("norepo")).message).toMatch(/HTTP 404/);
    expect(statusOf(result, OCI("tagged")).message).toContain(
      "must not contain a tag; remove ':1.0.0'",
    );
  });

  it.each<[string, TarEntry]>([
    ["a .. path", { name: "../../escaped.yaml", content: "evil" }],
    [
      "an absolute path",
      { name: `/tmp/flux-local-evil-${randomBytes(4).toString("hex")}.yaml`, content: "evil" },
    ],
    ["a symlink", { name: "apps/link.yaml", type: "2", linkname: "/etc/passwd" }],
    ["a hard link", { name: "apps/hard.yaml", type: "1", linkname: "/etc/passwd" }],
    ["a device file", { name: "apps/null", type: "3" }],
  ])("refuses an artifact with %s and writes nothing outside the cache", async (what, evil) => {
    await newSandbox();
    const repo = `evil/${what.replace(/[^a-z]/g, "")}`;
    await pushArtifact(registry.host, repo, "v1", layer("evil", [evil]), AUTH);
    const { f, secretFiles } = await withSecret({
      "clusters/a.yaml":
        ociRepository("evil", {
          url: `oci://${registry.host}/${repo}`,
          ref: { tag: "v1" },
          insecure: true,
          secretRef: { name: "regcred" },
        }) + kustomizationOf("evil", src("evil"), "./apps"),
    });
    const result = await run(f.root, { secretFiles });
    expect(statusOf(result, OCI("evil"))).toMatchObject({
      phase: "Failed",
      reason: "ArtifactFailed",
    });
    expect(statusOf(result, OCI("evil")).message).toMatch(/refused archive entry/);
    expect(statusOf(result, KS("evil")).rootCause).toBe(OCI("evil"));
    // Nothing in the sandbox but the cache's own bookkeeping, and no entry kept.
    const all = (await readdir(sandbox, { recursive: true })).map(String);
    expect(all.filter((p) => p.includes("escaped") || p.includes("evil-"))).toEqual([]);
    expect(all.filter((p) => p.endsWith("content"))).toEqual([]);
    if (evil.name.startsWith("/")) await expect(stat(evil.name)).rejects.toThrow();
  });

  it("refuses a layer far larger than its manifest declares", async () => {
    await newSandbox();
    const big = tarGz([
      {
        name: "apps/cm.yaml",
        content: configMapYaml("app", { v: randomBytes(256 * 1024).toString("hex") }),
      },
    ]);
    const digest = await pushArtifact(registry.host, "fleet/liar", "v1", big, {
      ...AUTH,
      declaredSize: 512,
    });
    const { f, secretFiles } = await withSecret({
      "clusters/a.yaml": ociRepository("liar", {
        url: `oci://${registry.host}/fleet/liar`,
        ref: { tag: "v1" },
        insecure: true,
        secretRef: { name: "regcred" },
      }),
    });
    const result = await run(f.root, { secretFiles });
    expect(digest).toMatch(/^sha256:/);
    expect(statusOf(result, OCI("liar"))).toMatchObject({
      phase: "Failed",
      reason: "ArtifactFailed",
    });
    expect(statusOf(result, OCI("liar")).message).toMatch(
      /announces \d+ bytes but the manifest declares 512/,
    );
    expect(
      (await readdir(sandbox, { recursive: true }))
        .map(String)
        .filter((p) => p.endsWith("content")),
    ).toEqual([]);
  });

  it("reuses the cache across runs: with the registry gone for immutable refs, and --offline for moving ones", async () => {
    await newSandbox();
    const own = await startRegistry();
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await own.stop();
    });
    await pushArtifact(own.host, "fleet/apps", "1.0.0", layer("1.0.0"));
    const d11 = await pushArtifact(own.host, "fleet/apps", "1.1.0", layer("1.1.0"));
    const url = `oci://${own.host}/fleet/apps`;
    const f = await fleet({
      "clusters/a.yaml":
        ociRepository("pinned", { url, ref: { tag: "1.0.0" }, insecure: true }) +
        kustomizationOf("pinned", src("pinned"), "./apps") +
        ociRepository("moving", { url, ref: { semver: "1.x" }, insecure: true }) +
        kustomizationOf("moving", src("moving"), "./apps") +
        ociRepository("never", { url, ref: { tag: "latest" }, insecure: true }),
    });
    const first = await run(f.root);
    expect(statusOf(first, OCI("pinned")).phase).toBe("Ready");
    expect(revisionOf(first, OCI("moving"))).toBe(`1.1.0@${d11}`);
    await own.stop();
    stopped = true;
    // Registry gone: the pinned tag comes from the cache; semver needs the network.
    const t0 = performance.now();
    const second = await run(f.root);
    const hitMs = performance.now() - t0;
    expect(statusOf(second, OCI("pinned"))).toMatchObject({
      phase: "Ready",
      message: "from the cache",
    });
    expect(producedData(second, "pinned")).toEqual({ app: { v: "1.0.0" } });
    expect(statusOf(second, OCI("moving")).message).toMatch(/connection refused/);
    expect(hitMs).toBeLessThan(10_000);
    // --offline: the semver at its last resolved tag; a never-fetched tag is a clear error.
    const offline = await run(f.root, { offline: true });
    expect(revisionOf(offline, OCI("moving"))).toBe(`1.1.0@${d11}`);
    expect(producedData(offline, "moving")).toEqual({ app: { v: "1.1.0" } });
    expect(statusOf(offline, OCI("never")).message).toBe(
      `tag latest of oci://${own.host}/fleet/apps was never fetched into the cache and --offline is set; run once without --offline to fetch it`,
    );
  });

  it("times out on an unreachable registry", async () => {
    await newSandbox();
    const hole = await startBlackhole();
    cleanups.push(() => hole.stop());
    const host = hole.url.replace("http://", "");
    const f = await fleet({
      "clusters/a.yaml":
        ociRepository("hole", {
          url: `oci://${host}/fleet/apps`,
          ref: { tag: "v1" },
          insecure: true,
          timeout: "1s",
        }) + kustomizationOf("hole", src("hole")),
    });
    await mkdir(path.join(f.root, "apps"), { recursive: true });
    const result = await run(f.root);
    expect(statusOf(result, OCI("hole")).message).toBe(
      `HEAD http://${host}/v2/fleet/apps/manifests/v1: timed out after 1s`,
    );
    expect(statusOf(result, KS("hole"))).toMatchObject({
      phase: "Failed",
      reason: "SourceNotReady",
      rootCause: OCI("hole"),
    });
  });
});
