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
    // One bundle, no code splitting: a signed-out SPA can still render its sign-in screen.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  test: {
    include: ["client/test/**/*.test.ts", "src/**/*.test.{ts,tsx}"],
    environment: "node",
    restoreMocks: true,
  },
});
