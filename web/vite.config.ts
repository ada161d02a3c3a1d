/// <reference types="vitest/config" />
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { constants, gzipSync } from "node:zlib";
import { defineConfig, runnerImport, type Plugin } from "vite";
import react from "@vitejs/plugin-react";

/** `@bastion/client`: the client library, imported by name as an app outside this repo would. */
export const CLIENT_ALIAS = { "@bastion/client": fileURLToPath(new URL("./client/src/index.ts", import.meta.url)) };

/** Fail the production build if index.html would need 'unsafe-inline' (our CSP forbids it). */
function noInlineCode(): Plugin {
  return {
    name: "newsroom-no-inline-code",
    apply: "build",
    transformIndexHtml: {
      order: "post",
      handler(html) {
        const problems = [
          /<script(?![^>]*\bsrc=)[^>]*>/i.test(html) && "an inline <script>",
          /<style[\s>]/i.test(html) && "a <style> element",
          /\sstyle\s*=/i.test(html) && "a style attribute",
          /\son[a-z]+\s*=/i.test(html) && "an inline event handler",
          /(src|href)\s*=\s*["']?(https?:)?\/\//i.test(html) && "a resource from another origin",
        ].filter(Boolean);
        if (problems.length > 0) {
          throw new Error(`index.html has ${problems.join(", ")}: the CSP is script-src 'self'; style-src 'self'`);
        }
        return html;
      },
    },
  };
}

interface RouteTable {
  routeManifest: () => { routes: { name: string; pattern: string; public: boolean }[] };
}

/**
 * Write dist/.vite/routes.json from the app's route table (src/routes.tsx), so the server learns
 * which client-side routes are public from the same table the app uses, not from a copy.
 */
function routeManifest(): Plugin {
  let root = "";
  let outDir = "";
  return {
    name: "newsroom-route-manifest",
    apply: "build",
    configResolved(config) {
      root = config.root;
      outDir = resolve(config.root, config.build.outDir);
    },
    async writeBundle() {
      const { module } = await runnerImport<RouteTable>(join(root, "src/routes.tsx"), {
        configFile: false,
        root,
        base: "/app/",
        resolve: { alias: CLIENT_ALIAS },
        logLevel: "error",
      });
      mkdirSync(join(outDir, ".vite"), { recursive: true });
      writeFileSync(join(outDir, ".vite", "routes.json"), JSON.stringify(module.routeManifest(), null, 2) + "\n");
    },
  };
}

/** What nginx's gzip_static may send compressed: text, never already-compressed images. */
const COMPRESSIBLE = /\.(js|css|html|svg|json|txt|map)$/;

/**
 * Write `name.gz` beside each text file of the build, so nginx (`gzip_static on`) sends the
 * compressed copy made once here instead of compressing on every request.
 */
function precompress(): Plugin {
  let outDir = "";
  return {
    name: "newsroom-precompress",
    apply: "build",
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      for (const entry of readdirSync(outDir, { recursive: true, withFileTypes: true })) {
        const path = join(entry.parentPath, entry.name);
        if (!entry.isFile() || !COMPRESSIBLE.test(entry.name) || path.includes("/.vite/")) continue;
        const gz = gzipSync(readFileSync(path), { level: constants.Z_BEST_COMPRESSION });
        writeFileSync(`${path}.gz`, gz);
      }
    },
  };
}

// The SPA lives under /app/: Flask serves web/dist there (index.html at /app/, hashed assets under
// /app/assets/). In development `npm run dev` serves it at http://127.0.0.1:5173/app/ and talks
// to the API at VITE_API_URL (see .env.development) cross-origin, with credentials.
export default defineConfig({
  base: "/app/",
  plugins: [react(), noInlineCode(), routeManifest(), precompress()],
  resolve: { alias: CLIENT_ALIAS },
  server: {
    // 127.0.0.1, like the API: same site, so the SameSite=Lax session cookie travels with fetch.
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    // The stylesheet lives with the server-rendered pages, outside this project (see main.tsx).
    fs: { allow: [".", "../app/newsroom/static"] },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // dist/.vite/manifest.json: Flask reads it to tell the public shell (entry chunk and its
    // static imports) from the private, lazily loaded chunks served only to signed-in browsers.
    // Next to it, routes.json (routeManifest above) says which app paths that shell may render.
    manifest: true,
    // No data: URLs (the CSP allows only 'self').
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  test: {
    include: ["client/test/**/*.test.ts", "src/**/*.test.{ts,tsx}"],
    environment: "node",
    setupFiles: ["src/test/setup.ts"],
    restoreMocks: true,
    testTimeout: 20_000,
  },
});
