/**
 * `npm run build`, second step: the command-line program (dist/cli/entry.js
 * and everything it loads) as ES module files in dist/bundle/, split at its
 * import() seams, dependencies included. Node 20's module loader costs about
 * a millisecond per file and a `build ks` run loads some 300 (execa and zod
 * are ~100 files each); the bundle loads in a third of the time. The entry
 * chunk is what entry.ts statically imports (the run cache's replay: Node
 * built-ins only); the rest loads on a miss. bin/flux-local.js runs the
 * bundle, or dist/cli/entry.js when there is none. The library
 * (dist/index.js) is not bundled.
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

await build({
  entryPoints: { entry: path.join(root, "dist", "cli", "entry.js") },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Bundled CommonJS packages call require() for Node's built-ins.
  banner: {
    js: 'import { createRequire as __fluxLocalRequire } from "node:module"; const require = __fluxLocalRequire(import.meta.url);',
  },
  external: [
    "pino",
    "pino-pretty",
    "isomorphic-git",
    "@bufbuild/cel",
    "@bufbuild/protobuf",
    "difflib",
    "tar-stream",
  ],
  plugins: [englishOnly],
  logLevel: "warning",
});
