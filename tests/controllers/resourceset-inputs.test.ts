/**
 * Combining a ResourceSet's input sets (Flatten, Permute) as the Flux
 * Operator does. Pure logic; tests/run/resourceset-inputs.test.ts checks the
 * same against the real `flux-operator` CLI.
 */
import { describe, expect, it } from "vitest";
import {
  combineInputs,
  inputId,
  normalizeKey,
  staticProviderSets,
  type InputSource,
} from "../../src/controllers/resourceset/inputs.js";

const rset = (sets: InputSource["sets"] = []): InputSource => ({
  apiVersion: "fluxcd.controlplane.io/v1",
  kind: "ResourceSet",
  name: "apps",
  namespace: "flux-system",
  sets,
});
const provider = (name: string, sets: InputSource["sets"]): InputSource => ({
  apiVersion: "fluxcd.controlplane.io/v1",
  kind: "ResourceSetInputProvider",
  name,
  namespace: "flux-system",
  sets,
});
const tag = (kind: string, name: string) => ({
  apiVersion: "fluxcd.controlplane.io/v1",
  kind,
  name,
  namespace: "flux-system",
});

describe("ResourceSet inputs", () => {
  it("computes ids as the operator's Adler-32 checksum", () => {
    expect(inputId("")).toBe("1");
    expect(inputId("a")).toBe(String(0x00620062));
    expect(inputId("Wikipedia")).toBe(String(0x11e60398));
    expect(staticProviderSets("regions", { region: "eu" })).toEqual([
      { region: "eu", id: inputId("regions") },
    ]);
  });

  it("normalizes provider names for templates", () => {
    expect(normalizeKey("team-alpha")).toBe("team_alpha");
    expect(normalizeKey("My Provider.v2")).toBe("my_provider_v2");
    expect(normalizeKey("--a__b--")).toBe("a_b");
    expect(normalizeKey("émoji🙂x")).toBe("mojix");
    expect(normalizeKey("---")).toBe("");
  });

  it("flattens: inline sets first, then providers by name, each tagged with its provider", () => {
    const out = combineInputs("Flatten", false, rset([{ team: "inline" }]), [
      provider("zeta", [{ team: "z1" }, { team: "z2" }]),
      provider("alpha", [{ team: "a" }]),
    ]);
    expect(out).toEqual([
      { team: "inline", provider: tag("ResourceSet", "apps") },
      { team: "a", provider: tag("ResourceSetInputProvider", "alpha") },
      { team: "z1", provider: tag("ResourceSetInputProvider", "zeta") },
      { team: "z2", provider: tag("ResourceSetInputProvider", "zeta") },
    ]);
  });

  it("permutes: every combination, first provider slowest, scoped by name, with an id", () => {
    const out = combineInputs("Permute", false, rset(), [
      provider("regions", [{ r: "eu" }, { r: "us" }]),
      provider("envs", [{ e: "prod" }, { e: "dev" }]),
    ]);
    expect(out.map((s) => [(s.envs as { e: string }).e, (s.regions as { r: string }).r])).toEqual([
      ["prod", "eu"],
      ["prod", "us"],
      ["dev", "eu"],
      ["dev", "us"],
    ]);
    expect(out.map((s) => s.id)).toEqual([
      inputId("envs=0/regions=0"),
      inputId("envs=0/regions=1"),
      inputId("envs=1/regions=0"),
      inputId("envs=1/regions=1"),
    ]);
    expect(out[0]?.envs).toEqual({ e: "prod", provider: tag("ResourceSetInputProvider", "envs") });
  });

  it("permutes without empty providers, unless includeEmptyProviders", () => {
    const providers = [provider("a", [{ x: 1 }]), provider("b", [])];
    expect(combineInputs("Permute", false, rset(), providers)).toHaveLength(1);
    expect(combineInputs("Permute", true, rset(), providers)).toEqual([]);
    expect(combineInputs("Permute", false, rset(), [])).toEqual([]);
  });

  it("refuses more than 10,000 combinations and names that normalize to nothing", () => {
    const many = Array.from({ length: 101 }, (_, i) => ({ i }));
    expect(() =>
      combineInputs("Permute", false, rset(), [provider("a", many), provider("b", many)]),
    ).toThrow(/maximum allowed permutations. max: 10000, got: 10201/);
    expect(() => combineInputs("Permute", false, rset(), [provider("--", [{}])])).toThrow(
      /normalized provider name is empty/,
    );
  });
});
