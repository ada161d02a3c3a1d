/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The SPA lives under /app/: Flask serves web/dist there (index.html at /app/, hashed assets under
// /app/assets/). In development `npm run dev` serves it at http://127.0.0.1:5173/app/ and talks
// to the API at VITE_API_URL (see .env.development) cross-origin, with credentials.
export default defineConfig({
  base: "/app/",
  plugins: [react()],
  server: {
    // 127.0.0.1, like the API: same site, so the SameSite=Lax session cookie travels with fetch.
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // dist/.vite/manifest.json: Flask reads it to tell the public shell (entry chunk and its
    // static imports) from the private, lazily loaded chunks served only to signed-in browsers.
    manifest: true,
    // No data: URLs (the CSP allows only 'self').
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  test: {
    include: ["client/test/**/*.test.ts", "src/**/*.test.{ts,tsx}"],
    environment: "node",
    restoreMocks: true,
  },
});
