import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SecretVault } from "../../src/artifacts/credentials.js";
import { parseDuration } from "../../src/flux/duration.js";
import { runCredentialHelper } from "../../src/artifacts/oci/docker-config.js";
import {
  redactUrl,
  splitUrlCredentials,
  stripCredentials,
  authorizationHeader,
} from "../../src/artifacts/http.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "flux-local-vault-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, text);
  return p;
}

describe("SecretVault (--secret-file)", () => {
  it("reads data and stringData of plain Secrets, by namespace and name", async () => {
    const f = await file(
      "s.yaml",
      `apiVersion: v1
kind: Secret
metadata: {name: git-auth, namespace: apps}
data:
  username: ${Buffer.from("bot").toString("base64")}
  password: ${Buffer.from("pa55").toString("base64")}
---
apiVersion: v1
kind: Secret
metadata: {name: token}
stringData:
  bearerToken: tok
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ignored}
`,
    );
    const vault = await SecretVault.load([f]);
    expect(vault.gitAuth("apps", "git-auth")).toEqual({ username: "bot", password: "pa55" });
    expect(vault.gitAuth("flux-system", "git-auth")).toBeUndefined();
    // No namespace: matches any.
    expect(vault.gitAuth("anywhere", "token")).toEqual({ bearerToken: "tok" });
  });

  it("reads .dockerconfigjson and legacy .dockercfg", async () => {
    const f = await file(
      "d.yaml",
      `apiVersion: v1
kind: Secret
metadata: {name: regcred, namespace: flux-system}
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '{"auths":{"ghcr.io":{"username":"u","password":"p"}}}'
---
apiVersion: v1
kind: Secret
metadata: {name: old, namespace: flux-system}
stringData:
  .dockercfg: '{"ghcr.io":{"auth":"dTpw"}}'
`,
    );
    const vault = await SecretVault.load([f]);
    expect(vault.dockerConfig("flux-system", "regcred")?.auths?.["ghcr.io"]).toEqual({
      username: "u",
      password: "p",
    });
    expect(vault.dockerConfig("flux-system", "old")?.auths?.["ghcr.io"]).toEqual({ auth: "dTpw" });
  });

  it("refuses SOPS-encrypted, unreadable and empty files with a usage error", async () => {
    const sops = await file(
      "sops.yaml",
      "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata:\n  a: ENC[AES256_GCM,data:abc]\nsops:\n  version: 3.8.1\n",
    );
    await expect(SecretVault.load([sops])).rejects.toThrow(
      /SOPS-encrypted; decrypt it first \(sops -d\)/,
    );
    await expect(SecretVault.load([path.join(dir, "missing.yaml")])).rejects.toThrow(
      /cannot read it \(ENOENT\)/,
    );
    const none = await file("none.yaml", "kind: ConfigMap\n");
    await expect(SecretVault.load([none])).rejects.toThrow(/no Secret in it/);
  });
});

describe("credentials in URLs and headers", () => {
  it("takes user-info out of URLs and messages", () => {
    expect(splitUrlCredentials("https://bot:s3cret@git.example/r.git")).toEqual({
      url: "https://git.example/r.git",
      auth: { username: "bot", password: "s3cret" },
    });
    expect(redactUrl("https://bot:s3cret@git.example/r.git")).toBe("https://git.example/r.git");
    expect(stripCredentials("failed GET https://bot:s3cret@git.example/x: 500")).toBe(
      "failed GET https://git.example/x: 500",
    );
  });
  it("builds Basic and Bearer headers", () => {
    expect(authorizationHeader({ username: "a", password: "b" })).toBe("Basic YTpi");
    expect(authorizationHeader({ bearerToken: "t" })).toBe("Bearer t");
    expect(authorizationHeader(undefined)).toBeUndefined();
  });
});

describe("parseDuration", () => {
  it.each([
    ["60s", 60_000],
    ["1m30s", 90_000],
    ["1h", 3_600_000],
    ["500ms", 500],
    ["1.5s", 1500],
    ["0", 0],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(["", "10", "1 m", "1d", "abc"])("%j is not a duration", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe("docker credential helpers", () => {
  it("asks docker-credential-<helper> get, through the subprocess wrapper", async () => {
    const helper = path.join(dir, "docker-credential-fluxtest");
    await writeFile(
      helper,
      `#!/bin/sh
read host
case "$host" in
  reg.example) echo '{"ServerURL":"reg.example","Username":"bot","Secret":"from-helper"}' ;;
  token.example) echo '{"ServerURL":"token.example","Username":"<token>","Secret":"refresh"}' ;;
  *) echo "credentials not found in native keychain" >&2; exit 1 ;;
esac
`,
      { mode: 0o755 },
    );
    const oldPath = process.env.PATH;
    process.env.PATH = `${dir}:${oldPath ?? ""}`;
    try {
      expect(await runCredentialHelper("fluxtest", "reg.example")).toEqual({
        username: "bot",
        password: "from-helper",
      });
      expect(await runCredentialHelper("fluxtest", "token.example")).toEqual({
        identityToken: "refresh",
      });
      expect(await runCredentialHelper("fluxtest", "other.example")).toBeUndefined();
      await expect(runCredentialHelper("missing-helper", "reg.example")).rejects.toThrow(
        "credential helper docker-credential-missing-helper failed for reg.example",
      );
      await expect(runCredentialHelper("../evil", "reg.example")).rejects.toThrow(
        /bad credential helper name/,
      );
    } finally {
      process.env.PATH = oldPath;
    }
  });
});
