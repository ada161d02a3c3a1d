import { defineConfig } from "vitest/config";
import { CLIENT_ALIAS } from "./vite.config";

// `npm run test:live`: the client against a real `newsroom serve` (started by the tests).
export default defineConfig({
  resolve: { alias: CLIENT_ALIAS },
  test: {
    include: ["client/live/**/*.live.test.ts"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 40_000,
  },
});
