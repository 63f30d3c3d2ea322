import { describe, expect, it } from "vitest";
import { parseChallenge } from "../../src/artifacts/oci/client.js";
import {
  lookupDockerConfig,
  normalizeRegistryKey,
  parseDockerConfig,
} from "../../src/artifacts/oci/docker-config.js";
import {
  isOciImmutable,
  layerOperation,
  parseOciUrl,
  pickOciTag,
  planOciRef,
  selectFromIndex,
  selectLayer,
} from "../../src/artifacts/oci/reference.js";
import type { ImageManifest } from "../../src/artifacts/oci/schema.js";

const D = (c: string) => `sha256:${c.repeat(64)}`;

describe("parseOciUrl", () => {
  it("splits registry and repository", () => {
    expect(parseOciUrl("oci://ghcr.io/stefanprodan/manifests/podinfo")).toEqual({
      ok: true,
      value: { registry: "ghcr.io", repository: "stefanprodan/manifests/podinfo" },
    });
    expect(parseOciUrl("oci://127.0.0.1:5000/apps")).toEqual({
      ok: true,
      value: { registry: "127.0.0.1:5000", repository: "apps" },
    });
    expect(parseOciUrl("oci://localhost/apps").ok).toBe(true);
  });
  it("defaults to Docker Hub", () => {
    expect(parseOciUrl("oci://nginx")).toEqual({
      ok: true,
      value: { registry: "index.docker.io", repository: "library/nginx" },
    });
    expect(parseOciUrl("oci://org/app")).toEqual({
      ok: true,
      value: { registry: "index.docker.io", repository: "org/app" },
    });
  });
  it("refuses tags, digests and other schemes", () => {
    expect(parseOciUrl("oci://ghcr.io/org/app:v1")).toMatchObject({
      ok: false,
      error: expect.stringContaining("must not contain a tag; remove ':v1'"),
    });
    expect(parseOciUrl("https://ghcr.io/org/app")).toMatchObject({
      ok: false,
      error: expect.stringContaining("oci://"),
    });
    expect(parseOciUrl("oci://ghcr.io/Org/App")).toMatchObject({ ok: false });
  });
});

describe("planOciRef", () => {
  it("follows Flux's precedence: digest, semver, tag, latest", () => {
    expect(planOciRef({ digest: D("a"), semver: "*", tag: "v1" })).toEqual({
      kind: "digest",
      digest: D("a"),
    });
    expect(planOciRef({ semver: "1.x", semverFilter: "-rc", tag: "v1" })).toEqual({
      kind: "semver",
      range: "1.x",
      filter: "-rc",
    });
    expect(planOciRef({ tag: "v1" })).toEqual({ kind: "tag", tag: "v1" });
    expect(planOciRef(undefined)).toEqual({ kind: "tag", tag: "latest" });
  });
  it("takes digests and tags other than latest as immutable", () => {
    expect(isOciImmutable(planOciRef({ digest: D("a") }))).toBe(true);
    expect(isOciImmutable(planOciRef({ tag: "1.0.0" }))).toBe(true);
    expect(isOciImmutable(planOciRef({}))).toBe(false);
    expect(isOciImmutable(planOciRef({ semver: "*" }))).toBe(false);
  });
});

describe("pickOciTag", () => {
  const tags = ["1.0.0", "1.1.0", "1.2.0-rc.1", "1.1.1-dev", "2.0.0", "latest", "main-abc123"];
  it("picks the newest version in range", () => {
    expect(pickOciTag("1.x", undefined, tags)).toEqual({ ok: true, value: "1.1.0" });
    expect(pickOciTag(">=1.0.0", undefined, tags)).toEqual({ ok: true, value: "2.0.0" });
  });
  it("applies semverFilter before the range", () => {
    expect(pickOciTag(">=1.0.0-0", ".*-rc.*", tags)).toEqual({ ok: true, value: "1.2.0-rc.1" });
    expect(pickOciTag(">=1.0.0-0", "-dev$", tags)).toEqual({ ok: true, value: "1.1.1-dev" });
  });
  it("reports no match and bad filters", () => {
    expect(pickOciTag("3.x", undefined, tags)).toMatchObject({
      ok: false,
      error: "no tag matches semver 3.x (7 tags seen)",
    });
    expect(pickOciTag("*", "(", tags)).toMatchObject({
      ok: false,
      error: expect.stringContaining("not a valid regular expression"),
    });
  });
});

describe("layer and manifest selection", () => {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    config: { mediaType: "application/vnd.cncf.flux.config.v1+json", digest: D("c"), size: 2 },
    layers: [
      {
        mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
        digest: D("1"),
        size: 10,
      },
      { mediaType: "application/vnd.cncf.flux.content.v1.tar+gzip", digest: D("2"), size: 20 },
    ],
  };
  it("takes the first layer unless a media type is selected", () => {
    expect(selectLayer(manifest, undefined)).toMatchObject({ ok: true, value: { digest: D("1") } });
    expect(
      selectLayer(manifest, { mediaType: "application/vnd.cncf.flux.content.v1.tar+gzip" }),
    ).toMatchObject({
      ok: true,
      value: { digest: D("2") },
    });
    expect(selectLayer(manifest, { mediaType: "text/plain" })).toMatchObject({
      ok: false,
      error: expect.stringContaining("no layer with media type text/plain"),
    });
    expect(selectLayer({ ...manifest, layers: [] }, undefined)).toMatchObject({ ok: false });
  });
  it("knows the layer operations", () => {
    expect(layerOperation(undefined)).toEqual({ ok: true, value: "extract" });
    expect(layerOperation({ operation: "copy" })).toEqual({ ok: true, value: "copy" });
    expect(layerOperation({ operation: "move" }).ok).toBe(false);
  });
  it("picks linux/amd64 from an index, else the first", () => {
    const m = (c: string, os?: string, architecture?: string) => ({
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: D(c),
      size: 1,
      ...(os ? { platform: { os, architecture } } : {}),
    });
    expect(
      selectFromIndex({
        schemaVersion: 2,
        manifests: [m("a", "linux", "arm64"), m("b", "linux", "amd64")],
      })?.digest,
    ).toBe(D("b"));
    expect(selectFromIndex({ schemaVersion: 2, manifests: [m("a")] })?.digest).toBe(D("a"));
  });
});

describe("auth challenges and docker config", () => {
  it("parses WWW-Authenticate", () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"',
      ),
    ).toEqual({
      scheme: "bearer",
      params: {
        realm: "https://auth.example/token",
        service: "registry",
        scope: "repository:a/b:pull",
      },
    });
    expect(parseChallenge('Basic realm="test"')).toEqual({
      scheme: "basic",
      params: { realm: "test" },
    });
    expect(parseChallenge(null)).toBeUndefined();
  });
  it("finds credentials by registry host, whatever the key's form", () => {
    const config = parseDockerConfig(
      JSON.stringify({
        auths: {
          "https://index.docker.io/v1/": { auth: Buffer.from("hub:secret").toString("base64") },
          "127.0.0.1:5000": { username: "u", password: "p:with:colons" },
          "http://reg.example/": { identitytoken: "refresh" },
        },
        credHelpers: { "gcr.io": "gcloud" },
      }),
      "test",
    );
    expect(lookupDockerConfig(config, "index.docker.io")).toEqual({
      kind: "static",
      credentials: { username: "hub", password: "secret" },
    });
    expect(lookupDockerConfig(config, "127.0.0.1:5000")).toEqual({
      kind: "static",
      credentials: { username: "u", password: "p:with:colons" },
    });
    expect(lookupDockerConfig(config, "reg.example")).toEqual({
      kind: "static",
      credentials: { identityToken: "refresh" },
    });
    expect(lookupDockerConfig(config, "gcr.io")).toEqual({ kind: "helper", helper: "gcloud" });
    expect(lookupDockerConfig(config, "ghcr.io")).toEqual({ kind: "none" });
    expect(lookupDockerConfig({ ...config, credsStore: "desktop" }, "ghcr.io")).toEqual({
      kind: "helper",
      helper: "desktop",
    });
    expect(normalizeRegistryKey("docker.io")).toBe("index.docker.io");
  });
  it("says what is wrong with a bad config without echoing it", () => {
    expect(() => parseDockerConfig("{not json", "registry config x")).toThrow(
      "registry config x is not valid JSON",
    );
    expect(() => parseDockerConfig('{"auths": 3}', "y")).toThrow("y is not a docker config file");
  });
});
