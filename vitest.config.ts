import { defineConfig } from "vitest/config";

// Slow suites (real registries, many helm renders) are tagged by file name
// `*.slow.test.ts`; `npm test` skips them unless FLUX_LOCAL_SLOW=1 (CI sets it).
const slow = process.env.FLUX_LOCAL_SLOW === "1";

export default defineConfig({
  test: {
    include: slow ? ["tests/**/*.test.ts"] : ["tests/**/*.test.ts"],
    exclude: slow ? ["node_modules/**"] : ["node_modules/**", "tests/**/*.slow.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    globalSetup: ["tests/support/global-setup.ts"],
  },
});
