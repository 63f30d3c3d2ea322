/**
 * `npm run build`, second step: the command-line program as three files in
 * dist/bundle/, dependencies included, all CommonJS.
 *
 * - code-cache.cjs: src/cli/code-cache.ts, which loads the other two
 *   through V8's code cache.
 * - entry.cjs: what src/cli/entry.ts loads before it knows whether the run
 *   cache answers, Node built-ins and the run cache's replay only.
 *   CommonJS, as bin/flux-local.js is: a replayed run is ~15 ms beyond
 *   Node's start-up, and an ES module costs ~3.5 ms more to start (Node sets
 *   up its loader) and imports built-ins through facades that load what they
 *   only offer (node:fs's streams: ~1.7 ms).
 * - parts.cjs: everything else (src/cli/parts.ts), loaded on a
 *   miss through V8's code cache (src/cli/code-cache.ts). Node 20 has no
 *   code cache for ES modules, and compiling the program was a third of a
 *   short run: from the cache it loads in a few milliseconds. The program's
 *   own import() seams stay lazy inside the file (esbuild runs a module's
 *   top level only when it is first imported).
 *
 * bin/flux-local.js runs the bundle, or dist/cli/entry.js when there is none.
 * The files find their folder from `__filename` (`import.meta.url` in the
 * compiled modules becomes `__fluxLocalUrl`).
 * The library (dist/index.js) is not bundled.
 *
 * Left outside (loaded from node_modules as before): packages loaded only by
 * some runs, at their own import() or require() seams, and difflib (it
 * assigns a function's `name`, which strict mode refuses).
 */
import { build, type Plugin } from "esbuild";
import { rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outdir = path.join(root, "dist", "bundle");
rmSync(outdir, { recursive: true, force: true });

/**
 * zod's `z` namespace carries `z.locales`, error messages in 60-odd languages
 * (~370 KB of the bundle, parsed at every start-up). We use English, the
 * default, only: `z.locales` (and `z.core.locales`) hold English alone.
 */
const englishOnly: Plugin = {
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](?:classic|core)$/.test(args.resolveDir)
        ? {
            path: path.join(args.resolveDir, "..", "locales", "index.js"),
            namespace: "zod-locales",
          }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: path.dirname(args.path),
      loader: "js",
    }));
  },
};

const external = [
  "pino",
  "pino-pretty",
  "isomorphic-git",
  "@bufbuild/cel",
  "@bufbuild/protobuf",
  "difflib",
  "tar-stream",
];

/** The entry's src/cli/load-parts.ts, for the bundle: parts.cjs through the code cache. */
const partsThroughCodeCache: Plugin = {
  name: "parts-through-code-cache",
  setup(b) {
    b.onResolve({ filter: /[\\/]load-parts\.js$/ }, (args) => ({
      path: path.resolve(args.resolveDir, args.path),
      namespace: "load-parts",
    }));
    b.onLoad({ filter: /.*/, namespace: "load-parts" }, (args) => ({
      contents: [
        'const { keepCodeCache, loadCommonJs } = require("./code-cache.cjs");',
        "export function loadParts() {",
        '  return Promise.resolve(loadCommonJs(new URL("./parts.cjs", __fluxLocalUrl)));',
        "}",
        "export function partsLoaded() {",
        "  keepCodeCache();",
        "}",
      ].join("\n"),
      resolveDir: path.dirname(args.path),
      loader: "js",
    }));
  },
};

/** Where each CommonJS file is, as the modules' `import.meta.url` (defined as this). */
const ownUrl = {
  define: { "import.meta.url": "__fluxLocalUrl" },
  // "use strict" first: esbuild's own comes after the banner, where it is no directive.
  banner: {
    js: '"use strict";\nconst __fluxLocalUrl = require("node:url").pathToFileURL(__filename).href;',
  },
};

/** One CommonJS file of the bundle, dist/bundle/<name>.cjs, from dist/cli/<module>.js. */
const commonJs = (name: string, module: string) =>
  ({
    entryPoints: { [name]: path.join(root, "dist", "cli", `${module}.js`) },
    outdir,
    outExtension: { ".js": ".cjs" },
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    // The modules find their package from their own address: the bundle's.
    ...ownUrl,
    logLevel: "warning",
  }) as const;

// The code cache's loader, on its own: bin/flux-local.js loads the entry
// through it, and the entry the parts (one instance: Node's require cache).
await build(commonJs("code-cache", "code-cache"));

await build({
  ...commonJs("entry", "entry"),
  external: [...external, "./code-cache.cjs"],
  plugins: [partsThroughCodeCache],
});

await build({
  ...commonJs("parts", "parts"),
  // import() of a package left outside becomes require(): a script compiled
  // with a code cache (node:vm) has no import() without
  // --experimental-vm-modules on Node 20. Each such package has a CommonJS
  // form (tests/cli/bundle.test.ts fetches a Git source through the bundle).
  supported: { "dynamic-import": false },
  external,
  plugins: [englishOnly],
});
